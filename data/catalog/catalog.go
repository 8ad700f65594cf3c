// Package catalog names the benchmark data sets, so commands accept
// "mnist", "cifar10", "usps", "coil20", "thyroid", the embedded
// "demo-digits" and "demo-tabular" (package data/demo, no files needed) or an
// ADBench file's name as well as a path.
//
// The data sets live in one folder: the one given to SetRoot (the
// commands' --datasets flag), else $ODDITY_DATASETS, else
// ../shared/datasets relative to the working directory. Every command
// resolves named data sets here, and a missing one is an error that says
// where it looked and how to point elsewhere.
package catalog

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every format
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/data/demo"
	"github.com/oddity-ml/oddity/data/idx"
	"github.com/oddity-ml/oddity/data/imagefolder"
	"github.com/oddity-ml/oddity/data/matfile"
)

// EnvRoot is the environment variable naming the data-set folder.
const EnvRoot = "ODDITY_DATASETS"

var root string // set by SetRoot

// SetRoot makes dir the data-set folder, ahead of $ODDITY_DATASETS (the
// commands call it with their --datasets flag); "" restores the default.
func SetRoot(dir string) { root = dir }

// Root returns the data-set folder.
func Root() string {
	d, _ := rootAndSource()
	return d
}

// rootAndSource returns the data-set folder and what chose it.
func rootAndSource() (dir, source string) {
	if root != "" {
		return root, "--datasets"
	}
	if d := os.Getenv(EnvRoot); d != "" {
		return d, "$" + EnvRoot
	}
	return filepath.Join("..", "shared", "datasets"), "the default, ../shared/datasets"
}

// missing wraps err about the named data set with where it was looked for
// and how to look elsewhere.
func missing(name, path string, err error) error {
	dir, source := rootAndSource()
	return fmt.Errorf("data set %s: looked for %s in %s (%s): %w; point --datasets or $%s at the folder that holds it",
		name, path, dir, source, err, EnvRoot)
}

// Names lists the built-in names.
func Names() []string {
	return []string{"mnist", "cifar10", "usps", "coil20", "thyroid", "demo-digits", "demo-tabular", "adbench/<name>"}
}

// Splits is a named data set's training and test parts. Data sets without
// an official split have Test nil.
type Splits struct {
	Train, Test *data.Dataset
}

// All returns the training and test parts joined (Train alone when there is
// no test part).
func (s *Splits) All() (*data.Dataset, error) {
	if s.Test == nil {
		return s.Train, nil
	}
	return data.Concat(s.Train.Name, s.Train, s.Test)
}

// Load resolves name: a built-in name, "adbench/<file>" (with or without
// .npz), or otherwise a path given to data.Load with opts.
func Load(name string, opts ...data.Option) (*Splits, error) {
	root := Root()
	in := func(rel string) string { return filepath.Join(root, rel) }
	switch strings.ToLower(name) {
	case "mnist":
		tr, te, err := idx.LoadMNIST(in("mnist"))
		if err != nil {
			return nil, missing("mnist", "mnist/", err)
		}
		return &Splits{tr, te}, nil
	case "cifar10", "cifar-10":
		tr, te, err := imagefolder.LoadCIFAR10(in("cifar10/cifar10-jpeg.tar.gz"))
		if err != nil {
			return nil, missing("cifar10", "cifar10/cifar10-jpeg.tar.gz", err)
		}
		return &Splits{tr, te}, nil
	case "usps":
		tr, te, err := matfile.LoadUSPSSplits(in("usps/usps.mat"))
		if err != nil {
			return nil, missing("usps", "usps/usps.mat", err)
		}
		return &Splits{tr, te}, nil
	case "coil20", "coil-20":
		d, err := matfile.LoadCOIL20(in("coil20/COIL20.mat"))
		if err != nil {
			return nil, missing("coil20", "coil20/COIL20.mat", err)
		}
		return &Splits{Train: d}, nil
	case "thyroid", "uci-thyroid":
		d, err := csvfile.LoadUCIThyroid(in("uci-thyroid"))
		if err != nil {
			return nil, missing("thyroid", "uci-thyroid/", err)
		}
		return &Splits{Train: d}, nil
	case demo.DigitsName:
		tr, te, err := demo.Digits()
		if err != nil {
			return nil, err
		}
		return &Splits{tr, te}, nil
	case demo.TabularName:
		d, err := demo.Tabular()
		if err != nil {
			return nil, err
		}
		return &Splits{Train: d}, nil
	}
	if rest, ok := strings.CutPrefix(name, "adbench/"); ok {
		if !strings.HasSuffix(rest, ".npz") {
			rest += ".npz"
		}
		d, err := data.Load(in(filepath.Join("adbench", rest)), opts...)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, missing(name, filepath.Join("adbench", rest), err)
		}
		if err != nil {
			return nil, err
		}
		return &Splits{Train: d}, nil
	}
	if _, err := os.Stat(name); err != nil {
		return nil, fmt.Errorf("data %q is neither a file nor one of %v", name, Names())
	}
	d, err := data.Load(name, opts...)
	if err != nil {
		return nil, err
	}
	return &Splits{Train: d}, nil
}

// ADBench lists the ADBench files in the data-set folder, sorted by name.
func ADBench() ([]string, error) {
	m, err := filepath.Glob(filepath.Join(Root(), "adbench", "*.npz"))
	if err != nil {
		return nil, err
	}
	if len(m) == 0 {
		return nil, missing("adbench", "adbench/*.npz", fs.ErrNotExist)
	}
	sort.Strings(m)
	return m, nil
}

package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/spf13/pflag"

	"github.com/oddity-ml/oddity/data"
	_ "github.com/oddity-ml/oddity/data/all" // every file format
	"github.com/oddity-ml/oddity/data/catalog"
	"github.com/oddity-ml/oddity/data/csvfile"
	"github.com/oddity-ml/oddity/dplan"
	"github.com/oddity-ml/oddity/option"
)

// dplanFlags binds every DPLAN option to a flag, with the package default.
func dplanFlags(fs *pflag.FlagSet, o *dplan.Options, paper *bool) {
	*o = dplan.DefaultOptions()
	fs.BoolVar(paper, "paper", false, "start from the paper's settings (dplan.PaperOptions) instead of the package defaults; explicit flags still apply")
	option.Bind(fs, o)
	fs.Uint64Var(&o.Seed, "seed", o.Seed, "random seed")
}

// applyPaper replaces the options with PaperOptions, keeping the flags the
// user set explicitly.
func applyPaper(fs *pflag.FlagSet, o *dplan.Options) error {
	set := *o
	*o = dplan.PaperOptions()
	o.Seed = set.Seed
	var err error
	fs.Visit(func(f *pflag.Flag) {
		if err == nil {
			err = fs.Set(f.Name, f.Value.String())
		}
	})
	return err
}

// loadTabular reads a named data set (thyroid, adbench/NAME: package
// data/catalog), a data file, or a UCI thyroid folder (ann-train.data +
// ann-test.data).
func loadTabular(path, labelCol string) (*data.Dataset, error) {
	if st, err := os.Stat(path); err == nil && st.IsDir() {
		return csvfile.LoadUCIThyroid(path)
	}
	if _, err := os.Stat(path); err != nil {
		s, err := catalog.Load(path)
		if err != nil {
			return nil, err
		}
		return s.All()
	}
	var opts []data.Option
	if labelCol != "" {
		opts = append(opts, data.WithLabelColumn(labelCol))
	}
	return data.Load(path, opts...)
}

// parseClasses parses "1,2" into class labels.
func parseClasses(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		var c int
		if _, err := fmt.Sscan(strings.TrimSpace(f), &c); err != nil {
			return nil, fmt.Errorf("bad class list %q", s)
		}
		out = append(out, c)
	}
	return out, nil
}

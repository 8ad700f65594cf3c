package imagefolder

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/data"
)

// Layout is how a folder of images is organised (see Detect).
type Layout int

const (
	// Unknown is no recognised layout.
	Unknown Layout = iota
	// Flat is a folder of normal images, or a single image file (LoadFlat).
	Flat
	// MVTec is the MVTec AD layout: train/good, test/<defect>, optional
	// ground_truth (LoadMVTec).
	MVTec
	// ClassSplits is one folder per class, optionally under split folders
	// (root/[split/]class/image), or a tar archive of that (LoadSplits).
	ClassSplits
)

// String names the layout.
func (l Layout) String() string {
	switch l {
	case Flat:
		return "flat"
	case MVTec:
		return "mvtec"
	case ClassSplits:
		return "class-splits"
	}
	return "unknown"
}

// visible lists the entries of dir not starting with '.', as sub-folders and
// other entries (symbolic links followed).
func visible(dir string) (dirs, files []string, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, nil, err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		if e.IsDir() || (e.Type()&fs.ModeSymlink != 0 && isDir(filepath.Join(dir, name))) {
			dirs = append(dirs, name)
		} else {
			files = append(files, name)
		}
	}
	return dirs, files, nil
}

func isTarName(name string) bool {
	name = strings.ToLower(name)
	for _, ext := range []string{".tar", ".tar.gz", ".tgz"} {
		if strings.HasSuffix(name, ext) {
			return true
		}
	}
	return false
}

// fileHead returns the first n bytes of a file (fewer when it is shorter).
func fileHead(p string, n int) []byte {
	f, err := os.Open(p)
	if err != nil {
		return nil
	}
	defer f.Close()
	b := make([]byte, n)
	k, _ := io.ReadFull(f, b)
	return b[:k]
}

var errFound = errors.New("found")

// imageBelow returns the slash-separated path, relative to dir, of a .png,
// .jpg or .jpeg file in a sub-folder of dir (not in dir itself), or "".
// Hidden entries are passed over.
func imageBelow(dir string) (string, error) {
	var found string
	err := filepath.WalkDir(dir, func(file string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if file == dir {
			return nil
		}
		if strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.IsDir() && isImage(d.Name()) && filepath.Dir(file) != dir {
			found, _ = filepath.Rel(dir, file)
			return errFound
		}
		return nil
	})
	if err == errFound {
		return filepath.ToSlash(found), nil
	}
	return "", err
}

// Detect says how the folder (or file) at p is laid out, trying in order:
//
//   - a PNG or JPEG file (by extension or signature): Flat;
//   - a tar archive (.tar, .tar.gz, .tgz or a tar header): ClassSplits;
//   - a folder with train/good and no other folder in train/: MVTec;
//   - a folder with PNG or JPEG files directly in it and none in
//     sub-folders: Flat;
//   - a folder with .png, .jpg or .jpeg files in sub-folders (at any depth,
//     read as root/[split/]class/image) and none directly in it:
//     ClassSplits.
//
// Anything else is an error describing what was found: images both directly
// in the folder and in sub-folders (ambiguous; LoadFlat and LoadSplits still
// read such a folder each its own way), no images at all, or several MVTec AD
// categories (load one of them).
func Detect(p string) (Layout, error) {
	st, err := os.Stat(p)
	if err != nil {
		return Unknown, fmt.Errorf("imagefolder: %w", err)
	}
	if !st.IsDir() {
		head := fileHead(p, 512)
		switch {
		case isImage(filepath.Base(p)) || isImageHead(head):
			return Flat, nil
		case isTarName(p) || isTar(head):
			return ClassSplits, nil
		}
		return Unknown, fmt.Errorf("imagefolder %s: a file that is neither a PNG or JPEG image nor a tar archive: %w", p, data.ErrUnknownFormat)
	}
	dirs, files, err := visible(p)
	if err != nil {
		return Unknown, fmt.Errorf("imagefolder: %w", err)
	}
	if isDir(filepath.Join(p, "train", normalFolder)) {
		tdirs, _, err := visible(filepath.Join(p, "train"))
		if err != nil {
			return Unknown, fmt.Errorf("imagefolder: %w", err)
		}
		if len(tdirs) == 1 {
			return MVTec, nil
		}
	}
	var others []string
	top := 0
	for _, f := range files {
		if isImage(f) || isImageHead(fileHead(filepath.Join(p, f), 8)) {
			top++
		} else {
			others = append(others, f)
		}
	}
	var categories []string
	for _, d := range dirs {
		if isDir(filepath.Join(p, d, "train", normalFolder)) {
			categories = append(categories, d)
		}
	}
	if len(categories) > 0 {
		return Unknown, fmt.Errorf("imagefolder %s: holds %d MVTec AD categories (%s): load one category's folder: %w",
			p, len(categories), list(categories), data.ErrNoData)
	}
	below, err := imageBelow(p)
	if err != nil {
		return Unknown, fmt.Errorf("imagefolder: %w", err)
	}
	switch {
	case top > 0 && below != "":
		return Unknown, fmt.Errorf("imagefolder %s: ambiguous: %d images directly in it (flat) and more in sub-folders such as %s (class folders): %w",
			p, top, below, data.ErrNoData)
	case top > 0:
		return Flat, nil
	case below != "":
		return ClassSplits, nil
	}
	what := "an empty folder"
	if len(others)+len(dirs) > 0 {
		what = fmt.Sprintf("%d files that are not PNG or JPEG images", len(others))
		if len(others) > 0 {
			what += " (" + list(others) + ")"
		}
		what += fmt.Sprintf(" and %d sub-folders", len(dirs))
		if len(dirs) > 0 {
			what += " (" + list(dirs) + ")"
		}
		what += ", with no images below"
	}
	return Unknown, fmt.Errorf("imagefolder %s: %s; want images in it (flat), train/good and test/<defect>/ (MVTec AD), or <class>/ folders of images: %w",
		p, what, data.ErrNoData)
}

package imagefolder

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/oddity-ml/oddity/data"
)

// MVTecData is one MVTec AD category (or a folder laid out the same way)
// read by LoadMVTec. All its images share one shape C×S×S.
type MVTecData struct {
	// Train holds train/good: normal images, all labelled 0.
	Train *data.Dataset
	// TrainNames names the training samples, relative to the root
	// ("train/good/000.png"), in sample order.
	TrainNames []string
	// Test holds the images of every test/<folder>/: label 0 (normal) for
	// test/good, 1 (anomaly) for every other folder, a defect type.
	// ClassNames is {"normal", "anomaly"}, as in package protocol. Test is
	// nil when there is no test/ folder.
	Test *data.Dataset
	// TestNames names the test samples ("test/crack/001.png"), in sample
	// order: by folder, then file name.
	TestNames []string
	// Defect is each test sample's folder name: "good" or its defect type.
	Defect []string
	// DefectNames lists the defect types (test folders other than good) in
	// name order.
	DefectNames []string
	// Masks holds one 1×S×S ground-truth mask per test sample, aligned with
	// Test, values 0 or 1; nil when there is no ground_truth/ folder.
	Masks *data.Dataset
	// HasMask says whether each test sample's mask is known: true for a
	// normal image (all 0 unless it has a mask file) and for a defect image
	// whose mask file was found; a defect image without one has an all-zero
	// mask and false here.
	HasMask []bool
}

// normalFolder is the folder of normal images in train/ and test/.
const normalFolder = "good"

// maskFile finds the ground-truth mask of test/<defect>/<file> under
// ground_truth/<defect>/: <stem>_mask.png (MVTec AD), <stem>.png (anomalib's
// folder datasets), or either name with the image's own extension.
func maskFile(gt, defect, file string) (string, bool) {
	ext := filepath.Ext(file)
	stem := strings.TrimSuffix(file, ext)
	for _, name := range []string{stem + "_mask.png", stem + ".png", stem + "_mask" + ext, stem + ext} {
		p := filepath.Join(gt, defect, name)
		if st, err := os.Stat(p); err == nil && st.Mode().IsRegular() {
			return p, true
		}
	}
	return "", false
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// LoadMVTec reads a folder in the MVTec AD layout (also anomalib's):
//
//	dir/train/good/*.png            normal training images
//	dir/test/good/*.png             normal test images (label 0)
//	dir/test/<defect>/*.png         anomalous test images (label 1)
//	dir/ground_truth/<defect>/<name>_mask.png   optional masks
//
// bringing every image, training and test alike, to one shape as LoadFlat
// does (the automatic side and channel count are chosen over all of them).
// Masks go through the same placement (resize or pad) with nearest-neighbour
// sampling and are thresholded at half intensity to 0 or 1. A mask of another
// size than its image is an error. Non-image files and stray folders are
// skipped with a note to opt.Note.
func LoadMVTec(dir string, opt FlatOptions) (*MVTecData, error) {
	out, err := loadMVTec(dir, opt)
	if err != nil {
		return nil, fmt.Errorf("imagefolder %s: %w", dir, err)
	}
	return out, nil
}

func loadMVTec(dir string, opt FlatOptions) (*MVTecData, error) {
	o, err := opt.check()
	if err != nil {
		return nil, err
	}
	trainDir := filepath.Join(dir, "train", normalFolder)
	if !isDir(trainDir) {
		return nil, fmt.Errorf("no train/%s folder of normal images (MVTec AD layout): %w", normalFolder, data.ErrNoData)
	}
	if err := noteStrays(filepath.Join(dir, "train"), o, normalFolder); err != nil {
		return nil, err
	}
	train, err := listImages(trainDir, "train/"+normalFolder, o)
	if err != nil {
		return nil, err
	}
	if len(train) == 0 {
		return nil, fmt.Errorf("no PNG or JPEG images in train/%s: %w", normalFolder, data.ErrNoData)
	}
	out := &MVTecData{}
	var test []source
	testDir := filepath.Join(dir, "test")
	gt := filepath.Join(dir, "ground_truth")
	hasGT := isDir(gt)
	if isDir(testDir) {
		entries, err := os.ReadDir(testDir)
		if err != nil {
			return nil, err
		}
		var stray []string
		for _, e := range entries {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			if !isDir(filepath.Join(testDir, name)) {
				stray = append(stray, name)
				continue
			}
			srcs, err := listImages(filepath.Join(testDir, name), "test/"+name, o)
			if err != nil {
				return nil, err
			}
			if len(srcs) == 0 {
				o.note("%s: no images in test/%s", dir, name)
				continue
			}
			if name != normalFolder {
				out.DefectNames = append(out.DefectNames, name)
			}
			var missing []string
			for _, s := range srcs {
				known := name == normalFolder
				if hasGT {
					if m, ok := maskFile(gt, name, filepath.Base(s.file)); ok {
						rel, _ := filepath.Rel(dir, m)
						s.mask, s.mkey, known = m, filepath.ToSlash(rel), true
					}
				}
				if hasGT && !known {
					missing = append(missing, s.name)
				}
				out.Defect = append(out.Defect, name)
				out.HasMask = append(out.HasMask, known)
				test = append(test, s)
			}
			if len(missing) > 0 {
				o.note("%s: %d images of test/%s have no mask in ground_truth/%s (taken as all zero): %s", dir, len(missing), name, name, list(missing))
			}
		}
		if len(stray) > 0 {
			o.note("%s: skipped %d files directly in test/: %s", dir, len(stray), list(stray))
		}
	}
	all := append(append([]source(nil), train...), test...)
	side, err := o.prepare(all)
	if err != nil {
		return nil, err
	}
	if err := o.load(all, side); err != nil {
		return nil, err
	}
	c := o.channels(all)
	base := filepath.Base(dir)
	out.Train = assemble(base+":train", all[:len(train)], c, side)
	out.Train.Y = make([]int, len(train))
	out.Train.ClassNames = []string{"normal", "anomaly"}
	out.TrainNames = names(all[:len(train)])
	if len(test) == 0 {
		out.Defect, out.HasMask = nil, nil
		return out, nil
	}
	tsrcs := all[len(train):]
	out.Test = assemble(base+":test", tsrcs, c, side)
	out.Test.ClassNames = []string{"normal", "anomaly"}
	out.Test.Y = make([]int, len(tsrcs))
	for i, d := range out.Defect {
		if d != normalFolder {
			out.Test.Y[i] = 1
		}
	}
	out.TestNames = names(tsrcs)
	if !hasGT {
		out.HasMask = nil
		return out, nil
	}
	n := side * side
	out.Masks = &data.Dataset{Name: base + ":masks", N: len(tsrcs), Shape: []int{1, side, side}, X: make([]float32, len(tsrcs)*n)}
	for i := range tsrcs {
		s := &tsrcs[i]
		if s.mpix == nil {
			continue
		}
		dst := out.Masks.X[i*n : (i+1)*n]
		for j, v := range s.mpix {
			dst[j] = float32(v)
		}
		s.mpix = nil
	}
	return out, nil
}

// noteStrays notes entries of dir other than the expected folder.
func noteStrays(dir string, o FlatOptions, want string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var stray []string
	for _, e := range entries {
		if name := e.Name(); name != want && !strings.HasPrefix(name, ".") {
			stray = append(stray, name)
		}
	}
	if len(stray) > 0 {
		o.note("%s: skipped %s (only %s/ is read)", dir, list(stray), want)
	}
	return nil
}

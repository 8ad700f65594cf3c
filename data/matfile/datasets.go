package matfile

import (
	"fmt"
	"strconv"

	"github.com/oddity-ml/oddity/data"
)

// transposeImages turns each row of x, a column-major side×side image as
// MATLAB stores it, into a row-major (upright) one, in place.
func transposeImages(x []float32, n, side int) {
	tmp := make([]float32, side*side)
	for i := 0; i < n; i++ {
		img := x[i*side*side : (i+1)*side*side]
		for col := 0; col < side; col++ {
			for row := 0; row < side; row++ {
				tmp[row*side+col] = img[col*side+row]
			}
		}
		copy(img, tmp)
	}
}

func numeric(path string, vars []*Variable, name string, rows, cols int) (*Variable, error) {
	v := Find(vars, name)
	if v == nil {
		return nil, fmt.Errorf("mat %s: no numeric variable %q (numeric variables: %s): %w", path, name, numericNames(vars), data.ErrNoData)
	}
	r, c := v.Dims[0], 1
	for _, d := range v.Dims[1:] {
		c *= d
	}
	if (rows >= 0 && r != rows) || c != cols {
		return nil, fmt.Errorf("mat %s: variable %q is %v, want %dx%d: %w", path, name, v.Dims, rows, cols, data.ErrMalformed)
	}
	return v, nil
}

// LoadCOIL20 reads COIL20.mat (variables fea, 1440x1024, and gnd, labels
// 1..20) into 1440 upright grey images of shape [1,32,32] in [0,1] with
// labels 0..19 (object k+1 has label k).
func LoadCOIL20(path string) (*data.Dataset, error) {
	vars, err := ReadFile(path)
	if err != nil {
		return nil, err
	}
	fea, err := numeric(path, vars, "fea", -1, 1024)
	if err != nil {
		return nil, err
	}
	gnd, err := numeric(path, vars, "gnd", fea.Dims[0], 1)
	if err != nil {
		return nil, err
	}
	n, _, x := fea.Rows()
	transposeImages(x, n, 32)
	y, err := gnd.Array.Labels()
	if err != nil {
		return nil, fmt.Errorf("mat %s: %w", path, err)
	}
	names := make([]string, 20)
	for i := range names {
		names[i] = "obj" + strconv.Itoa(i+1)
	}
	for i := range y {
		if y[i] < 1 || y[i] > 20 {
			return nil, fmt.Errorf("mat %s: gnd[%d] = %d is not an object 1..20: %w", path, i, y[i], data.ErrMalformed)
		}
		y[i]--
	}
	ds := &data.Dataset{Name: "coil20", X: x, N: n, Shape: []int{1, 32, 32}, Y: y, ClassNames: names}
	return ds, ds.Validate()
}

// usps reads one USPS split: 256 columns of a column-major 16x16 image per
// row and a one-hot label matrix whose column k means digit (k+1) mod 10.
func usps(path string, vars []*Variable, xname, yname string) (*data.Dataset, error) {
	xv, err := numeric(path, vars, xname, -1, 256)
	if err != nil {
		return nil, err
	}
	yv, err := numeric(path, vars, yname, xv.Dims[0], 10)
	if err != nil {
		return nil, err
	}
	n, _, x := xv.Rows()
	transposeImages(x, n, 16)
	_, _, onehot := yv.Rows()
	y := make([]int, n)
	for i := range y {
		hot := -1
		for k, v := range onehot[i*10 : (i+1)*10] {
			switch v {
			case 0:
			case 1:
				if hot >= 0 {
					return nil, fmt.Errorf("mat %s: %s row %d has two ones: %w", path, yname, i, data.ErrMalformed)
				}
				hot = k
			default:
				return nil, fmt.Errorf("mat %s: %s row %d holds %v, not 0/1: %w", path, yname, i, v, data.ErrMalformed)
			}
		}
		if hot < 0 {
			return nil, fmt.Errorf("mat %s: %s row %d has no one: %w", path, yname, i, data.ErrMalformed)
		}
		y[i] = (hot + 1) % 10
	}
	ds := &data.Dataset{Name: "usps-" + xname, X: x, N: n, Shape: []int{1, 16, 16}, Y: y,
		ClassNames: []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}}
	return ds, ds.Validate()
}

// LoadUSPSSplits reads usps.mat into its training (7,291: train_X, train_Y)
// and test (2,007: test_x, test_y) parts: upright [1,16,16] images with
// labels the digits 0..9 (the one-hot column k of the file means digit
// (k+1) mod 10).
func LoadUSPSSplits(path string) (train, test *data.Dataset, err error) {
	vars, err := ReadFile(path)
	if err != nil {
		return nil, nil, err
	}
	if train, err = usps(path, vars, "train_X", "train_Y"); err != nil {
		return nil, nil, err
	}
	if test, err = usps(path, vars, "test_x", "test_y"); err != nil {
		return nil, nil, err
	}
	return train, test, nil
}

// LoadUSPS reads all 9,298 USPS digits of usps.mat (the training part, then
// the test part) as in LoadUSPSSplits.
func LoadUSPS(path string) (*data.Dataset, error) {
	train, test, err := LoadUSPSSplits(path)
	if err != nil {
		return nil, err
	}
	return data.Concat("usps", train, test)
}

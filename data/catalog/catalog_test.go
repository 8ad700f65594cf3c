package catalog

import (
	"path/filepath"
	"testing"

	"github.com/oddity-ml/oddity/internal/shared"
)

func TestNamedSets(t *testing.T) {
	dir := shared.Path(t, "usps")
	t.Setenv("ODDITY_DATASETS", filepath.Dir(dir))
	for _, c := range []struct {
		name         string
		train, test  int
		shape0, dims int
	}{
		{"usps", 7291, 2007, 1, 256},
		{"coil20", 1440, 0, 1, 1024},
		{"thyroid", 7200, 0, 21, 21},
		{"adbench/2_annthyroid", 7200, 0, 6, 6},
	} {
		s, err := Load(c.name)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Train.N != c.train || (c.test > 0 && s.Test.N != c.test) || s.Train.Dim() != c.dims {
			t.Errorf("%s: train %d test %v dim %d", c.name, s.Train.N, s.Test, s.Train.Dim())
		}
		all, err := s.All()
		if err != nil || all.N != c.train+c.test {
			t.Errorf("%s: All() = %v, %v", c.name, all, err)
		}
	}
	if _, err := Load("no-such-set"); err == nil {
		t.Error("unknown name accepted")
	}
	files, err := ADBench()
	if err != nil || len(files) != 21 {
		t.Errorf("ADBench() = %d files, %v", len(files), err)
	}
}

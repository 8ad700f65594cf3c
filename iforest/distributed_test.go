package iforest

import (
	"bytes"
	"errors"
	"testing"
)

// gather returns rows (in the given order) of the n x d matrix x.
func gather(x []float32, d int, rows []int) []float32 {
	sub := make([]float32, 0, len(rows)*d)
	for _, r := range rows {
		sub = append(sub, x[r*d:r*d+d]...)
	}
	return sub
}

// growAll grows every tree of opt (whose MaxSamples is set) separately, the
// way a distributed fit does, and assembles them. The trees are grown in a
// scrambled order (nTrees must not be a multiple of 7) to show that only the
// tree index matters.
func growAll(t *testing.T, x []float32, n, d int, opt Options, nTrees int) *Forest {
	t.Helper()
	parts := make([]*Forest, nTrees)
	for i := range nTrees {
		tr := (i*7 + 3) % nTrees
		rows, err := SampleRows(n, d, opt, tr)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != min(n, opt.MaxSamples) {
			t.Fatalf("tree %d: %d rows sampled, want %d", tr, len(rows), min(n, opt.MaxSamples))
		}
		seen := map[int]bool{}
		for _, r := range rows {
			if r < 0 || r >= n || seen[r] {
				t.Fatalf("tree %d: row %d out of range or drawn twice", tr, r)
			}
			seen[r] = true
		}
		f, err := GrowTree(gather(x, d, rows), n, d, opt, tr)
		if err != nil {
			t.Fatal(err)
		}
		parts[tr] = f
	}
	f, err := Assemble(parts)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// A forest grown tree by tree from SampleRows' rows and assembled is the
// forest Fit grows: same bytes, same scores.
func TestAssembleMatchesFit(t *testing.T) {
	cases := []struct {
		name string
		n, d int
		opt  Options
	}{
		{"subsampled", 700, 6, Options{NTrees: 25, MaxSamples: 64, MaxFeatures: 1, Seed: 11}},
		{"all rows", 50, 3, Options{NTrees: 10, MaxSamples: 256, MaxFeatures: 1, Seed: 2}},
		{"feature subset", 400, 9, Options{NTrees: 13, MaxSamples: 100, MaxFeatures: 0.4, Seed: 5}},
		{"one feature", 300, 1, Options{NTrees: 8, MaxSamples: 32, MaxFeatures: 1, Seed: 9}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			x := gaussian(c.n, c.d, 4)
			want, err := Fit(x, c.n, c.d, c.opt)
			if err != nil {
				t.Fatal(err)
			}
			got := growAll(t, x, c.n, c.d, c.opt, c.opt.NTrees)
			wb, _ := want.MarshalBinary()
			gb, err := got.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(wb, gb) {
				t.Fatalf("assembled forest differs from Fit's (%d vs %d bytes)", len(gb), len(wb))
			}
			ws, _ := want.Score(x, c.n)
			gs, err := got.Score(x, c.n)
			if err != nil {
				t.Fatal(err)
			}
			for i := range ws {
				if ws[i] != gs[i] {
					t.Fatalf("row %d: score %v, Fit's %v", i, gs[i], ws[i])
				}
			}
		})
	}
}

// A different seed gives a different forest, so the equality above is not
// vacuous.
func TestAssembleSeedMatters(t *testing.T) {
	n, d := 300, 4
	x := gaussian(n, d, 8)
	a := growAll(t, x, n, d, Options{NTrees: 5, MaxSamples: 64, MaxFeatures: 1, Seed: 1}, 5)
	b := growAll(t, x, n, d, Options{NTrees: 5, MaxSamples: 64, MaxFeatures: 1, Seed: 2}, 5)
	ab, _ := a.MarshalBinary()
	bb, _ := b.MarshalBinary()
	if bytes.Equal(ab, bb) {
		t.Fatal("seeds 1 and 2 gave the same forest")
	}
}

func TestDistributedBadInput(t *testing.T) {
	opt := Options{NTrees: 4, MaxSamples: 16, MaxFeatures: 1, Seed: 1}
	if _, err := SampleRows(100, 3, opt, 4); !errors.Is(err, ErrOption) {
		t.Errorf("tree 4 of 4: %v, want ErrOption", err)
	}
	if _, err := SampleRows(0, 3, opt, 0); !errors.Is(err, ErrInput) {
		t.Errorf("no rows: %v, want ErrInput", err)
	}
	if _, err := GrowTree(make([]float32, 15*3), 100, 3, opt, 0); !errors.Is(err, ErrInput) {
		t.Errorf("15 rows for a subsample of 16: %v, want ErrInput", err)
	}
	if _, err := Assemble(nil); !errors.Is(err, ErrInput) {
		t.Errorf("no parts: %v, want ErrInput", err)
	}
	x := gaussian(100, 3, 1)
	a, err := GrowTree(x[:16*3], 100, 3, opt, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := GrowTree(x[:16*3], 100, 3, Options{NTrees: 4, MaxSamples: 16, MaxFeatures: 1, Seed: 2}, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Assemble([]*Forest{a, b}); !errors.Is(err, ErrInput) {
		t.Errorf("parts with different seeds: %v, want ErrInput", err)
	}
}

package neighbors

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// kernelSets lists the kernel sets this CPU runs, the plain-Go one first.
func kernelSets(t *testing.T) []string {
	t.Helper()
	was := kernelName()
	t.Cleanup(func() { setKernels(was) })
	var ks []string
	for _, k := range []string{"go", "avx2", "avx512"} {
		if setKernels(k) {
			ks = append(ks, k)
		}
	}
	setKernels(was)
	return ks
}

// randVals returns n values of assorted scales, with repeats, zeros and
// negative zeros, so that ties and exact zeros occur.
func randVals(r *rand.Rand, n int) []float64 {
	v := make([]float64, n)
	for i := range v {
		switch r.IntN(8) {
		case 0:
			v[i] = 0
		case 1:
			v[i] = math.Copysign(0, -1)
		case 2:
			v[i] = float64(r.IntN(3))
		default:
			v[i] = float64(float32(r.NormFloat64() * math.Pow(10, float64(r.IntN(7)-3))))
		}
	}
	return v
}

// Every kernel's leaf distances equal sqDist's, bit for bit, and its mask
// marks exactly the rows within the bound, for widths that exercise the
// four-feature loop and each tail.
func TestLeafKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	for _, k := range kernelSets(t) {
		setKernels(k)
		for d := 1; d <= 19; d++ {
			for _, nb := range []int{1, 2, 5} {
				q := randVals(r, d)
				blk := make([]float32, nb*lanes*d)
				for i, v := range randVals(r, nb*lanes*d) {
					blk[i] = float32(v)
				}
				// Some rows equal to the query: distance exactly 0.
				for l := range d {
					blk[l*lanes+3] = float32(q[l])
				}
				dist := make([]float64, nb*lanes)
				mask := make([]uint8, nb)
				// A bound at one of the distances, so that ties with it occur.
				var bound float64
				for j := range nb * lanes {
					row := make([]float32, d)
					for l := range d {
						row[l] = blk[j/lanes*lanes*d+l*lanes+j%lanes]
					}
					if j == 5 {
						bound = sqDist(q, row)
					}
				}
				leafDists(q, blk, d, bound, dist, mask)
				for j := range nb * lanes {
					row := make([]float32, d)
					for l := range d {
						row[l] = blk[j/lanes*lanes*d+l*lanes+j%lanes]
					}
					want := sqDist(q, row)
					if math.Float64bits(dist[j]) != math.Float64bits(want) {
						t.Fatalf("%s d=%d row %d: %v, want sqDist's %v", k, d, j, dist[j], want)
					}
					if got := mask[j/lanes]>>(j%lanes)&1 == 1; got != (want <= bound) {
						t.Fatalf("%s d=%d row %d: mask %v for %v against bound %v", k, d, j, got, want, bound)
					}
				}
			}
		}
	}
}

// Every kernel's box distances equal boxDist's, bit for bit, for queries
// inside, outside and on the faces of the boxes.
func TestBoxKernels(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 8))
	for _, k := range kernelSets(t) {
		setKernels(k)
		for d := 1; d <= 19; d++ {
			dp := (d + 3) &^ 3
			for range 20 {
				var lo, hi [2][]float64
				box := make([]float64, 4*dp)
				for side := range 2 {
					a, b := randVals(r, d), randVals(r, d)
					lo[side], hi[side] = make([]float64, d), make([]float64, d)
					for l := range d {
						lo[side][l], hi[side][l] = min(a[l], b[l]), max(a[l], b[l])
						o := l/4*8 + l%4 + 4*side
						box[o], box[2*dp+o] = lo[side][l], hi[side][l]
					}
				}
				q := make([]float64, dp)
				copy(q, randVals(r, d))
				q[0] = lo[0][0] // on a face
				dl, dr := boxPair(q, box, dp)
				wl, wr := boxDist(q[:d], lo[0], hi[0]), boxDist(q[:d], lo[1], hi[1])
				if math.Float64bits(dl) != math.Float64bits(wl) || math.Float64bits(dr) != math.Float64bits(wr) {
					t.Fatalf("%s d=%d: %v %v, want boxDist's %v %v", k, d, dl, dr, wl, wr)
				}
			}
		}
	}
}

// With each kernel set, the tree returns the brute-force search's
// neighbours and distances, bit for bit, on random data of widths that
// exercise each tail of the kernels (integer-valued data for many ties,
// and continuous data).
func TestTreeKernelsMatchBrute(t *testing.T) {
	ctx := context.Background()
	ks := kernelSets(t)
	for _, d := range []int{1, 2, 3, 4, 5, 6, 7, 9, 12} {
		for _, grid := range []float64{0, 1} {
			n, m := 500+37*d, 60
			x := data(n, d, uint64(d), 0, grid)
			q := data(m, d, uint64(d)+100, 0, grid)
			bi, err := New(x, n, d, Brute, 2)
			if err != nil {
				t.Fatal(err)
			}
			ti, err := New(x, n, d, KDTree, 2)
			if err != nil {
				t.Fatal(err)
			}
			for _, kk := range []int{1, 20} {
				for name, f := range map[string]func(*Index) (*Result, error){
					"Search":            func(ix *Index) (*Result, error) { return ix.Search(ctx, q, m, kk) },
					"Distances":         func(ix *Index) (*Result, error) { return ix.Distances(ctx, q, m, kk) },
					"SearchTraining":    func(ix *Index) (*Result, error) { return ix.SearchTraining(ctx, kk) },
					"DistancesTraining": func(ix *Index) (*Result, error) { return ix.DistancesTraining(ctx, kk) },
				} {
					want, err := f(bi)
					if err != nil {
						t.Fatal(err)
					}
					for _, k := range ks {
						setKernels(k)
						got, err := f(ti)
						if err != nil {
							t.Fatal(err)
						}
						if !slices.Equal(got.Index, want.Index) || !slices.Equal(got.Dist, want.Dist) {
							t.Fatalf("%s kernels, d=%d grid=%v k=%d: %s of the tree differs from brute force", k, d, grid, kk, name)
						}
					}
				}
			}
		}
	}
}

package deepcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/tensor"
)

// TestKeepLargestHandWorked: a column 0.5, -0.3, 0.2 (total 1) with keep
// 0.6 keeps 0.5 and -0.3 (0.5 is not more than 0.6, 0.8 is); keep 0.4
// keeps 0.5 alone; keep 1 keeps all; an all-zero column stays zero.
func TestKeepLargestHandWorked(t *testing.T) {
	// Column 0 holds the case; column 1 is zero; column 2 is ties.
	c := []float32{
		0.5, 0, 0.1,
		-0.3, 0, 0.1,
		0.2, 0, 0.1,
	}
	for _, tc := range []struct {
		keep float64
		want []float32
	}{
		{0.6, []float32{0.5, 0, 0.1, -0.3, 0, 0.1, 0, 0, 0}},
		{0.4, []float32{0.5, 0, 0.1, 0, 0, 0.1, 0, 0, 0}},
		{1, c},
	} {
		got := keepLargest(c, 3, tc.keep)
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("keep %g: got %v, want %v", tc.keep, got, tc.want)
				break
			}
		}
	}
}

// TestDSCAffinityReference compares dscAffinity with a NumPy version of
// DSC-Net's post-processing written from the paper (testdata/
// dsc_affinity.py), with and without the identity.
func TestDSCAffinityReference(t *testing.T) {
	b, err := os.ReadFile("testdata/dsc_affinity.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		N, K, Dim       int
		Keep, Power     float64
		C               []float64
		WithIdentity    []float64 `json:"with_identity"`
		WithoutIdentity []float64 `json:"without_identity"`
	}
	if err := json.Unmarshal(b, &ref); err != nil {
		t.Fatal(err)
	}
	c := make([]float32, len(ref.C))
	for i, v := range ref.C {
		c[i] = float32(v)
	}
	for _, noID := range []bool{false, true} {
		o := DefaultOptions()
		o.K, o.SEDim, o.SEKeep, o.SEPower, o.SENoIdentity = ref.K, ref.Dim, ref.Keep, ref.Power, noID
		got, _, err := dscAffinity(context.Background(), c, ref.N, o)
		if err != nil {
			t.Fatal(err)
		}
		want := ref.WithIdentity
		if noID {
			want = ref.WithoutIdentity
		}
		var worst float64
		for i := range want {
			worst = max(worst, math.Abs(float64(got[i])-want[i]))
		}
		if worst > 1e-4 {
			t.Errorf("no identity %v: largest difference from the reference %g", noID, worst)
		}
	}
}

// seOptions is a self-expressive schedule of a fraction of a second on
// the blobs. The post-processing keeps 30% of each column's mass, not
// COIL-20's 4%: with 20 near-identical images per class, 4% is one or two
// coefficients per image, too few links to hold a class together.
func seOptions() Options {
	o := DefaultOptions()
	o.K, o.Seed, o.PretrainEpochs, o.BatchSize, o.KMeansInit = 4, 1, 30, 20, 3
	o.SelfExpressive, o.SESteps, o.SEDim, o.SEChannels, o.SEKeep = true, 30, 3, 4, 0.3
	return o
}

// TestSelfExpressiveBlobs: on four classes of blob images the mode finds
// the classes, keeps the diagonal of C at zero, lowers its loss, and
// gives centroids, Q and an embedding of the code's size.
func TestSelfExpressiveBlobs(t *testing.T) {
	x := blobs(80, 1)
	o := seOptions()
	m, res, err := (&Trainer{Options: o, Labels: x.Y}).Fit(context.Background(), x)
	if err != nil {
		t.Fatal(err)
	}
	acc, _ := metrics.ACC(x.Y, res.Labels)
	if acc < 0.95 {
		t.Errorf("ACC %.3f on four separated classes, want at least 0.95", acc)
	}
	n := x.N
	if len(res.Coefficients) != n*n {
		t.Fatalf("%d coefficients for %d images", len(res.Coefficients), n)
	}
	for i := 0; i < n; i++ {
		if res.Coefficients[i*n+i] != 0 {
			t.Fatalf("C[%d,%d] = %g, want 0", i, i, res.Coefficients[i*n+i])
		}
	}
	h := res.History
	if len(h) != o.SESteps || h[len(h)-1].Loss >= h[0].Loss {
		t.Errorf("loss did not fall over %d steps: first %g, last %g", len(h), h[0].Loss, h[len(h)-1].Loss)
	}
	d := 4 * 8 * 8
	if m.EmbeddingSize() != d || len(res.Embedding) != n*d || len(res.Q) != n*o.K || !tensor.SameShape(m.Centroids.Shape, []int{o.K, d}) {
		t.Errorf("embedding size %d, embedding %d values, Q %d, centroids %v", m.EmbeddingSize(), len(res.Embedding), len(res.Q), m.Centroids.Shape)
	}
	// The score is the distance to the nearest centroid of the code space:
	// an image of no class scores above every training image's median.
	sc, err := m.Score(context.Background(), x, "")
	if err != nil {
		t.Fatal(err)
	}
	odd := &data.Dataset{X: make([]float32, 256), N: 1, Shape: x.Shape}
	for p := range odd.X {
		odd.X[p] = float32(p%7) / 7 // stripes, not a blob
	}
	so, err := m.Score(context.Background(), odd, "")
	if err != nil {
		t.Fatal(err)
	}
	above := 0
	for _, s := range sc {
		if so[0] > s {
			above++
		}
	}
	if above < n/2 {
		t.Errorf("an odd image scores %g, above only %d of %d training images", so[0], above, n)
	}
}

// TestSelfExpressiveLimit: above MaxSelfExpressive images the mode refuses
// with an error that wraps ErrInput and names the limit.
func TestSelfExpressiveLimit(t *testing.T) {
	n := MaxSelfExpressive + 1
	x := &data.Dataset{X: make([]float32, n*64), N: n, Shape: []int{1, 8, 8}}
	o := seOptions()
	_, _, err := (&Trainer{Options: o}).Fit(context.Background(), x)
	if !errors.Is(err, ErrInput) || !errors.Is(err, detector.ErrInput) || !bytes.Contains([]byte(err.Error()), []byte("at most 5000")) {
		t.Errorf("error %v: want ErrInput naming the limit 5000", err)
	}
}

// TestContractSelfExpressive runs the shared conformance checks on the
// registered method in the self-expressive mode.
func TestContractSelfExpressive(t *testing.T) {
	se := map[string]string{"k": "4", "batch": "20", "kmeans-init": "3", "self-expressive": "true", "se-channels": "4", "se-dim": "3", "se-keep": "0.3"}
	with := func(extra map[string]string) map[string]string {
		out := map[string]string{}
		for k, v := range se {
			out[k] = v
		}
		for k, v := range extra {
			out[k] = v
		}
		return out
	}
	detectortest.Conformance(t, detectortest.Case{
		Method:   Method,
		Settings: with(map[string]string{"epochs": "2", "se-steps": "3"}),
		Slow:     with(map[string]string{"epochs": "1000000"}),
		Bad:      map[string]string{"se-keep": "2", "augment-shift": "0.9"},
		Train:    blobs(60, 1),
		Test:     blobs(24, 9),
	})
}

// TestSelfExpressiveDetector: the mode through detector.Fit saves and
// loads with bit-identical scores, embeds at the code's size,
// reconstructs, and draws both anomaly maps.
func TestSelfExpressiveDetector(t *testing.T) {
	x, test := blobs(40, 1), blobs(12, 9)
	ctx := context.Background()
	o := seOptions()
	o.PretrainEpochs, o.SESteps = 3, 3
	d := New(o)
	m, err := detector.Fit(ctx, d, detector.TrainSet{X: x}, detector.ThresholdRule{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := d.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.Save(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := detector.Load(&buf)
	if err != nil {
		t.Fatal(err)
	}
	got, err := back.Detector.Score(ctx, test)
	if err != nil {
		t.Fatal(err)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("score %d: %g after loading, %g before", i, got[i], want[i])
		}
	}
	if !back.Detector.(*Detector).Options.SelfExpressive {
		t.Error("the loaded model lost the self-expressive option")
	}
	z, dim, err := d.Embed(ctx, test)
	if err != nil || dim != 4*8*8 || len(z) != test.N*dim {
		t.Errorf("Embed: %d values of size %d, %v", len(z), dim, err)
	}
	if _, out, err := d.Reconstruct(ctx, test); err != nil || len(out.X) != len(test.X) {
		t.Errorf("Reconstruct: %v", err)
	}
	for _, method := range []string{MapResidual, MapGradient} {
		maps, err := d.LocalizeBy(ctx, test, method, 1)
		if err != nil || maps.N != test.N {
			t.Errorf("LocalizeBy %s: %v", method, err)
		}
	}
}

package experiments

import (
	"github.com/oddity-ml/oddity/suite/results"

	"context"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/autoencoder"
	"github.com/oddity-ml/oddity/cae"
	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/deepcluster"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/ganomaly"
	"github.com/oddity-ml/oddity/iforest"
	"github.com/oddity-ml/oddity/internal/shared"
	"github.com/oddity-ml/oddity/nn"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/tensor"
)

// useShared points the catalog at the shared data sets, skipping the test
// when rel is missing there.
func useShared(t *testing.T, rel string) {
	t.Helper()
	shared.Path(t, rel)
	root, _ := shared.Root()
	t.Setenv("ODDITY_DATASETS", root)
}

// runCell runs one spec through its registered executor into a fresh
// output folder.
func runCell(t *testing.T, spec results.Spec) (*results.Cell, string) {
	t.Helper()
	out := t.TempDir()
	if err := os.MkdirAll(filepath.Join(out, "figures"), 0o755); err != nil {
		t.Fatal(err)
	}
	ex := suite.ExecutorOf(spec.Table)
	if ex == nil {
		t.Fatalf("table %s not registered", spec.Table)
	}
	c, err := ex(context.Background(), &suite.Env{Out: out, Log: io.Discard}, spec)
	if err != nil {
		t.Fatalf("%s %s %s: %v", spec.Table, spec.Method, spec.Variant, err)
	}
	return c, out
}

func checkUnit(t *testing.T, c *results.Cell, names ...string) {
	t.Helper()
	for _, n := range names {
		s, ok := c.Metrics[n]
		if !ok {
			t.Fatalf("measure %s missing from %v", n, c.Metrics)
		}
		if math.IsNaN(s.Mean) || s.Mean < -1 || s.Mean > 1 {
			t.Errorf("%s = %v, outside its range", n, s.Mean)
		}
	}
}

// tinyCommon is a common-ground cell small enough for a unit test.
func tinyCommon(method, variant string, extra map[string]string) results.Spec {
	return results.Spec{Section: results.SectionCommon, Table: tableCommonMNIST, Method: method, Variant: variant, Data: "mnist",
		Task: "abnormal=7", Seeds: []uint64{5},
		Params: imgMerge(map[string]string{"abnormal": "7", "max-train": "300", "max-test": "300"}, extra)}
}

func TestGANomalyTinyCellFiniteAndRepeatable(t *testing.T) {
	useShared(t, "mnist")
	spec := tinyCommon(ganomaly.Method, "", map[string]string{"width": "4", "nz": "8", "epochs": "1", "batch": "32",
		"max-images": "0", "embed-n": "60", "recon": "1"})
	c, out := runCell(t, spec)
	checkUnit(t, c, "auc_roc", "auc_pr")
	if auc := c.Metrics["auc_roc"].Mean; auc < 0 || auc > 1 {
		t.Errorf("AUC-ROC %v", auc)
	}
	if c.Train != 300 || c.Test != 300 {
		t.Errorf("train %d, test %d; want the 300 and 300 asked for", c.Train, c.Test)
	}
	if c.ROC == nil || len(c.ROC.X) < 2 || c.ROC.X[0] != 0 || c.ROC.X[len(c.ROC.X)-1] != 1 {
		t.Errorf("ROC curve %+v does not run from 0 to 1", c.ROC)
	}
	if c.Scores == nil || len(c.Scores.Normal)+len(c.Scores.Anomaly) != 300 {
		t.Errorf("score sample holds %d + %d scores, want 300", len(c.Scores.Normal), len(c.Scores.Anomaly))
	}
	if c.Embedding == nil || len(c.Embedding.X) != 60 || len(c.Embedding.Label) != 60 {
		t.Fatalf("embedding: %+v", c.Embedding)
	}
	for _, v := range append(c.Embedding.X, c.Embedding.Y...) {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("embedding has a non-finite coordinate")
		}
	}
	if len(c.Images) != 1 || !strings.HasPrefix(c.Images[0], "figures/") {
		t.Fatalf("images %v", c.Images)
	}
	if st, err := os.Stat(filepath.Join(out, c.Images[0])); err != nil || st.Size() == 0 {
		t.Errorf("reconstruction grid not written: %v", err)
	}
	if !strings.Contains(c.Note, "subsampled to 300") {
		t.Errorf("note does not say what was shortened: %q", c.Note)
	}

	again, _ := runCell(t, spec)
	if !reflect.DeepEqual(c.PerSeed, again.PerSeed) || !reflect.DeepEqual(c.Scores, again.Scores) || !reflect.DeepEqual(c.Embedding, again.Embedding) {
		t.Errorf("same seed, different numbers: %v vs %v", c.PerSeed, again.PerSeed)
	}
}

// The maxq cell scores the models the distance cell trained, one per seed,
// rather than training its own.
func TestDeepClusterCommonCellsShareTheModel(t *testing.T) {
	useShared(t, "mnist")
	dc := map[string]string{"k": "9", "epochs": "1", "max-steps": "3", "update-interval": "2", "kmeans-init": "1", "batch": "64"}
	three := func(s results.Spec) results.Spec {
		s.Seeds = []uint64{5, 6, 7}
		return s
	}
	dist, _ := runCell(t, three(tinyCommon(deepcluster.Method, "", imgMerge(dc, map[string]string{"score": "distance", "embed-n": "40"}))))
	maxq, _ := runCell(t, three(tinyCommon(deepcluster.Method, "score=maxq", imgMerge(dc, map[string]string{"score": "maxq"}))))
	checkUnit(t, dist, "auc_roc", "auc_pr")
	checkUnit(t, maxq, "auc_roc", "auc_pr")
	if dist.FitSeconds != maxq.FitSeconds || !strings.Contains(maxq.Note, "trained once") {
		t.Errorf("the maxq cell trained its own model (fit %v vs %v; note %q)", dist.FitSeconds, maxq.FitSeconds, maxq.Note)
	}
	if dist.Embedding == nil || len(dist.Embedding.Cluster) != 40 {
		t.Fatalf("deep clustering embedding without clusters: %+v", dist.Embedding)
	}
	for _, k := range dist.Embedding.Cluster {
		if k < 0 || k >= 9 {
			t.Fatalf("cluster %d outside 0..8", k)
		}
	}
}

func TestDPLANLabelledVariantUsesHeldOutDigit(t *testing.T) {
	useShared(t, "mnist")
	dp := map[string]string{"episodes": "1", "steps": "200", "warmup": "50", "eps-steps": "100", "target-update": "100"}
	c, _ := runCell(t, tinyCommon("dplan", "labeled=5", imgMerge(dp, map[string]string{"labeled": "5"})))
	checkUnit(t, c, "auc_roc", "auc_pr")
	if !strings.Contains(c.Note, "weakly supervised") {
		t.Errorf("note does not say the task changed: %q", c.Note)
	}
	u, _ := runCell(t, tinyCommon("dplan", "labeled=0", imgMerge(dp, map[string]string{"labeled": "0"})))
	if !strings.Contains(u.Note, "unsupervised") {
		t.Errorf("note of labeled=0: %q", u.Note)
	}
}

// Each common-ground method with a latent space gives its t-SNE, named by
// the space it shows; and the full suite asks for one from every method of
// the table but Isolation Forest (which has no latent space) and the
// variants that share a method's pictures.
func TestCommonCellsShowTheirLatentSpace(t *testing.T) {
	s, err := Named("full", 0)
	if err != nil {
		t.Fatal(err)
	}
	withTSNE := map[string]bool{}
	for _, sp := range s.Specs {
		if sp.Table == tableCommonMNIST && sp.Task == "abnormal=3" && sp.Params["embed-n"] != "" {
			withTSNE[sp.Method] = true
		}
	}
	for _, m := range []string{ganomaly.Method, cae.Method, deepcluster.Method, "dplan", "autoencoder"} {
		if !withTSNE[m] {
			t.Errorf("full suite: no t-SNE asked of %s on common ground", m)
		}
	}

	useShared(t, "mnist")
	dp := map[string]string{"episodes": "1", "steps": "200", "warmup": "50", "eps-steps": "100", "target-update": "100", "labeled": "5"}
	spaces := map[string]bool{}
	for _, spec := range []results.Spec{
		tinyCommon(cae.Method, "", map[string]string{"width": "4", "nz": "8", "epochs": "1", "batch": "32", "max-images": "0", "embed-n": "40"}),
		tinyCommon("dplan", "labeled=5", imgMerge(dp, map[string]string{"embed-n": "40"})),
		tinyCommon("autoencoder", "", map[string]string{"epochs": "2", "embed-n": "40"}),
	} {
		c, _ := runCell(t, spec)
		e := c.Embedding
		if e == nil || len(e.X) != 40 || len(e.Label) != 40 || e.Space == "" {
			t.Errorf("%s: embedding %+v, want 40 points of a named space", spec.Method, e)
			continue
		}
		spaces[e.Space] = true
	}
	if len(spaces) != 3 {
		t.Errorf("spaces %v, want three different names", spaces)
	}
}

func TestClusteringCellMeasuresAndPublished(t *testing.T) {
	useShared(t, "usps")
	spec := results.Spec{Section: results.SectionOwn, Table: tableClustering, Method: imgMethodClustering, Data: "usps", Task: "k=10", Seeds: []uint64{2},
		Params: map[string]string{"k": "10", "limit": "300", "epochs": "1", "max-steps": "4", "update-interval": "2",
			"kmeans-init": "1", "batch": "64", "tsne-n": "50"}}
	c, out := runCell(t, spec)
	checkUnit(t, c, "acc", "nmi", "nmi_geometric", "ari")
	if acc := c.Metrics["acc"].Mean; acc < 0.1-1e-9 { // matching 10 clusters to 10 classes never does worse than the largest class
		t.Errorf("ACC %v below a tenth", acc)
	}
	if c.Published["acc"] != 0.790 || c.Source == "" {
		t.Errorf("published %v source %q", c.Published, c.Source)
	}
	if c.Train != 300 || c.Embedding == nil || len(c.Embedding.Cluster) != 50 {
		t.Errorf("train %d, embedding %+v", c.Train, c.Embedding)
	}
	if _, err := os.Stat(filepath.Join(out, c.Images[0])); err != nil {
		t.Error(err)
	}
}

func TestImageParamsRejectBadValues(t *testing.T) {
	spec := tinyCommon(ganomaly.Method, "", map[string]string{"epochs": "two"})
	spec.Params["max-train"] = "-3"
	_, err := runImageCell(context.Background(), &suite.Env{Out: t.TempDir(), Log: io.Discard}, spec)
	if err == nil || !strings.Contains(err.Error(), "max-train") {
		t.Errorf("want an error naming max-train, got %v", err)
	}
	if _, err := imgParse(ganomaly.Method, map[string]string{"schedule": "fast"}); err == nil || !strings.Contains(err.Error(), "fast") {
		t.Errorf("unknown schedule accepted: %v", err)
	}
	if _, err := imgParse(autoencoder.Method, map[string]string{"hidden": "64,x"}); err == nil || !strings.Contains(err.Error(), "hidden") {
		t.Errorf("bad hidden list: %v", err)
	}
	// A key that is neither the cell's nor the method's is refused, naming
	// both (image cells used to ignore it).
	_, err = imgParse(iforest.Method, map[string]string{"tress": "5"})
	if !errors.Is(err, detector.ErrOption) || !strings.Contains(err.Error(), "tress") || !strings.Contains(err.Error(), "iforest") {
		t.Errorf("unknown key: %v", err)
	}
	// The old image-cell name of Isolation Forest's subsample still reads.
	st, err := imgParse(iforest.Method, map[string]string{"samples": "64"})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := st.options(0)
	if o.(*iforest.Options).MaxSamples != 64 {
		t.Errorf("samples=64 gave %+v", o)
	}
}

// synthetic is a labelled image set: n images of 1×4×4 per class.
func synthetic(n, classes int) *data.Dataset {
	r := rand.New(rand.NewPCG(1, 2))
	ds := &data.Dataset{Name: "synth", N: n * classes, Shape: []int{1, 4, 4}}
	for c := 0; c < classes; c++ {
		for i := 0; i < n; i++ {
			for j := 0; j < 16; j++ {
				ds.X = append(ds.X, r.Float32())
			}
			ds.Y = append(ds.Y, c)
		}
	}
	return ds
}

func TestSubsetIsExactAndStratified(t *testing.T) {
	// 10 rows of class 0, 20 of class 1, 3 of class 2; 11 of the 33 rows:
	// shares 11·10/33 = 3⅓, 11·20/33 = 6⅔ and 1 round down to 3, 6, 1;
	// the row left over goes to the largest remainder, class 1.
	var y []int
	for c, n := range []int{10, 20, 3} {
		for i := 0; i < n; i++ {
			y = append(y, c)
		}
	}
	keep, err := imgSubset(y, 11, 4)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	for i, k := range keep {
		got[y[k]]++
		if i > 0 && keep[i-1] >= k {
			t.Fatal("indices not sorted and distinct")
		}
	}
	if len(keep) != 11 || got[0] != 3 || got[1] != 7 || got[2] != 1 {
		t.Errorf("subset per class %v (total %d), want 3, 7, 1", got, len(keep))
	}
	if all, _ := imgSubset(y, 0, 4); len(all) != len(y) {
		t.Errorf("m = 0 kept %d rows, want all", len(all))
	}
}

func TestSplitContaminationSubsetAndSpare(t *testing.T) {
	train, test := synthetic(200, 3), synthetic(50, 3)
	// 400 normal images; 10% contamination asks round(0.1·400/0.9) = 44
	// images of class 1; a stratified subset of 222 keeps the 10%.
	ld, err := imgBuildSplit(train, test, 1, 0.1, 222, 60, 9)
	if err != nil {
		t.Fatal(err)
	}
	if ld.train.N != 222 || ld.contaminated != 22 {
		t.Errorf("train %d with %d contaminating, want 222 with 22", ld.train.N, ld.contaminated)
	}
	if ld.spare.N != 200-44 {
		t.Errorf("%d spare images of the held-out class, want 156", ld.spare.N)
	}
	for _, y := range ld.spare.Y {
		if y != 1 {
			t.Fatalf("spare image of class %d", y)
		}
	}
	if ld.test.N != 60 || len(ld.testClass) != 60 {
		t.Fatalf("test %d", ld.test.N)
	}
	anom := 0
	for i, y := range ld.test.Y {
		anom += y
		if (y == 1) != (ld.testClass[i] == 1) {
			t.Fatalf("test row %d: label %d but class %d", i, y, ld.testClass[i])
		}
	}
	if anom != 20 {
		t.Errorf("%d anomalies in the stratified test subset of 60, want 20", anom)
	}
	again, _ := imgBuildSplit(train, test, 1, 0.1, 222, 60, 9)
	if !reflect.DeepEqual(ld.train.X, again.train.X) {
		t.Error("same seed, different split")
	}
	other, _ := imgBuildSplit(train, test, 1, 0.1, 222, 60, 10)
	if reflect.DeepEqual(ld.train.X, other.train.X) {
		t.Error("another seed gave the same split")
	}
}

func TestImageSpecsAreComplete(t *testing.T) {
	for _, tc := range []struct {
		name  string
		specs []results.Spec
		seeds int
	}{{"quick", quickImages(0), 1}, {"full", fullImages(0), 3}} {
		ids := map[string]bool{}
		perTable := map[string]int{}
		for _, s := range tc.specs {
			if ids[s.ID()] {
				t.Errorf("%s: duplicate cell %+v", tc.name, s)
			}
			ids[s.ID()] = true
			perTable[s.Table]++
			if len(s.Seeds) != tc.seeds {
				t.Errorf("%s: %s has %d seeds", tc.name, s.Table, len(s.Seeds))
			}
			ex := suite.ExecutorOf(s.Table)
			if ex == nil {
				t.Errorf("%s: table %s has no executor", tc.name, s.Table)
			}
		}
		for _, tb := range imgTables {
			if perTable[tb] == 0 {
				t.Errorf("%s: no cell in %s", tc.name, tb)
			}
		}
		if tc.name == "full" && (perTable[tableGANMNIST] != 10 || perTable[tableGANCIFAR] != 10 || perTable[tableCommonMNIST] != 140) { // 14 rows × 10 digits
			t.Errorf("full: %v", perTable)
		}
	}
}

func TestArchitectureCountsByHand(t *testing.T) {
	// G_E at width 16, nz 100, 1×32×32: conv 1→16 (k4), conv 16→32 + BN,
	// conv 32→64 + BN, conv 64→100 (k4), no biases.
	want := int64(16*1*16 + 32*16*16 + 2*32 + 64*32*16 + 2*64 + 100*64*16)
	var ge *results.Network
	for _, a := range suite.Architectures() {
		if a.Method == "ganomaly" && a.Hyper["width"] == "16" {
			ge = &a.Networks[0]
		}
	}
	if ge == nil {
		t.Fatal("no GANomaly row at width 16")
	}
	if ge.Params != want {
		t.Errorf("G_E parameters %d, hand count %d", ge.Params, want)
	}
	// DCEC encoder at 28×28: conv 5×5 1→32, 5×5 32→64, 3×3 64→128 (with
	// biases), dense 128·3·3 → 10.
	enc := int64(32*25+32) + (64*32*25 + 64) + (128*64*9 + 128) + (1152*10 + 10)
	a, err := deepcluster.NewAutoencoder(1, 28, 10, rand.New(rand.NewPCG(0, 0)))
	if err != nil {
		t.Fatal(err)
	}
	n := imgNetwork("encoder", a.Encoder, 1, 28, 28)
	if n.Params != enc {
		t.Errorf("DCEC encoder parameters %d, hand count %d", n.Params, enc)
	}
	// FLOPs of one convolution: 3→8 channels, k3, stride 2, padding 1 on
	// 9×9 gives 5×5 outputs, each 3·3·3 multiply-adds per output channel.
	conv := nn.NewConv2d(3, 8, 3, 2, 1, true, rand.New(rand.NewPCG(0, 0)))
	var st []imgLayerStat
	if _, err := imgWalk(conv, tensor.New(1, 3, 9, 9), &st); err != nil {
		t.Fatal(err)
	}
	if len(st) != 1 || st[0].flops != 2*3*3*3*8*5*5 || st[0].params != 8*3*9+8 {
		t.Errorf("conv layer %+v, want %d FLOPs and %d parameters", st, 2*3*3*3*8*5*5, 8*3*9+8)
	}
	// The DCEC encoder's FLOPs: the sum of its layers by the formula.
	flops := int64(2*1*25*32*14*14 + 2*32*25*64*7*7 + 2*64*9*128*3*3 + 2*1152*10)
	if n.FLOPs != flops {
		t.Errorf("DCEC encoder FLOPs %d, by hand %d", n.FLOPs, flops)
	}
}

func TestImageCellStopsOnCancel(t *testing.T) {
	useShared(t, "mnist")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	spec := tinyCommon(ganomaly.Method, "", map[string]string{"width": "4", "nz": "8", "epochs": "1"})
	if _, err := runImageCell(ctx, &suite.Env{Out: t.TempDir(), Log: io.Discard}, spec); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled run returned %v, want context.Canceled", err)
	}
}

package experiments

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"time"

	"github.com/oddity-ml/oddity/data"
	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/evaluate"
	"github.com/oddity-ml/oddity/explain"
	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/suite"
	"github.com/oddity-ml/oddity/suite/results"
)

// The explanation tables (issue #23; docs/methods.md §7).
const (
	tableExplainTabular = "explain-tabular"
)

func init() {
	suite.Register(tableExplainTabular, runExplainTabular)
}

// explainMethods are the tabular detectors whose explanations the table
// measures: each with its own explainer (detector.Explainer), or the
// Shapley estimate when it has none (LODA). The one-class SVM is left
// out: its Shapley estimate scores about 1.6 million rows per seed
// against thousands of support vectors, hours over the 21 files.
var explainMethods = []string{"iforest", "pca", "autoencoder", "devnet", "deepsad", "dplan", "ecod", "copod", "hbos", "loda"}

// explainTrainRows caps the rows each explanation cell trains on: the
// table measures explanations, not detection, and training the deep
// detectors on the largest files (10_cover: 200,000 rows) would cost
// hours that the detection tables already spend. Larger training sets are
// thinned to evenly spaced rows (no seed needed); the cell's note says so.
const explainTrainRows = 20000

// explainRows bounds the normal test rows that get a planted cause, per
// size r and kind: the precision is a mean over rows, and explaining costs
// up to a few thousand scores per row (Shapley).
const explainRows = 200

// explainSpecs lists the explanation cells: every detector of
// explainMethods on each ADBench file, trained as on common ground (the
// ADBench split, 5% of the training anomalies labelled for the weakly
// supervised ones), one cell per file holding both kinds of planted cause.
func explainSpecs(seed uint64, quick bool) []results.Spec {
	files, n := tabADBenchFiles, tabSeedsADBench
	if quick {
		files, n = tabQuickFiles, 1
	}
	seeds := evaluate.SeedList(seed, n)
	var out []results.Spec
	for _, f := range files {
		for _, m := range explainMethods {
			out = append(out, tabSpec(results.SectionExplain, tableExplainTabular, m, "", "adbench/"+f, "planted", seeds,
				map[string]string{"protocol": "adbench", "labeled-ratio": "0.05"}))
		}
	}
	return out
}

// explainMeasure are one kind's measures: the detector's explainer on all
// planted rows and on those it flags, and the two references.
type explainMeasure struct {
	all, flagged, flaggedShare, zscore, random, repair, repairFlagged float64
}

// repairRows and repairBackground bound the model-agnostic repair
// explainer's share of a cell: it scores rows × d × background rows.
const (
	repairRows       = 100
	repairBackground = 32
)

// runExplainTabular trains the cell's detector as runTabular does, then
// for each seed plants causes in normal test rows (explain.Plant: r = 1,
// 2, 3 features each, extreme values or broken dependencies), scores and
// explains them, and measures precision at r: of the detector's explainer
// on every planted row and on those it ranks above the 95th percentile of
// the clean normal test rows' scores (its top 5%), beside the robust
// z-score and random references computed by the same code, and the
// model-agnostic repair explainer (explain.Repair) of the same detector on
// the first repairRows planted rows of each size, with repairBackground
// background rows.
func runExplainTabular(ctx context.Context, env *suite.Env, spec results.Spec) (*results.Cell, error) {
	if len(spec.Seeds) == 0 {
		return nil, fmt.Errorf("%w: no seeds", ErrTabular)
	}
	st, err := parseTabular(spec.Method, spec.Params)
	if err != nil {
		return nil, err
	}
	log := env.Log
	if log == nil {
		log = io.Discard
	}
	parts, err := env.Data(spec.Data)
	if err != nil {
		return nil, err
	}
	ds, err := parts.All()
	if err != nil {
		return nil, err
	}
	c := &results.Cell{}
	var perSeed []map[string]float64
	var technique string
	var fit, rate float64
	thinned := false
	for _, seed := range spec.Seeds {
		sp, _, err := st.proto.split(ds, seed)
		if err != nil {
			return nil, fmt.Errorf("%s seed %d: %w", spec.Data, seed, err)
		}
		if sp.Train.N > explainTrainRows {
			thin := make([]int, explainTrainRows)
			for i := range thin {
				thin[i] = i * sp.Train.N / explainTrainRows
			}
			if sp.Train, err = sp.Train.Subset(thin); err != nil {
				return nil, err
			}
			thinned = true
		}
		det, err := st.fresh(seed)
		if err != nil {
			return nil, err
		}
		t0 := time.Now()
		if err := det.Fit(ctx, detector.TrainSet{X: sp.Train, Anomalies: sp.Anomalies}); err != nil {
			return nil, fmt.Errorf("%s on %s, seed %d: %w", spec.Method, spec.Data, seed, err)
		}
		fit += time.Since(t0).Seconds()
		m, tech, r, err := explainSeed(ctx, det, sp.Train, sp.Test, seed)
		if err != nil {
			return nil, fmt.Errorf("%s on %s, seed %d: %w", spec.Method, spec.Data, seed, err)
		}
		technique, rate = tech, rate+r
		if len(c.Explained) == 0 {
			if c.Explained, err = explainTop(ctx, det, sp.Test, backgroundOf(sp.Train), 3, 3); err != nil {
				return nil, err
			}
		}
		ps := map[string]float64{}
		for kind, v := range m {
			k := string(kind)
			ps[k+"_p_at_r"] = v.all
			ps[k+"_flagged_p_at_r"] = v.flagged
			ps[k+"_flagged_share"] = v.flaggedShare
			ps[k+"_zscore_p_at_r"] = v.zscore
			ps[k+"_random_p_at_r"] = v.random
			ps[k+"_repair_p_at_r"] = v.repair
			ps[k+"_repair_flagged_p_at_r"] = v.repairFlagged
		}
		perSeed = append(perSeed, ps)
		c.Train, c.Test = sp.Train.N, sp.Test.N
		fmt.Fprintf(log, "  %s %s seed %d: precision at r extreme %.3f (flagged %.3f), dependency %.3f (flagged %.3f); z-score %.3f / %.3f\n",
			spec.Method, spec.Data, seed, ps["extreme_p_at_r"], ps["extreme_flagged_p_at_r"], ps["dependency_p_at_r"], ps["dependency_flagged_p_at_r"],
			ps["extreme_zscore_p_at_r"], ps["dependency_zscore_p_at_r"])
	}
	// A flagged precision is NaN on a seed where the detector flags no
	// planted row: summarise over the seeds that have one.
	c.Metrics = map[string]metrics.Summary{}
	for _, k := range keysOf(perSeed) {
		var vals []float64
		for _, ps := range perSeed {
			if v, ok := ps[k]; ok && !math.IsNaN(v) {
				vals = append(vals, v)
			}
		}
		if len(vals) == 0 {
			continue
		}
		one := make([]map[string]float64, len(vals))
		for i, v := range vals {
			one[i] = map[string]float64{k: v}
		}
		s, err := suite.Summarize(one)
		if err != nil {
			return nil, err
		}
		c.Metrics[k] = s[k]
	}
	for _, ps := range perSeed {
		for k, v := range ps {
			if math.IsNaN(v) {
				delete(ps, k)
			}
		}
	}
	c.PerSeed = perSeed
	n := float64(len(spec.Seeds))
	c.FitSeconds, c.ScoreRate = fit/n, rate/n
	if thinned {
		c.Note = fmt.Sprintf("trained on %d evenly spaced rows of the training part; ", explainTrainRows)
	}
	c.Note += fmt.Sprintf("explainer: %s; precision at r of the top r features against the r planted ones (r = 1, 2, 3), on up to %d normal test rows per r and kind; \"flagged\": the planted rows scored above the 95th percentile of the clean normal test rows; score rate: rows explained per second", technique, explainRows)
	return c, nil
}

// explainSeed plants, scores and explains for one fitted detector, and
// returns each kind's measures, the technique used, and the rows explained
// per second.
func explainSeed(ctx context.Context, det detector.Detector, train, test *data.Dataset, seed uint64) (map[explain.PlantKind]explainMeasure, string, float64, error) {
	var normalIdx []int
	for i, y := range test.Y {
		if y == 0 {
			normalIdx = append(normalIdx, i)
		}
	}
	if len(normalIdx) > explainRows {
		step := float64(len(normalIdx)) / explainRows
		sub := make([]int, explainRows)
		for i := range sub {
			sub[i] = normalIdx[int(float64(i)*step)]
		}
		normalIdx = sub
	}
	normal, err := test.Subset(normalIdx)
	if err != nil {
		return nil, "", 0, err
	}
	clean, err := det.Score(ctx, normal)
	if err != nil {
		return nil, "", 0, err
	}
	cut := quantile95(clean)
	rng, err := explain.RangeOf(train)
	if err != nil {
		return nil, "", 0, err
	}
	bg := backgroundOf(train)
	out := map[explain.PlantKind]explainMeasure{}
	technique := ""
	var explained int
	var seconds float64
	for ki, kind := range []explain.PlantKind{explain.Extreme, explain.Dependency} {
		var all, flagged, zs, rnd, rep, repF []float64
		nFlagged, nRows := 0, 0
		for r := 1; r <= 3; r++ {
			pseed := seed*1000 + uint64(10*ki+r)
			x, truth, err := explain.Plant(normal, rng, min(r, train.Dim()), kind, pseed)
			if err != nil {
				return nil, "", 0, err
			}
			scores, err := det.Score(ctx, x)
			if err != nil {
				return nil, "", 0, err
			}
			t0 := time.Now()
			a, err := explain.Attribute(ctx, det, x, bg, explain.Options{Shapley: explain.ShapleyOptions{Seed: pseed}})
			if err != nil {
				return nil, "", 0, err
			}
			seconds += time.Since(t0).Seconds()
			explained += x.N
			technique = a.Technique
			p, err := explain.PrecisionsAtR(a, truth)
			if err != nil {
				return nil, "", 0, err
			}
			z, err := explain.ZScore(x, bg)
			if err != nil {
				return nil, "", 0, err
			}
			pz, err := explain.PrecisionsAtR(z, truth)
			if err != nil {
				return nil, "", 0, err
			}
			ra, err := explain.Random(x.N, x.Dim(), pseed)
			if err != nil {
				return nil, "", 0, err
			}
			pr, err := explain.PrecisionsAtR(ra, truth)
			if err != nil {
				return nil, "", 0, err
			}
			nr := min(x.N, repairRows)
			xr, err := x.Subset(seq(nr))
			if err != nil {
				return nil, "", 0, err
			}
			bgr, err := bg.Subset(seq(min(bg.N, repairBackground)))
			if err != nil {
				return nil, "", 0, err
			}
			rp, err := explain.Repair(ctx, det, xr, bgr, explain.RepairOptions{})
			if err != nil {
				return nil, "", 0, err
			}
			prp, err := explain.PrecisionsAtR(rp, truth[:nr])
			if err != nil {
				return nil, "", 0, err
			}
			for i, v := range prp {
				if !math.IsNaN(v) {
					rep = append(rep, v)
					if scores[i] > cut {
						repF = append(repF, v)
					}
				}
			}
			for i := range p {
				if math.IsNaN(p[i]) {
					continue
				}
				nRows++
				all, zs, rnd = append(all, p[i]), append(zs, pz[i]), append(rnd, pr[i])
				if scores[i] > cut {
					nFlagged++
					flagged = append(flagged, p[i])
				}
			}
		}
		out[kind] = explainMeasure{all: meanOf(all), flagged: meanOf(flagged), flaggedShare: float64(nFlagged) / float64(max(nRows, 1)), zscore: meanOf(zs), random: meanOf(rnd), repair: meanOf(rep), repairFlagged: meanOf(repF)}
	}
	return out, technique, float64(explained) / math.Max(seconds, 1e-9), nil
}

// explainTop explains the n highest-scoring anomalies (label 1) of test
// by their k most contributing features.
func explainTop(ctx context.Context, det detector.Detector, test, bg *data.Dataset, n, k int) ([]results.Explained, error) {
	scores, err := det.Score(ctx, test)
	if err != nil {
		return nil, err
	}
	var anom []int
	for i, y := range test.Y {
		if y == 1 {
			anom = append(anom, i)
		}
	}
	slices.SortStableFunc(anom, func(a, b int) int {
		switch {
		case scores[a] > scores[b]:
			return -1
		case scores[a] < scores[b]:
			return 1
		}
		return 0
	})
	anom = anom[:min(n, len(anom))]
	if len(anom) == 0 {
		return nil, nil
	}
	x, err := test.Subset(anom)
	if err != nil {
		return nil, err
	}
	a, err := explain.Attribute(ctx, det, x, bg, explain.Options{Shapley: explain.ShapleyOptions{Seed: 1}})
	if err != nil {
		return nil, err
	}
	out := make([]results.Explained, len(anom))
	for i, row := range anom {
		e := results.Explained{Row: row, Score: scores[row]}
		for _, j := range explain.TopK(a, i, k) {
			name := fmt.Sprintf("x%d", j)
			if j < len(test.FeatureNames) && test.FeatureNames[j] != "" {
				name = test.FeatureNames[j]
			}
			e.Features = append(e.Features, name)
			e.Contributions = append(e.Contributions, float64(a.Row(i)[j]))
		}
		out[i] = e
	}
	return out, nil
}

// backgroundOf returns up to detector.MaxBackground evenly spaced rows of
// x, as a model keeps them.
func backgroundOf(x *data.Dataset) *data.Dataset {
	k := min(x.N, detector.MaxBackground)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i * x.N / k
	}
	b, _ := x.Subset(idx)
	return b
}

// seq returns 0, 1, ..., n−1.
func seq(n int) []int {
	s := make([]int, n)
	for i := range s {
		s[i] = i
	}
	return s
}

func quantile95(v []float64) float64 {
	c := slices.Clone(v)
	slices.Sort(c)
	return c[int(0.95*float64(len(c)-1))]
}

func meanOf(v []float64) float64 {
	if len(v) == 0 {
		return math.NaN()
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

func keysOf(ms []map[string]float64) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		for k := range m {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	slices.Sort(out)
	return out
}

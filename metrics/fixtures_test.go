package metrics

import (
	"encoding/json"
	"math"
	"os"
	"testing"
)

// The fixtures were generated once by testdata/sklearn_fixtures.py with
// scikit-learn 1.2.1; see that script.

type rankingFixture struct {
	Name             string    `json:"name"`
	Scores           []float64 `json:"scores"`
	Labels           []int     `json:"labels"`
	ROCAUC           float64   `json:"roc_auc"`
	AveragePrecision float64   `json:"average_precision"`
	ROCDrop          rocFix    `json:"roc_drop"`
	ROCFull          rocFix    `json:"roc_full"`
	PR               struct {
		Precision  []float64 `json:"precision"`
		Recall     []float64 `json:"recall"`
		Thresholds []float64 `json:"thresholds"`
	} `json:"pr"`
	F1At []struct {
		Threshold float64 `json:"threshold"`
		F1        float64 `json:"f1"`
	} `json:"f1_at"`
	BestF1 struct {
		F1        float64 `json:"f1"`
		Threshold float64 `json:"threshold"`
	} `json:"best_f1"`
}

type rocFix struct {
	FPR                  []float64 `json:"fpr"`
	TPR                  []float64 `json:"tpr"`
	ThresholdsAfterFirst []float64 `json:"thresholds_after_first"`
}

type clusterFixture struct {
	Name     string  `json:"name"`
	Truth    []int   `json:"truth"`
	Pred     []int   `json:"pred"`
	NMIArith float64 `json:"nmi_arithmetic"`
	NMIGeom  float64 `json:"nmi_geometric"`
	NMIMin   float64 `json:"nmi_min"`
	NMIMax   float64 `json:"nmi_max"`
	ARI      float64 `json:"ari"`
	ACC      float64 `json:"acc"`
}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("fixture %s: %v", path, err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("fixture %s: %v", path, err)
	}
}

const fixTol = 1e-12

func TestRankingAgainstSklearn(t *testing.T) {
	var f struct{ Cases []rankingFixture }
	loadJSON(t, "testdata/ranking.json", &f)
	if len(f.Cases) < 5 {
		t.Fatalf("only %d ranking fixtures", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			auc, err := ROCAUC(c.Scores, c.Labels)
			if err != nil || !near(auc, c.ROCAUC, fixTol) {
				t.Errorf("AUC %v (%v), sklearn %v", auc, err, c.ROCAUC)
			}
			ap, err := AveragePrecision(c.Scores, c.Labels)
			if err != nil || !near(ap, c.AveragePrecision, fixTol) {
				t.Errorf("AP %v (%v), sklearn %v", ap, err, c.AveragePrecision)
			}
			for _, drop := range []bool{true, false} {
				want := c.ROCFull
				if drop {
					want = c.ROCDrop
				}
				r, err := ROC(c.Scores, c.Labels, drop)
				if err != nil {
					t.Fatal(err)
				}
				eqSlice(t, "fpr", r.FPR, want.FPR, fixTol)
				eqSlice(t, "tpr", r.TPR, want.TPR, fixTol)
				eqSlice(t, "thresholds", r.Thresholds[1:], want.ThresholdsAfterFirst, 0)
				if !math.IsInf(r.Thresholds[0], 1) {
					t.Errorf("first threshold %v", r.Thresholds[0])
				}
			}
			pr, err := PR(c.Scores, c.Labels, false)
			if err != nil {
				t.Fatal(err)
			}
			eqSlice(t, "precision", pr.Precision, c.PR.Precision, fixTol)
			eqSlice(t, "recall", pr.Recall, c.PR.Recall, fixTol)
			eqSlice(t, "pr thresholds", pr.Thresholds, c.PR.Thresholds, 0)
			for _, fa := range c.F1At {
				cm, err := AtThreshold(c.Scores, c.Labels, fa.Threshold)
				if err != nil || !near(cm.F1(), fa.F1, fixTol) {
					t.Errorf("F1 at %v = %v (%v), sklearn %v", fa.Threshold, cm.F1(), err, fa.F1)
				}
			}
			f1, thr, err := BestF1(c.Scores, c.Labels)
			if err != nil || !near(f1, c.BestF1.F1, fixTol) || thr != c.BestF1.Threshold {
				t.Errorf("best F1 %v at %v (%v), sklearn brute force %v at %v", f1, thr, err, c.BestF1.F1, c.BestF1.Threshold)
			}
		})
	}
}

func TestClusteringAgainstSklearn(t *testing.T) {
	var f struct{ Cases []clusterFixture }
	loadJSON(t, "testdata/clustering.json", &f)
	if len(f.Cases) < 5 {
		t.Fatalf("only %d clustering fixtures", len(f.Cases))
	}
	for _, c := range f.Cases {
		t.Run(c.Name, func(t *testing.T) {
			for _, m := range []struct {
				avg  Average
				want float64
			}{{Arithmetic, c.NMIArith}, {Geometric, c.NMIGeom}, {Min, c.NMIMin}, {Max, c.NMIMax}} {
				v, err := NMI(c.Truth, c.Pred, m.avg)
				if err != nil || !near(v, m.want, fixTol) {
					t.Errorf("NMI %v = %v (%v), sklearn %v", m.avg, v, err, m.want)
				}
			}
			if v, err := ARI(c.Truth, c.Pred); err != nil || !near(v, c.ARI, fixTol) {
				t.Errorf("ARI = %v (%v), sklearn %v", v, err, c.ARI)
			}
			if v, err := ACC(c.Truth, c.Pred); err != nil || !near(v, c.ACC, fixTol) {
				t.Errorf("ACC = %v (%v), scipy %v", v, err, c.ACC)
			}
		})
	}
}

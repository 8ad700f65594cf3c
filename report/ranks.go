package report

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/oddity-ml/oddity/metrics"
	"github.com/oddity-ml/oddity/viz"
)

// rankAlpha is the family-wise level of the pairwise comparisons.
const rankAlpha = 0.05

// rankTasks is the least number of tasks on which a table's methods are
// ranked: Friedman's chi-square approximation wants about ten.
const rankTasks = 8

// ranksBlock adds to bl, for a comparison table with at least rankTasks
// tasks and three methods, each method's average rank by AUC-ROC and
// AUC-PR over the tasks every ranked method has, the Friedman test, and a
// critical-difference figure for AUC-ROC from Wilcoxon signed-rank tests
// with Holm's correction (metrics.PairwiseWilcoxonHolm).
func (b *builder) ranksBlock(g *group, bl *block) {
	l := makeLayout(g.Cells)
	var cols []string
	for _, c := range l.Cols {
		n := 0
		for _, r := range l.Rows {
			if cell := l.At[[2]string{r, c}]; cell != nil && cell.Metrics["auc_roc"].N > 0 {
				n++
			}
		}
		if n > 0 {
			cols = append(cols, c)
		}
	}
	if len(cols) < 3 {
		return
	}
	var rows []string
	for _, r := range l.Rows {
		ok := true
		for _, c := range cols {
			cell := l.At[[2]string{r, c}]
			if cell == nil || cell.Metrics["auc_roc"].N == 0 || cell.Metrics["auc_pr"].N == 0 {
				ok = false
				break
			}
		}
		if ok {
			rows = append(rows, r)
		}
	}
	if len(rows) < rankTasks {
		return
	}
	grid := func(m string) [][]float64 {
		out := make([][]float64, len(rows))
		for i, r := range rows {
			out[i] = make([]float64, len(cols))
			for j, c := range cols {
				out[i][j] = l.At[[2]string{r, c}].Metrics[m].Mean
			}
		}
		return out
	}
	fr, err := metrics.Friedman(grid("auc_roc"))
	if err != nil {
		bl.Notes = append(bl.Notes, "ranks: "+err.Error())
		return
	}
	fp, err := metrics.Friedman(grid("auc_pr"))
	if err != nil {
		bl.Notes = append(bl.Notes, "ranks: "+err.Error())
		return
	}
	adj, err := metrics.PairwiseWilcoxonHolm(grid("auc_roc"))
	if err != nil {
		bl.Notes = append(bl.Notes, "ranks: "+err.Error())
		return
	}
	order := make([]int, len(cols))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, c int) int {
		switch {
		case fr.AverageRanks[a] < fr.AverageRanks[c]:
			return -1
		case fr.AverageRanks[a] > fr.AverageRanks[c]:
			return 1
		}
		return 0
	})
	t := &table{Caption: fmt.Sprintf("Average ranks over %d tasks (1 = best)", len(rows)), Left: 1,
		Head: []string{"Method", "Rank by AUC-ROC", "Rank by AUC-PR", "Not significantly different by AUC-ROC (Wilcoxon–Holm, α = 0.05)"}}
	for _, j := range order {
		var same []string
		for _, k := range order {
			if k != j && adj[j][k] > rankAlpha {
				same = append(same, cols[k])
			}
		}
		t.Rows = append(t.Rows, []string{cols[j], fmt.Sprintf("%.2f", fr.AverageRanks[j]), fmt.Sprintf("%.2f", fp.AverageRanks[j]), orNone(strings.Join(same, ", "))})
	}
	// The lowest average rank of each measure is the best.
	for k, ranks := range [][]float64{fr.AverageRanks, fp.AverageRanks} {
		vals := make([]float64, len(order))
		for i, j := range order {
			vals[i] = ranks[j]
		}
		t.markColumn(1+k, vals, -1, func(v float64) string { return fmt.Sprintf("%.2f", v) })
	}
	bl.Tables = append(bl.Tables, t)
	bl.Paras = append(bl.Paras, fmt.Sprintf("Friedman test over %d tasks and %d methods: by AUC-ROC χ² = %.1f (p = %.2g; Iman–Davenport F = %.2f, p = %.2g); by AUC-PR χ² = %.1f (p = %.2g). "+
		"Pairs are compared by Wilcoxon's signed-rank test on the per-task means, p-values adjusted by Holm's method over all %d pairs; "+
		"a bar in the figure joins methods no two of which differ at α = %.2f (Wilcoxon–Holm rather than Nemenyi: a mean-rank post-hoc test makes a pair's verdict depend on the other methods compared, Benavoli et al. 2016).",
		len(rows), len(cols), fr.ChiSquare, fr.PChiSquare, fr.F, fr.PF, fp.ChiSquare, fp.PChiSquare, len(cols)*(len(cols)-1)/2, rankAlpha))
	pairs := len(cols) * (len(cols) - 1) / 2
	if least := float64(pairs) * 2 / math.Pow(2, float64(len(rows))); least > rankAlpha {
		bl.Paras = append(bl.Paras, fmt.Sprintf("With %d tasks no pair can be told apart here: the smallest two-sided Wilcoxon p-value is 2/2^%d, which Holm's correction over %d pairs raises to %.2g, above α. The average ranks still order the methods; they do not say which differences are real.",
			len(rows), len(rows), pairs, least))
	}
	cl := metrics.Cliques(fr.AverageRanks, adj, rankAlpha)
	bl.Figures = append(bl.Figures, b.figure(g.Table+" ranks", "Average ranks by AUC-ROC, "+g.Table, false, func() (*viz.Figure, error) {
		return viz.CriticalDifferenceFigure(fmt.Sprintf("AUC-ROC ranks over %d tasks (bars: no significant difference)", len(rows)), cols, fr.AverageRanks, cl)
	}))
}

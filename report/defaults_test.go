package report

import (
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/suite/results"
)

// The table of how each method's defaults were chosen appears, one row a
// method with its source and full text, in both pages, when the results
// carry it, and not at all when they do not (results written before it).
func TestDefaultsTable(t *testing.T) {
	res := synthetic()
	_, md, page, _ := render(t, res)
	if strings.Contains(md, "defaults were chosen") || strings.Contains(page, "defaults were chosen") {
		t.Error("a report of results without provenance shows the defaults table")
	}
	res = synthetic()
	res.Defaults = []results.Provenance{
		{Method: "dplan", Source: "tuned (checked out of sample)", How: "subset 3, chosen on half A, AUC-PR 0.663 on half B"},
		{Method: "iforest", Source: "paper", How: "100 trees of 256 samples"},
	}
	_, md, page, _ = render(t, res)
	for _, want := range []string{"How each method's defaults were chosen", "| dplan | tuned (checked out of sample) | subset 3, chosen on half A, AUC-PR 0.663 on half B |", "| iforest | paper | 100 trees of 256 samples |"} {
		if !strings.Contains(md, want) {
			t.Errorf("report.md lacks %q", want)
		}
	}
	for _, want := range []string{"How each method&#39;s defaults were chosen", "subset 3, chosen on half A, AUC-PR 0.663 on half B", "100 trees of 256 samples"} {
		if !strings.Contains(page, want) {
			t.Errorf("report.html lacks %q", want)
		}
	}
}

package table

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// gappy writes a 2000-row table of two numbers, a and b, where 5% of b's
// cells are blank: at random, or (informative) exactly where a is largest.
func gappy(informative bool) string {
	r := rand.New(rand.NewPCG(7, 1))
	var sb strings.Builder
	sb.WriteString("a,b\n")
	for i := 0; i < 2000; i++ {
		a := r.NormFloat64()
		b := fmt.Sprint(r.NormFloat64())
		if (informative && a > 1.645) || (!informative && r.Float64() < 0.05) {
			b = ""
		}
		fmt.Fprintf(&sb, "%g,%s\n", a, b)
	}
	return sb.String()
}

// TestMissingIndicators checks the three indicator modes: "auto" drops the
// indicator of gaps that fall at random and keeps that of gaps that follow
// another column; "column" keeps both; "none" neither.
func TestMissingIndicators(t *testing.T) {
	for _, c := range []struct {
		mode        string
		informative bool
		want        bool
	}{
		{"", false, false}, {"", true, true}, {IndicatorsAuto, false, false}, {IndicatorsAuto, true, true},
		{IndicatorsColumn, false, true}, {IndicatorsColumn, true, true},
		{IndicatorsNone, false, false}, {IndicatorsNone, true, false},
	} {
		raw, err := ReadCSV(strings.NewReader(gappy(c.informative)), "g.csv", Options{Indicators: c.mode})
		if err != nil {
			t.Fatal(err)
		}
		p, err := Fit(raw)
		if err != nil {
			t.Fatal(err)
		}
		got := slices.Contains(p.FeatureNames(), "b.missing")
		if got != c.want {
			t.Errorf("mode %q, informative gaps %v: b.missing present %v, want %v (features %v, notes %q)", c.mode, c.informative, got, c.want, p.FeatureNames(), p.Notes())
		}
		dropped := false
		for _, n := range p.Notes() {
			dropped = dropped || strings.Contains(n, "look missing at random")
		}
		if dropped != (c.mode != IndicatorsColumn && c.mode != IndicatorsNone && !c.want) {
			t.Errorf("mode %q, informative %v: note of a dropped indicator %v (notes %q)", c.mode, c.informative, dropped, p.Notes())
		}
	}
	if _, err := ReadCSV(strings.NewReader("a\n1\n"), "g.csv", Options{Indicators: "rows"}); err == nil {
		t.Error(`Indicators "rows" accepted`)
	}
}

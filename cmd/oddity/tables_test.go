package main

import (
	"encoding/csv"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A messy CSV (an id, a timestamp, text, blank and NA cells, partial
// labels) trains directly; scoring a copy with reordered columns and an
// extra one gives the same scores, carries the ids, and a missing column
// is an error naming it. DevNet learns from the rows labelled 1.
func TestTrainScoreMessyTable(t *testing.T) {
	dir := t.TempDir()
	r := rand.New(rand.NewPCG(5, 6))
	var b strings.Builder
	b.WriteString("order_id,placed_at,amount,country,express,label\n")
	for i := 0; i < 400; i++ {
		amt := fmt.Sprintf("%.2f", 10+r.Float64()*20)
		country := []string{"FR", "DE", "US"}[r.IntN(3)]
		label := ""
		if i%40 == 3 {
			amt, country, label = "900", "ZZ", "1"
		} else if i%3 == 0 {
			label = "0"
		}
		if i%17 == 5 {
			amt = "NA"
		}
		fmt.Fprintf(&b, "ORD-%d,2024-03-%02d 10:00:00,%s,%s,%s,%s\n", 1000+i, 1+i%28, amt, country, []string{"yes", "no", ""}[i%3], label)
	}
	train := filepath.Join(dir, "orders.csv")
	if err := os.WriteFile(train, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	// The same rows, columns reordered, one extra column.
	recs, err := csv.NewReader(strings.NewReader(b.String())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var re strings.Builder
	w := csv.NewWriter(&re)
	for i, rec := range recs {
		extra := "x"
		if i == 0 {
			extra = "note"
		}
		_ = w.Write([]string{rec[3], rec[0], rec[5], rec[2], extra, rec[1], rec[4]})
	}
	w.Flush()
	reordered := filepath.Join(dir, "reordered.csv")
	if err := os.WriteFile(reordered, []byte(re.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, method := range []string{"iforest", "devnet"} {
		model := filepath.Join(dir, method+".odm")
		args := []string{"train", method, "--data", train, "--id-column", "order_id", "--label-column", "label", "--out", model}
		if method == "devnet" {
			args = append(args, "--epochs", "5")
		}
		_, errOut, err := runRoot(t, args...)
		if err != nil {
			t.Fatalf("%s: %v", method, err)
		}
		if !strings.Contains(errOut, "country") || !strings.Contains(errOut, "timestamp") {
			t.Errorf("%s: schema not printed:\n%s", method, errOut)
		}
		a, _, err := runRoot(t, "score", "--model", model, train)
		if err != nil {
			t.Fatal(err)
		}
		c, _, err := runRoot(t, "score", "--model", model, reordered)
		if err != nil {
			t.Fatal(err)
		}
		if a != c {
			t.Errorf("%s: reordered columns score differently", method)
		}
		lines := strings.Split(a, "\n")
		if !strings.HasPrefix(lines[0], "index,order_id,score") || !strings.HasPrefix(lines[1], "0,ORD-1000,") {
			t.Errorf("%s: output does not carry the ids:\n%s", method, strings.Join(lines[:3], "\n"))
		}
		// The planted rows rank first.
		top := 0
		for _, l := range lines[1:] {
			f := strings.Split(l, ",")
			if len(f) > 5 && f[5] == "1" && f[4] == "1" {
				top++
			}
		}
		if top < 5 {
			t.Errorf("%s: only %d of the 10 planted rows flagged", method, top)
		}
	}
	noAmount := filepath.Join(dir, "no-amount.csv")
	var nb strings.Builder
	for _, rec := range recs {
		fmt.Fprintf(&nb, "%s,%s,%s,%s,%s\n", rec[0], rec[1], rec[3], rec[4], rec[5])
	}
	if err := os.WriteFile(noAmount, []byte(nb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err = runRoot(t, "score", "--model", filepath.Join(dir, "iforest.odm"), noAmount)
	if err == nil || !strings.Contains(err.Error(), "amount") {
		t.Errorf("missing column: %v", err)
	}
}

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/option"
)

// `oddity methods --json` lists every registered method with its kind and
// each option's declared name and default, and the paper's value where it
// differs; an unknown method is an error naming the known ones.
func TestMethodsListing(t *testing.T) {
	var out bytes.Buffer
	rootCmd.SetOut(&out)
	defer rootCmd.SetOut(nil)
	rootCmd.SetArgs([]string{"methods", "--json"})
	defer rootCmd.SetArgs(nil)
	if err := rootCmd.Execute(); err != nil {
		t.Fatal(err)
	}
	var got []methodListing
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if len(got) != len(detector.Methods()) {
		t.Fatalf("%d methods listed, %d registered", len(got), len(detector.Methods()))
	}
	for _, l := range got {
		in, err := detector.Lookup(l.Method)
		if err != nil {
			t.Fatal(err)
		}
		want := option.Values(in.Options())
		for _, f := range l.Options {
			if v, ok := want[f.Name]; ok && v != f.Value {
				t.Errorf("%s --%s: listed default %q, DefaultOptions has %q", l.Method, f.Name, f.Value, v)
			}
		}
		if l.Kind == "" || l.Summary == "" || len(l.Options) == 0 {
			t.Errorf("%s: incomplete listing %+v", l.Method, l)
		}
	}
	// DPLAN's paper uses a subset of 1,000 where the default is 3.
	for _, l := range got {
		if l.Method == "dplan" && l.Paper["subset"] != "1000" {
			t.Errorf("dplan paper settings: %v", l.Paper)
		}
	}
	rootCmd.SetArgs([]string{"methods", "no-such-method"})
	if err := rootCmd.Execute(); err == nil || !strings.Contains(err.Error(), "iforest") {
		t.Errorf("unknown method: %v", err)
	}
}

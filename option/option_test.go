package option

import (
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

type mode string

type testOptions struct {
	Trees   int     `opt:"trees" help:"number of trees"`
	Rate    float64 `opt:"rate" help:"learning rate"`
	Double  bool    `opt:"double" help:"double it"`
	Mode    mode    `opt:"mode" alias:"old-mode" help:"a or b"`
	Widths  []int   `opt:"widths,auto" help:"layer widths"`
	Fixed   []int   `opt:"fixed" help:"fixed widths"`
	Big     uint64  `opt:"big" help:"a large count"`
	Extra   int     `opt:"extra,omitzero" help:"added later"`
	Seed    uint64
	Workers int
}

func defaults() testOptions {
	return testOptions{Trees: 100, Rate: 2.5e-4, Mode: "a", Fixed: []int{64, 32}, Big: 7}
}

// The printed values are pflag's, so a setting recorded before this
// package existed (through pflag's own Var functions) reads the same.
func TestValuesPrintAsPflag(t *testing.T) {
	o := defaults()
	fs := pflag.NewFlagSet("ref", pflag.ContinueOnError)
	fs.IntVar(&o.Trees, "trees", o.Trees, "")
	fs.Float64Var(&o.Rate, "rate", o.Rate, "")
	fs.BoolVar(&o.Double, "double", o.Double, "")
	fs.StringVar((*string)(&o.Mode), "mode", string(o.Mode), "")
	fs.Uint64Var(&o.Big, "big", o.Big, "")
	want := map[string]string{}
	fs.VisitAll(func(f *pflag.Flag) { want[f.Name] = f.Value.String() })
	want["widths"], want["fixed"] = "auto", "64,32"
	if got := Values(&o); !reflect.DeepEqual(got, want) {
		t.Errorf("Values = %v, want %v", got, want)
	}
	for _, x := range []float64{0.1, 1e-3, 0.001, 1, 100, 1.0 / 3, 2.5e-4} {
		o.Rate = x
		fs.Set("rate", Values(&o)["rate"])
		if o.Rate != x {
			t.Errorf("rate %v does not read back from %q", x, Values(&o)["rate"])
		}
	}
}

func TestBindParsesFlags(t *testing.T) {
	o := defaults()
	fs := pflag.NewFlagSet("t", pflag.ContinueOnError)
	Bind(fs, &o)
	if err := fs.Parse([]string{"--trees", "7", "--rate=0.5", "--double", "--old-mode", "b", "--widths", "8,4"}); err != nil {
		t.Fatal(err)
	}
	if o.Trees != 7 || o.Rate != 0.5 || !o.Double || o.Mode != "b" || !reflect.DeepEqual(o.Widths, []int{8, 4}) {
		t.Errorf("parsed %+v", o)
	}
	ch := Changed(fs, &o)
	want := map[string]string{"trees": "7", "rate": "0.5", "double": "true", "mode": "b", "widths": "8,4"}
	if !reflect.DeepEqual(ch, want) {
		t.Errorf("Changed = %v, want %v", ch, want)
	}
	if f := fs.Lookup("old-mode"); f == nil || !f.Hidden {
		t.Errorf("alias flag missing or shown")
	}
	for _, bad := range [][]string{{"--trees", "x"}, {"--rate", "NaN"}, {"--widths", "8,-1"}} {
		o2 := defaults()
		fs2 := pflag.NewFlagSet("t", pflag.ContinueOnError)
		fs2.SetOutput(new(strings.Builder))
		Bind(fs2, &o2)
		if err := fs2.Parse(bad); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

func TestApplyAndErrors(t *testing.T) {
	o := defaults()
	if err := Apply(&o, map[string]string{"trees": "3", "widths": "auto", "extra": "2", "big": "18446744073709551615"}); err != nil {
		t.Fatal(err)
	}
	if o.Trees != 3 || o.Widths != nil || o.Extra != 2 || o.Big != math.MaxUint64 {
		t.Errorf("applied %+v", o)
	}
	err := Apply(&o, map[string]string{"tress": "3"})
	if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), `"tress"`) || !strings.Contains(err.Error(), "trees") {
		t.Errorf("unknown option: %v", err)
	}
	err = Set(&o, "trees", "1.5")
	if !errors.Is(err, ErrOption) || !strings.Contains(err.Error(), "trees") {
		t.Errorf("malformed value: %v", err)
	}
	for _, v := range []string{"NaN", "Inf", "-Inf", "x"} {
		if err := Set(&o, "rate", v); err == nil {
			t.Errorf("rate %q accepted", v)
		}
	}
}

func TestOmitZeroAndOf(t *testing.T) {
	o := defaults()
	if _, ok := Values(&o)["extra"]; ok {
		t.Errorf("zero omitzero option recorded")
	}
	o.Extra = 4
	if Values(&o)["extra"] != "4" {
		t.Errorf("non-zero omitzero option not recorded: %v", Values(&o))
	}
	got := Of(&o, &o.Trees, &o.Fixed)
	if !reflect.DeepEqual(got, map[string]string{"trees": "100", "fixed": "64,32"}) {
		t.Errorf("Of = %v", got)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Of with a field that is not an option did not panic")
		}
	}()
	Of(&o, &o.Workers)
}

func TestFieldsAndSeed(t *testing.T) {
	o := defaults()
	fs := Fields(&o)
	if len(fs) != 8 || fs[0].Name != "trees" || fs[0].Value != "100" || fs[0].Type != "int" || fs[3].Aliases[0] != "old-mode" {
		t.Errorf("Fields = %+v", fs)
	}
	if !SetSeed(&o, 9) || o.Seed != 9 {
		t.Errorf("SetSeed did not set Seed")
	}
	var noSeed struct {
		A int `opt:"a" help:"a"`
	}
	if SetSeed(&noSeed, 1) {
		t.Errorf("SetSeed reported a Seed field on a struct without one")
	}
}

func TestMalformedDeclarationsPanic(t *testing.T) {
	for name, v := range map[string]any{
		"no help": &struct {
			A int `opt:"a"`
		}{},
		"dup": &struct {
			A, B int `opt:"a" help:"x"`
		}{},
		"upper": &struct {
			A int `opt:"Alpha" help:"x"`
		}{},
		"type": &struct {
			A float32 `opt:"a" help:"x"`
		}{},
		"modifier": &struct {
			A int `opt:"a,bogus" help:"x"`
		}{},
		"not a ptr": struct{}{},
		"bad min": &struct {
			A int `opt:"a" help:"x" min:"one"`
		}{},
		"enum int": &struct {
			A int `opt:"a" help:"x" enum:"1|2"`
		}{},
		"min bool": &struct {
			A bool `opt:"a" help:"x" min:"0"`
		}{},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: no panic", name)
				}
			}()
			Fields(v)
		}()
	}
}

type checked struct {
	Trees  int     `opt:"trees" help:"trees" min:"1" max:"100"`
	Frac   float64 `opt:"frac" help:"a fraction" gt:"0" max:"1"`
	Loss   string  `opt:"loss" help:"loss" enum:"squared|huber"`
	Widths []int   `opt:"widths,auto" help:"widths" min:"1"`
	Free   float64 `opt:"free" help:"any finite number"`
}

func TestCheckConstraints(t *testing.T) {
	ok := checked{Trees: 1, Frac: 1, Loss: "huber", Widths: []int{4, 2}}
	if err := Check(&ok); err != nil {
		t.Fatalf("valid options refused: %v", err)
	}
	for _, c := range []struct {
		set  func(o *checked)
		want string
	}{
		{func(o *checked) { o.Trees = 0 }, "trees = 0: must be ≥ 1"},
		{func(o *checked) { o.Trees = 101 }, "trees = 101: must be ≤ 100"},
		{func(o *checked) { o.Frac = 0 }, "frac = 0: must be > 0"},
		{func(o *checked) { o.Frac = 1.5 }, "frac = 1.5: must be ≤ 1"},
		{func(o *checked) { o.Loss = "l1" }, `loss = "l1": must be one of squared, huber`},
		{func(o *checked) { o.Widths = []int{4, 0} }, "widths = 4,0: must be ≥ 1"},
		{func(o *checked) { o.Free = math.Inf(1) }, "free = +Inf: must be a finite number"},
		{func(o *checked) { o.Frac = math.NaN() }, "frac = NaN: must be a finite number"},
	} {
		o := ok
		c.set(&o)
		err := Check(&o)
		if err == nil || err.Error() != c.want {
			t.Errorf("got %v, want %q", err, c.want)
		}
	}
	f := Fields(&ok)
	if f[0].Range != "≥ 1, ≤ 100" || f[1].Range != "> 0, ≤ 1" || f[2].Range != "squared|huber" || f[4].Range != "" {
		t.Errorf("ranges %q %q %q %q", f[0].Range, f[1].Range, f[2].Range, f[4].Range)
	}
}

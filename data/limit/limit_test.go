package limit

import (
	"errors"
	"io"
	"strings"
	"testing"
)

func TestParseAndFormatSizes(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "512MiB": 512 << 20, "2g": 2 << 30, " 3 KB ": 3 << 10, "1TiB": 1 << 40, "7b": 7} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("%q: %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "1.5GiB", "GiB", "9999999999TiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("%q accepted", in)
		}
	}
	if Size(1536<<20) != "1.5 GiB (1610612736 bytes)" || Size(100) != "100 bytes" {
		t.Errorf("Size: %q %q", Size(1536<<20), Size(100))
	}
}

// A budget refuses a take that passes its maximum and keeps its total;
// the reader fails at the first byte past the budget, where io.LimitReader
// would end the stream quietly.
func TestBudgetAndReader(t *testing.T) {
	b := &Budget{What: "x", Name: "MaxX", Max: 10}
	if b.Take(6) != nil || b.Take(4) != nil || b.Used() != 10 {
		t.Fatal("takes within the maximum")
	}
	err := b.Take(1)
	if !errors.Is(err, ErrExceeded) || !strings.Contains(err.Error(), "limit.MaxX") || b.Used() != 10 {
		t.Errorf("over: %v, used %d", err, b.Used())
	}
	if err := b.Take(-1); err == nil {
		t.Error("a negative take accepted")
	}
	got, err := io.ReadAll(NewReader(strings.NewReader("0123456789"), &Budget{Max: 10}))
	if err != nil || string(got) != "0123456789" {
		t.Errorf("exactly the budget: %q %v", got, err)
	}
	_, err = io.ReadAll(NewReader(strings.NewReader("0123456789A"), &Budget{What: "y", Name: "MaxY", Max: 10}))
	if !errors.Is(err, ErrExceeded) {
		t.Errorf("one byte over: %v", err)
	}
	restore := Set(Limits{MaxDecoded: 5})
	if l := Get(); l.MaxDecoded != 5 || l.MaxDecompressed != DefaultMaxDecompressed {
		t.Errorf("Set: %+v", l)
	}
	restore()
	if Get() != Defaults() {
		t.Errorf("restore: %+v", Get())
	}
}

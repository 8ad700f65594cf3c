package ecod

import (
	"runtime"
	"runtime/debug"
	"testing"

	"github.com/oddity-ml/oddity/detector"
	"github.com/oddity-ml/oddity/detector/detectortest"
)

func TestConformance(t *testing.T) {
	// No setting makes Fit slow (one sort of each column): the
	// cancellation check alone trains on SlowTrain, large enough that a
	// fit on one goroutine takes well over 200 ms, with garbage collected
	// early to bound its memory.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	defer debug.SetGCPercent(debug.SetGCPercent(10))
	detectortest.Conformance(t, detectortest.Case{
		Method:    Method,
		Settings:  map[string]string{},
		Slow:      map[string]string{},
		Bad:       map[string]string{"aggregate": "mean"},
		Train:     detectortest.Gaussian(500, 16, 0, 0, 1),
		SlowTrain: detectortest.Gaussian(60000, 256, 0, 0, 1),
		Test:      detectortest.Gaussian(40, 16, 0.5, 0, 2),
	})
}

func TestRegistered(t *testing.T) {
	detectortest.Registered(t, Method, detector.Unsupervised|detector.Tables)
	o := DefaultOptions()
	detectortest.OptionValues(t, &o, map[string]string{"aggregate": "paper"})
}

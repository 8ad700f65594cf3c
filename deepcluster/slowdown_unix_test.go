//go:build unix

package deepcluster

import (
	"context"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/oddity-ml/oddity/data"
)

// TestEpochSlowdown measures the cost of augmentation on pretraining
// epochs of 2,048 images, alternating the two modes over five rounds and
// keeping each mode's fastest epoch (the machine is shared, so the
// fastest is the least disturbed) and its CPU time:
//
//	EPOCH_SLOWDOWN=1 go test ./deepcluster -run EpochSlowdown -v
//
// The bound is 15%.
func TestEpochSlowdown(t *testing.T) {
	if os.Getenv("EPOCH_SLOWDOWN") == "" {
		t.Skip("set EPOCH_SLOWDOWN=1 to run")
	}
	for _, side := range []int{16, 28} {
		x := &data.Dataset{X: make([]float32, 2048*side*side), N: 2048, Shape: []int{1, side, side}}
		r := newRand(5)
		for i := range x.X {
			x.X[i] = r.Float32()
		}
		best := map[bool]time.Duration{}
		cpu := map[bool]time.Duration{}
		for round := 0; round < 5; round++ {
			for _, aug := range []bool{false, true} {
				o := DefaultOptions()
				o.PretrainEpochs, o.Augment = 1, aug
				net, _ := NewAutoencoder(1, side, 10, newRand(1))
				c0, w0 := cpuTime(), time.Now()
				if err := pretrain(context.Background(), net, x, []int{1, side, side}, o, newRand(2), newAugmenter(o, side), &Result{}, func(string, int, int, map[string]float64) {}); err != nil {
					t.Fatal(err)
				}
				w, c := time.Since(w0), cpuTime()-c0
				if best[aug] == 0 || w < best[aug] {
					best[aug] = w
				}
				if cpu[aug] == 0 || c < cpu[aug] {
					cpu[aug] = c
				}
			}
		}
		t.Logf("side %d: fastest epoch %v plain, %v augmented (%+.1f%%); least CPU %v plain, %v augmented (%+.1f%%)", side,
			best[false], best[true], 100*(float64(best[true])/float64(best[false])-1),
			cpu[false], cpu[true], 100*(float64(cpu[true])/float64(cpu[false])-1))
	}
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

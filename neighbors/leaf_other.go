//go:build !amd64 || noasm

package neighbors

// Without the assembly kernels the plain-Go versions run.

func leafDistsAsm(q []float64, blk []float32, d int, bound float64, dist []float64, mask []uint8) bool {
	return false
}

func boxPairAsm(q, box []float64, dp int) (dl, dr float64, ok bool) { return 0, 0, false }

// kernelName names the kernels in use, for tests and benchmarks.
func kernelName() string { return "go" }

// setKernels is a no-op without assembly kernels.
func setKernels(name string) bool { return name == "go" }

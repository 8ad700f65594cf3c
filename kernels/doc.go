// Package kernels holds the hot loops of oddity's numeric engine: single
// precision matrix multiply (SGEMM), the im2col/col2im lowering used by
// convolutions (with vector gathers and scatter-adds for stride-2 layers,
// stride2.go), batch normalisation's per-channel loops (bn.go), and a few
// element-wise vector routines.
//
// The package is deliberately narrow: every routine works on plain []float32
// slices with explicit sizes and leading dimensions, so another backend (a GPU,
// a different instruction set) can replace it without touching the tensor or
// layer code above it. All matrices are row-major.
//
// Why by hand: no pure-Go library trains convolutional networks at a useful
// speed on a CPU (see the README), and cgo is ruled out so that
// CGO_ENABLED=0 builds give the full-speed binary. On amd64 the inner loops are
// Go assembly, AVX-512 or AVX2+FMA, chosen at run time by CPU feature; every
// other CPU, and builds with the noasm tag, use the plain Go code beside them.
//
// Sgemm is a blocked, packed GEMM (gemm.go) with register-tiled micro-kernels
// (asm_gen.go writes them) that spreads large products over GOMAXPROCS
// goroutines and runs small ones on the caller's goroutine without
// allocating. All routines are safe for concurrent use on disjoint outputs.
//
// Measure with `oddity bench kernels` against
// ../shared/reference/gemm_reference.py; compare configurations with
// KERNELS_TUNE=1 go test -run Tune (tune_test.go).
package kernels

// The SGEMM micro-kernels (sgemm_*_amd64.s) are generated; edit
// asm_gen.go, then run go generate ./kernels.
//
//go:generate go run asm_gen.go

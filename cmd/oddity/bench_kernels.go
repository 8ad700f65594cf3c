package main

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/spf13/cobra"

	"github.com/oddity-ml/oddity/kernels"
)

// gemmBenchShapes are the (m, n, k) shapes of
// ../shared/reference/gemm_reference.py, in its order.
var gemmBenchShapes = [][3]int{
	{256, 128, 1152}, {512, 512, 512}, {1024, 1024, 1024},
	{12544, 64, 800}, {64, 800, 12544}, {4096, 256, 2048},
}

func init() {
	cmd := &cobra.Command{
		Use:   "kernels",
		Short: "SGEMM throughput on the shapes of the NumPy reference",
		Long: `Measures kernels.Sgemm (C = A·B, row-major float32, inputs uniform in [0,1))
on the shapes of ../shared/reference/gemm_reference.py with its repetition
rule (one warm-up, then max(3, 4e10/flop) timed calls) and prints one line per
shape in the reference's format, so the two outputs compare line by line.`,
		Example: `  oddity bench kernels
  /usr/bin/python3 ../shared/reference/gemm_reference.py`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			rng := rand.New(rand.NewPCG(0, 0))
			out := cmd.OutOrStdout()
			for _, s := range gemmBenchShapes {
				if err := ctx.Err(); err != nil {
					return err
				}
				m, n, k := s[0], s[1], s[2]
				a, b, c := make([]float32, m*k), make([]float32, k*n), make([]float32, m*n)
				for i := range a {
					a[i] = rng.Float32()
				}
				for i := range b {
					b[i] = rng.Float32()
				}
				flop := 2.0 * float64(m) * float64(n) * float64(k)
				reps := max(3, int(4e10/flop))
				kernels.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				t := time.Now()
				for range reps {
					kernels.Sgemm(false, false, m, n, k, 1, a, k, b, n, 0, c, n)
				}
				dt := time.Since(t).Seconds() / float64(reps)
				fmt.Fprintf(out, "sgemm m=%d n=%d k=%d: %.1f GFLOP/s\n", m, n, k, flop/dt/1e9)
			}
			return nil
		},
	}
	benchCmd.AddCommand(cmd)
}

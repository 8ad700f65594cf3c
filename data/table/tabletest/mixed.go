// Package tabletest writes the synthetic tables that package table's
// benchmarks and the table-reading comparison with pandas
// (scripts/tablebench) read, so both measure the same file.
package tabletest

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"time"
)

// WriteMixed writes a CSV of rows × 50 columns: an id, 30 numeric columns
// (every fifth with missing cells), 10 categorical (5 to 50 levels, one with
// 500), 4 yes/no, 3 timestamps, a label with blanks and a constant.
func WriteMixed(path string, rows int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	w.WriteString("row_id")
	for j := 0; j < 30; j++ {
		fmt.Fprintf(w, ",num%d", j)
	}
	for j := 0; j < 10; j++ {
		fmt.Fprintf(w, ",cat%d", j)
	}
	for j := 0; j < 4; j++ {
		fmt.Fprintf(w, ",flag%d", j)
	}
	for j := 0; j < 3; j++ {
		fmt.Fprintf(w, ",ts%d", j)
	}
	w.WriteString(",label,source\n")
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "R-%07d", i)
		for j := 0; j < 30; j++ {
			if j%5 == 0 && rng.IntN(20) == 0 {
				w.WriteString(",NA")
				continue
			}
			fmt.Fprintf(w, ",%.3f", rng.NormFloat64()*float64(j+1)+float64(10*j))
		}
		for j := 0; j < 10; j++ {
			levels := 5 + 5*j
			if j == 9 {
				levels = 500
			}
			fmt.Fprintf(w, ",L%d", int(float64(levels)*rng.Float64()*rng.Float64()))
		}
		for j := 0; j < 4; j++ {
			if rng.IntN(3) == 0 {
				w.WriteString(",yes")
			} else {
				w.WriteString(",no")
			}
		}
		for j := 0; j < 3; j++ {
			t := time.Unix(base+rng.Int64N(365*86400), 0).UTC()
			w.WriteString("," + t.Format("2006-01-02 15:04:05"))
		}
		switch r := rng.IntN(100); {
		case r < 10:
			w.WriteString(",")
		case r < 12:
			w.WriteString(",1")
		default:
			w.WriteString(",0")
		}
		w.WriteString(",batch\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

//go:build ignore

// asm_gen writes the SGEMM micro-kernels in Go assembly:
//
//	go run asm_gen.go
//
// Each kernel computes one MR×NR tile of C from a packed A sliver (MR values
// per k step) and a packed B sliver (NR values per k step):
//
//	for r := 0; r < MR; r++ {
//		for j := 0; j < NR; j++ {
//			var s float32
//			for l := 0; l < kc; l++ {
//				s += a[l*MR+r] * b[l*NR+j]
//			}
//			if beta == 0 {
//				c[r*ldc+j] = alpha * s
//			} else {
//				c[r*ldc+j] = alpha*s + beta*c[r*ldc+j]
//			}
//		}
//	}
//
// The accumulators live in vector registers for the whole k loop; each k step
// loads NR/lanes vectors of B and broadcasts MR scalars of A.
package main

import (
	"bytes"
	"fmt"
	"log"
	"os"
)

type kernel struct {
	name   string // Go symbol
	isa    string // "AVX512F" or "AVX2+FMA"
	reg    string // "Z" or "Y"
	lanes  int    // float32 lanes per register
	mr     int    // rows
	nvec   int    // vectors per row; NR = nvec*lanes
	nregs  int    // architectural vector registers
	unroll int    // k steps per main-loop iteration
}

func (k kernel) nr() int { return k.nvec * k.lanes }

func (k kernel) acc(r, v int) string {
	return fmt.Sprintf("%s%d", k.reg, k.nregs-k.mr*k.nvec+r*k.nvec+v)
}

func (k kernel) bvec(v int) string { return fmt.Sprintf("%s%d", k.reg, v) }
func (k kernel) bcast(r int) string {
	return fmt.Sprintf("%s%d", k.reg, k.nvec+r%2)
}

func gen(w *bytes.Buffer, k kernel) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	if k.nvec+2 > k.nregs-k.mr*k.nvec {
		log.Fatalf("%s: too many registers", k.name)
	}
	vb := k.lanes * 4
	p("// func %s(kc int, a, b, c *float32, ldc int, alpha, beta float32, rows, cols int, pf *float32, pfLd, pfLines, pfRows int)", k.name)
	p("//")
	p("// %s micro-kernel: one %dx%d tile of C, of which rows×cols are stored.", k.isa, k.mr, k.nr())
	p("// While it computes it prefetches into L2 pfLines cache lines from each of")
	p("// pfRows rows pfLd bytes apart from pf on, one line per k step.")
	p("TEXT ·%s(SB), NOSPLIT, $0-96", k.name)
	p("\tMOVQ kc+0(FP), CX")
	p("\tMOVQ a+8(FP), AX")
	p("\tMOVQ b+16(FP), BX")
	p("\tMOVQ c+24(FP), DI")
	p("\tMOVQ ldc+32(FP), DX")
	p("\tSHLQ $2, DX")
	for r := 0; r < k.mr; r++ {
		for v := 0; v < k.nvec; v++ {
			a := k.acc(r, v)
			if k.reg == "Z" {
				p("\tVPXORD %s, %s, %s", a, a, a)
			} else {
				p("\tVXORPS %s, %s, %s", a, a, a)
			}
		}
	}
	step := func(u int) {
		ao := u * k.mr * 4
		bo := u * k.nr() * 4
		for v := 0; v < k.nvec; v++ {
			p("\tVMOVUPS %d(BX), %s", bo+v*vb, k.bvec(v))
		}
		for r := 0; r < k.mr; r++ {
			p("\tVBROADCASTSS %d(AX), %s", ao+r*4, k.bcast(r))
			for v := 0; v < k.nvec; v++ {
				p("\tVFMADD231PS %s, %s, %s", k.bvec(v), k.bcast(r), k.acc(r, v))
			}
		}
	}
	l := func(s string) string { return fmt.Sprintf("%s_%s", k.name, s) }
	p("\tMOVQ pf+64(FP), SI")
	p("\tMOVQ pfLd+72(FP), R10")
	p("\tMOVQ pfLines+80(FP), R11")
	p("\tSHLQ $6, R11")
	p("\tMOVQ pfRows+88(FP), R12")
	p("\tXORQ R9, R9")
	p("\tMOVQ CX, R8")
	p("\tSHRQ $%d, R8", log2(k.unroll))
	p("\tJZ %s", l("tail"))
	p("\tPCALIGN $32")
	p("%s:", l("loop"))
	for u := 0; u < k.unroll; u++ {
		step(u)
		{
			// One prefetch: the line at SI+R9, then on to the next line
			// or row.
			skip := l(fmt.Sprintf("pf%d", u))
			p("\tTESTQ R12, R12")
			p("\tJZ %s", skip)
			p("\tPREFETCHT1 (SI)(R9*1)")
			p("\tADDQ $64, R9")
			p("\tCMPQ R9, R11")
			p("\tJLT %s", skip)
			p("\tXORQ R9, R9")
			p("\tADDQ R10, SI")
			p("\tDECQ R12")
			p("%s:", skip)
		}
	}
	p("\tADDQ $%d, AX", k.unroll*k.mr*4)
	p("\tADDQ $%d, BX", k.unroll*k.nr()*4)
	p("\tDECQ R8")
	p("\tJNZ %s", l("loop"))
	p("%s:", l("tail"))
	p("\tANDQ $%d, CX", k.unroll-1)
	p("\tJZ %s", l("store"))
	p("%s:", l("loop1"))
	step(0)
	p("\tADDQ $%d, AX", k.mr*4)
	p("\tADDQ $%d, BX", k.nr()*4)
	p("\tDECQ CX")
	p("\tJNZ %s", l("loop1"))

	p("%s:", l("store"))
	alpha, beta, tmp := k.bvec(0), k.bvec(1), k.bcast(0)
	if k.nvec < 2 {
		log.Fatal("need two B registers for alpha and beta")
	}
	p("\tMOVQ rows+48(FP), R10")
	p("\tMOVQ cols+56(FP), R11")
	p("\tCMPQ R10, $%d", k.mr)
	p("\tJNE %s", l("partial"))
	p("\tCMPQ R11, $%d", k.nr())
	p("\tJNE %s", l("partial"))
	p("\tVBROADCASTSS alpha+40(FP), %s", alpha)
	p("\tMOVL beta+44(FP), R8")
	p("\tTESTL $0x7fffffff, R8")
	p("\tJZ %s", l("beta0"))
	p("\tCMPL R8, $0x3f800000")
	p("\tJEQ %s", l("beta1"))
	p("\tVBROADCASTSS beta+44(FP), %s", beta)
	rows := func(body func(a string, off int)) {
		for r := 0; r < k.mr; r++ {
			for v := 0; v < k.nvec; v++ {
				body(k.acc(r, v), v*vb)
			}
			if r < k.mr-1 {
				p("\tADDQ DX, DI")
			}
		}
	}
	// General beta: c = alpha*acc + beta*c.
	rows(func(a string, off int) {
		p("\tVMULPS %d(DI), %s, %s", off, beta, tmp)
		p("\tVFMADD231PS %s, %s, %s", a, alpha, tmp)
		p("\tVMOVUPS %s, %d(DI)", tmp, off)
	})
	p("\tJMP %s", l("done"))
	// beta == 1: c = alpha*acc + c.
	p("%s:", l("beta1"))
	rows(func(a string, off int) {
		p("\tVFMADD213PS %d(DI), %s, %s", off, alpha, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tJMP %s", l("done"))
	// beta == 0: c = alpha*acc, c is not read.
	p("%s:", l("beta0"))
	rows(func(a string, off int) {
		p("\tVMULPS %s, %s, %s", a, alpha, a)
		p("\tVMOVUPS %s, %d(DI)", a, off)
	})
	p("\tJMP %s", l("done"))

	// Edge tile: only rows×cols of C are read or written, through lane
	// masks; beta == 0 still does not read C.
	p("%s:", l("partial"))
	p("\tVBROADCASTSS alpha+40(FP), %s", alpha)
	p("\tVBROADCASTSS beta+44(FP), %s", beta)
	var mask []string
	if k.reg == "Z" {
		// K1.. hold the lane masks of the row's vectors.
		for v := 0; v < k.nvec; v++ {
			p("\tMOVQ R11, R12")
			if v > 0 {
				p("\tSUBQ $%d, R12", v*k.lanes)
			}
			p("\tCMPQ R12, $%d", k.lanes)
			p("\tJLE %s", l(fmt.Sprintf("m%da", v)))
			p("\tMOVQ $%d, R12", k.lanes)
			p("%s:", l(fmt.Sprintf("m%da", v)))
			p("\tTESTQ R12, R12")
			p("\tJGT %s", l(fmt.Sprintf("m%db", v)))
			p("\tXORQ R12, R12")
			p("%s:", l(fmt.Sprintf("m%db", v)))
			p("\tMOVQ $1, R13")
			p("\tSHLXQ R12, R13, R13")
			p("\tDECQ R13")
			p("\tKMOVW R13, K%d", v+1)
			mask = append(mask, fmt.Sprintf("K%d", v+1))
		}
	} else {
		// AVX2 has no mask registers: scale the accumulators by alpha
		// first, which frees the alpha register, and build lane-mask
		// vectors by comparing cols with the lane numbers.
		if k.nvec != 2 {
			log.Fatal("AVX2 edge path wants nvec == 2")
		}
		for r := 0; r < k.mr; r++ {
			for v := 0; v < k.nvec; v++ {
				p("\tVMULPS %s, %s, %s", k.acc(r, v), alpha, k.acc(r, v))
			}
		}
		m0, m1 := k.bcast(0), k.bcast(1)
		p("\tVPBROADCASTD cols+56(FP), %s", m0)
		p("\tVMOVDQU %s, %s", m0, m1)
		p("\tVPCMPGTD lanes0to7<>(SB), %s, %s", m0, m0)
		p("\tVPCMPGTD lanes8to15<>(SB), %s, %s", m1, m1)
		mask = []string{m0, m1}
		tmp = alpha
	}
	p("\tMOVL beta+44(FP), R8")
	p("\tTESTL $0x7fffffff, R8")
	p("\tJZ %s", l("pbeta0"))
	prows := func(body func(r, v int, a string, off int)) {
		for r := 0; r < k.mr; r++ {
			for v := 0; v < k.nvec; v++ {
				body(r, v, k.acc(r, v), v*vb)
			}
			if r < k.mr-1 {
				p("\tDECQ R10")
				p("\tJZ %s", l("done"))
				p("\tADDQ DX, DI")
			}
		}
	}
	prows(func(r, v int, a string, off int) {
		if k.reg == "Z" {
			p("\tVMOVUPS.Z %d(DI), %s, %s", off, mask[v], tmp)
			p("\tVMULPS %s, %s, %s", tmp, beta, tmp)
			p("\tVFMADD231PS %s, %s, %s", a, alpha, tmp)
			p("\tVMOVUPS %s, %s, %d(DI)", tmp, mask[v], off)
		} else {
			p("\tVMASKMOVPS %d(DI), %s, %s", off, mask[v], tmp)
			p("\tVFMADD231PS %s, %s, %s", tmp, beta, a)
			p("\tVMASKMOVPS %s, %s, %d(DI)", a, mask[v], off)
		}
	})
	p("\tJMP %s", l("done"))
	p("%s:", l("pbeta0"))
	prows(func(r, v int, a string, off int) {
		if k.reg == "Z" {
			p("\tVMULPS %s, %s, %s", a, alpha, a)
			p("\tVMOVUPS %s, %s, %d(DI)", a, mask[v], off)
		} else {
			p("\tVMASKMOVPS %s, %s, %d(DI)", a, mask[v], off)
		}
	})
	p("%s:", l("done"))
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// genTrans16 writes packTrans16xR: it transposes R <= 16 rows of src (row
// stride ld floats) into dst with row stride width floats, 16 columns at a
// time with the shuffle network of a 16×16 transpose:
//
//	for l := 0; l < kc; l++ {
//		for r := 0; r < R; r++ {
//			dst[l*width+r] = src[r*ld+l]
//		}
//	}
func genTrans16(w *bytes.Buffer, rows int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	name := fmt.Sprintf("packTrans16x%d", rows)
	l := func(s string) string { return name + "_" + s }
	z := func(i int) string { return fmt.Sprintf("Z%d", i) }
	p("// func %s(dst, src *float32, ld, kc, width int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), R8")
	p("\tMOVQ kc+24(FP), CX")
	p("\tMOVQ width+32(FP), R12")
	p("\tSHLQ $2, R8")
	p("\tSHLQ $2, R12")
	p("\tLEAQ (R8)(R8*2), R9")
	p("\tLEAQ (R8)(R8*4), R10")
	p("\tLEAQ (R9)(R8*4), R11")
	p("\tLEAQ (SI)(R8*8), BX")
	p("\tMOVL $%d, AX", (1<<rows)-1)
	p("\tKMOVW AX, K1")
	// Row r's address.
	addr := func(r int) string {
		return [...]string{"(%s)", "(%s)(R8*1)", "(%s)(R8*2)", "(%s)(R9*1)", "(%s)(R8*4)", "(%s)(R10*1)", "(%s)(R9*2)", "(%s)(R11*1)"}[r%8]
	}
	rowAddr := func(r int) string {
		base := "SI"
		if r >= 8 {
			base = "BX"
		}
		return fmt.Sprintf(addr(r), base)
	}
	shuffle := func() {
		// Stage 1: interleave 32-bit elements of row pairs.
		for q := 0; q < 8; q++ {
			p("\tVUNPCKLPS %s, %s, %s", z(2*q+1), z(2*q), z(16+2*q))
			p("\tVUNPCKHPS %s, %s, %s", z(2*q+1), z(2*q), z(16+2*q+1))
		}
		// Stage 2: interleave 64-bit pairs: Z(4q+c) lane j holds rows
		// 4q..4q+3 of column 4j+c.
		for q := 0; q < 4; q++ {
			t := 16 + 4*q
			p("\tVUNPCKLPD %s, %s, %s", z(t+2), z(t), z(4*q+0))
			p("\tVUNPCKHPD %s, %s, %s", z(t+2), z(t), z(4*q+1))
			p("\tVUNPCKLPD %s, %s, %s", z(t+3), z(t+1), z(4*q+2))
			p("\tVUNPCKHPD %s, %s, %s", z(t+3), z(t+1), z(4*q+3))
		}
		// Stage 3 and 4: gather lanes j of Z(c), Z(4+c), Z(8+c), Z(12+c)
		// into column 4j+c, left in Z(4j+c)... via temporaries.
		for c := 0; c < 4; c++ {
			p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(4+c), z(c), z(16+4*c+0))
			p("\tVSHUFF32X4 $0xDD, %s, %s, %s", z(4+c), z(c), z(16+4*c+1))
			p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(12+c), z(8+c), z(16+4*c+2))
			p("\tVSHUFF32X4 $0xDD, %s, %s, %s", z(12+c), z(8+c), z(16+4*c+3))
		}
		for c := 0; c < 4; c++ {
			v, wv, v2, w2 := 16+4*c, 16+4*c+1, 16+4*c+2, 16+4*c+3
			p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(v2), z(v), z(0*4+c))
			p("\tVSHUFF32X4 $0x88, %s, %s, %s", z(w2), z(wv), z(1*4+c))
			p("\tVSHUFF32X4 $0xDD, %s, %s, %s", z(v2), z(v), z(2*4+c))
			p("\tVSHUFF32X4 $0xDD, %s, %s, %s", z(w2), z(wv), z(3*4+c))
		}
	}
	p("\tMOVQ CX, DX")
	p("\tSHRQ $4, DX")
	p("\tJZ %s", l("tail"))
	p("%s:", l("loop"))
	for r := 0; r < 16; r++ {
		if r < rows {
			p("\tVMOVUPS %s, %s", rowAddr(r), z(r))
		} else {
			p("\tVPXORD %s, %s, %s", z(r), z(r), z(r))
		}
	}
	shuffle()
	for c := 0; c < 16; c++ {
		p("\tVMOVUPS %s, K1, (DI)", z(c))
		p("\tADDQ R12, DI")
	}
	p("\tADDQ $64, SI")
	p("\tADDQ $64, BX")
	p("\tDECQ DX")
	p("\tJNZ %s", l("loop"))
	p("%s:", l("tail"))
	p("\tANDQ $15, CX")
	p("\tJZ %s", l("done"))
	p("\tMOVL $1, AX")
	p("\tSHLXL CX, AX, AX")
	p("\tDECL AX")
	p("\tKMOVW AX, K2")
	for r := 0; r < 16; r++ {
		if r < rows {
			p("\tVMOVUPS.Z %s, K2, %s", rowAddr(r), z(r))
		} else {
			p("\tVPXORD %s, %s, %s", z(r), z(r), z(r))
		}
	}
	shuffle()
	for c := 0; c < 15; c++ {
		p("\tVMOVUPS %s, K1, (DI)", z(c))
		p("\tDECQ CX")
		p("\tJZ %s", l("done"))
		p("\tADDQ R12, DI")
	}
	p("%s:", l("done"))
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

// genTrans8 writes packTrans8xR, the AVX2 counterpart of packTrans16xR: R <=
// 8 rows, 8 columns at a time with the shuffles of an 8×8 transpose.
func genTrans8(w *bytes.Buffer, rows int) {
	p := func(format string, args ...any) { fmt.Fprintf(w, format+"\n", args...) }
	name := fmt.Sprintf("packTrans8x%d", rows)
	l := func(s string) string { return name + "_" + s }
	y := func(i int) string { return fmt.Sprintf("Y%d", i) }
	p("// func %s(dst, src *float32, ld, kc, width int)", name)
	p("TEXT ·%s(SB), NOSPLIT, $0-40", name)
	p("\tMOVQ dst+0(FP), DI")
	p("\tMOVQ src+8(FP), SI")
	p("\tMOVQ ld+16(FP), R8")
	p("\tMOVQ kc+24(FP), CX")
	p("\tMOVQ width+32(FP), R12")
	p("\tSHLQ $2, R8")
	p("\tSHLQ $2, R12")
	p("\tLEAQ (R8)(R8*2), R9")
	p("\tLEAQ (R8)(R8*4), R10")
	p("\tLEAQ (R9)(R8*4), R11")
	addr := []string{"(SI)", "(SI)(R8*1)", "(SI)(R8*2)", "(SI)(R9*1)", "(SI)(R8*4)", "(SI)(R10*1)", "(SI)(R9*2)", "(SI)(R11*1)"}
	shuffle := func() {
		for q := 0; q < 4; q++ {
			p("\tVUNPCKLPS %s, %s, %s", y(2*q+1), y(2*q), y(8+2*q))
			p("\tVUNPCKHPS %s, %s, %s", y(2*q+1), y(2*q), y(8+2*q+1))
		}
		// Y(4h+c), lane j: rows 4h..4h+3 of column 4j+c.
		for h := 0; h < 2; h++ {
			t := 8 + 4*h
			p("\tVSHUFPS $0x44, %s, %s, %s", y(t+2), y(t), y(4*h+0))
			p("\tVSHUFPS $0xEE, %s, %s, %s", y(t+2), y(t), y(4*h+1))
			p("\tVSHUFPS $0x44, %s, %s, %s", y(t+3), y(t+1), y(4*h+2))
			p("\tVSHUFPS $0xEE, %s, %s, %s", y(t+3), y(t+1), y(4*h+3))
		}
		// Column c into Y(8+c).
		for c := 0; c < 4; c++ {
			p("\tVPERM2F128 $0x20, %s, %s, %s", y(4+c), y(c), y(8+c))
			p("\tVPERM2F128 $0x31, %s, %s, %s", y(4+c), y(c), y(12+c))
		}
	}
	store := func(c int) {
		if rows == 8 {
			p("\tVMOVUPS %s, (DI)", y(8+c))
		} else {
			p("\tVMASKMOVPS %s, Y0, (DI)", y(8+c))
		}
	}
	rowMask := func() {
		if rows < 8 {
			p("\tVMOVDQU lanes0to7<>(SB), Y0")
			p("\tMOVQ $%d, AX", rows)
			p("\tVMOVQ AX, X1")
			p("\tVPBROADCASTD X1, Y1")
			p("\tVPCMPGTD Y0, Y1, Y0")
		}
	}
	p("\tMOVQ CX, DX")
	p("\tSHRQ $3, DX")
	p("\tJZ %s", l("tail"))
	p("%s:", l("loop"))
	for r := 0; r < 8; r++ {
		if r < rows {
			p("\tVMOVUPS %s, %s", addr[r], y(r))
		} else {
			p("\tVXORPS %s, %s, %s", y(r), y(r), y(r))
		}
	}
	shuffle()
	rowMask()
	for c := 0; c < 8; c++ {
		store(c)
		p("\tADDQ R12, DI")
	}
	p("\tADDQ $32, SI")
	p("\tDECQ DX")
	p("\tJNZ %s", l("loop"))
	p("%s:", l("tail"))
	p("\tANDQ $7, CX")
	p("\tJZ %s", l("done"))
	// Column mask in Y15 for the masked loads.
	p("\tVMOVDQU lanes0to7<>(SB), Y15")
	p("\tVMOVQ CX, X14")
	p("\tVPBROADCASTD X14, Y14")
	p("\tVPCMPGTD Y15, Y14, Y15")
	for r := 0; r < 8; r++ {
		if r < rows {
			p("\tVMASKMOVPS %s, Y15, %s", addr[r], y(r))
		} else {
			p("\tVXORPS %s, %s, %s", y(r), y(r), y(r))
		}
	}
	shuffle()
	rowMask()
	for c := 0; c < 7; c++ {
		store(c)
		p("\tDECQ CX")
		p("\tJZ %s", l("done"))
		p("\tADDQ R12, DI")
	}
	p("%s:", l("done"))
	p("\tVZEROUPPER")
	p("\tRET")
	p("")
}

func log2(n int) int {
	s := 0
	for 1<<s < n {
		s++
	}
	return s
}

// writeLanes writes the file-local constants lanes0to7 and lanes8to15, the
// lane numbers, which the AVX2 code compares counts against to make masks.
func writeLanes(w *bytes.Buffer) {
	for i := 0; i < 16; i++ {
		fmt.Fprintf(w, "DATA lanes%dto%d<>+%d(SB)/4, $%d\n", i/8*8, i/8*8+7, i%8*4, i)
		if i%8 == 7 {
			fmt.Fprintf(w, "GLOBL lanes%dto%d<>(SB), RODATA|NOPTR, $32\n", i/8*8, i/8*8+7)
		}
	}
}

func write(file string, ks ...kernel) {
	var w bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by asm_gen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "//go:build !noasm\n\n#include \"textflag.h\"\n\n")
	for _, k := range ks {
		gen(&w, k)
	}
	if ks[0].reg == "Y" {
		writeLanes(&w)
	}
	if err := os.WriteFile(file, w.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
}

func main() {
	write("sgemm_avx512_amd64.s",
		kernel{name: "sgemmKernel12x32AVX512", isa: "AVX-512F", reg: "Z", lanes: 16, mr: 12, nvec: 2, nregs: 32, unroll: 4},
		kernel{name: "sgemmKernel14x32AVX512", isa: "AVX-512F", reg: "Z", lanes: 16, mr: 14, nvec: 2, nregs: 32, unroll: 4},
		kernel{name: "sgemmKernel8x48AVX512", isa: "AVX-512F", reg: "Z", lanes: 16, mr: 8, nvec: 3, nregs: 32, unroll: 4},
	)
	var w bytes.Buffer
	fmt.Fprintf(&w, "// Code generated by asm_gen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "//go:build !noasm\n\n#include \"textflag.h\"\n\n")
	for _, r := range []int{8, 12, 14, 16} {
		genTrans16(&w, r)
	}
	if err := os.WriteFile("pack_avx512_amd64.s", w.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	w.Reset()
	fmt.Fprintf(&w, "// Code generated by asm_gen.go; DO NOT EDIT.\n\n")
	fmt.Fprintf(&w, "//go:build !noasm\n\n#include \"textflag.h\"\n\n")
	for _, r := range []int{6, 8} {
		genTrans8(&w, r)
	}
	writeLanes(&w)
	if err := os.WriteFile("pack_avx2_amd64.s", w.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	write("sgemm_avx2_amd64.s",
		kernel{name: "sgemmKernel6x16AVX2", isa: "AVX2+FMA", reg: "Y", lanes: 8, mr: 6, nvec: 2, nregs: 16, unroll: 4},
	)

}

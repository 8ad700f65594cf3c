//go:build !noasm

#include "textflag.h"

// func gather2AVX2(dst, src *float32, rows, w, stride int)
// dst[y*w+x] = src[y*stride+2x] for y < rows, x < w.
// Each row reads src[y*stride : y*stride+2w], one value past the last it
// keeps when w is a multiple of 4.
TEXT ·gather2AVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ w+24(FP), CX
	MOVQ stride+32(FP), R8
	SHLQ $2, R8
	TESTQ DX, DX
	JZ   g2_done

g2_row:
	MOVQ SI, R9
	MOVQ CX, BX

g2_loop8:
	CMPQ      BX, $8
	JLT       g2_tail4
	VMOVUPS   (R9), Y1
	VMOVUPS   32(R9), Y3
	VSHUFPS   $0x88, Y3, Y1, Y2
	VPERMPD   $0xD8, Y2, Y2
	VMOVUPS   Y2, (DI)
	ADDQ      $64, R9
	ADDQ      $32, DI
	SUBQ      $8, BX
	JMP       g2_loop8

g2_tail4:
	CMPQ      BX, $4
	JLT       g2_tail1
	VMOVUPS   (R9), X1
	VMOVUPS   16(R9), X3
	VSHUFPS   $0x88, X3, X1, X2
	VMOVUPS   X2, (DI)
	ADDQ      $32, R9
	ADDQ      $16, DI
	SUBQ      $4, BX
	JMP       g2_tail4

g2_tail1:
	TESTQ     BX, BX
	JZ        g2_next
	VMOVSS    (R9), X1
	VMOVSS    X1, (DI)
	ADDQ      $8, R9
	ADDQ      $4, DI
	DECQ      BX
	JMP       g2_tail1

g2_next:
	ADDQ R8, SI
	DECQ DX
	JNZ  g2_row

g2_done:
	VZEROUPPER
	RET

// func scatter2AVX2(dst, src *float32, rows, w, stride int)
// dst[y*stride+2x] += src[y*w+x] for y < rows, x < w.
// Each row rewrites dst[y*stride : y*stride+2w], adding zero to the values
// between those it accumulates into.
TEXT ·scatter2AVX2(SB), NOSPLIT, $0-40
	MOVQ   dst+0(FP), DI
	MOVQ   src+8(FP), SI
	MOVQ   rows+16(FP), DX
	MOVQ   w+24(FP), CX
	MOVQ   stride+32(FP), R8
	SHLQ   $2, R8
	VXORPS Y0, Y0, Y0
	TESTQ  DX, DX
	JZ     s2_done

s2_row:
	MOVQ DI, R9
	MOVQ CX, BX

s2_loop8:
	CMPQ      BX, $8
	JLT       s2_tail4
	VMOVUPS   (SI), Y1
	VPERMPD   $0xD8, Y1, Y1
	VUNPCKLPS Y0, Y1, Y2
	VUNPCKHPS Y0, Y1, Y3
	VADDPS    (R9), Y2, Y2
	VADDPS    32(R9), Y3, Y3
	VMOVUPS   Y2, (R9)
	VMOVUPS   Y3, 32(R9)
	ADDQ      $32, SI
	ADDQ      $64, R9
	SUBQ      $8, BX
	JMP       s2_loop8

s2_tail4:
	CMPQ      BX, $4
	JLT       s2_tail1
	VMOVUPS   (SI), X1
	VUNPCKLPS X0, X1, X2
	VUNPCKHPS X0, X1, X3
	VADDPS    (R9), X2, X2
	VADDPS    16(R9), X3, X3
	VMOVUPS   X2, (R9)
	VMOVUPS   X3, 16(R9)
	ADDQ      $16, SI
	ADDQ      $32, R9
	SUBQ      $4, BX
	JMP       s2_tail4

s2_tail1:
	TESTQ     BX, BX
	JZ        s2_next
	VMOVSS    (SI), X1
	VADDSS    (R9), X1, X1
	VMOVSS    X1, (R9)
	ADDQ      $4, SI
	ADDQ      $8, R9
	DECQ      BX
	JMP       s2_tail1

s2_next:
	ADDQ R8, DI
	DECQ DX
	JNZ  s2_row

s2_done:
	VZEROUPPER
	RET

// func copyRowsAVX2(dst, src *float32, rows, ld, n16 int)
// dst[r*16*n16+j] = src[r*ld+j] for r < rows, j < 16*n16: B-panel packing of
// full micro-kernel slivers.
TEXT ·copyRowsAVX2(SB), NOSPLIT, $0-40
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ rows+16(FP), DX
	MOVQ ld+24(FP), R8
	MOVQ n16+32(FP), CX
	SHLQ $2, R8
	TESTQ DX, DX
	JZ   cr_done
	TESTQ CX, CX
	JZ   cr_done

cr_row:
	MOVQ SI, R9
	MOVQ CX, BX

cr_loop:
	VMOVUPS (R9), Y0
	VMOVUPS 32(R9), Y1
	VMOVUPS Y0, (DI)
	VMOVUPS Y1, 32(DI)
	ADDQ    $64, R9
	ADDQ    $64, DI
	DECQ    BX
	JNZ     cr_loop
	ADDQ    R8, SI
	DECQ    DX
	JNZ     cr_row

cr_done:
	VZEROUPPER
	RET

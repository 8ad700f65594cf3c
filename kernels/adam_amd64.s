//go:build !noasm

#include "textflag.h"

// func adamAVX2(w, g, m, v []float32, b1, ob1, b2, ob2, bc2, eps, step float32)
// The Adam update of optim (see AdamUpdate) on the first len(w)&^7 values,
// with the same operations in the same order as the Go loop (no fused
// multiply-adds), so both give identical results.
TEXT ·adamAVX2(SB), NOSPLIT, $0-124
	MOVQ         w_base+0(FP), DI
	MOVQ         w_len+8(FP), CX
	MOVQ         g_base+24(FP), SI
	MOVQ         m_base+48(FP), R8
	MOVQ         v_base+72(FP), R9
	VBROADCASTSS b1+96(FP), Y0
	VBROADCASTSS ob1+100(FP), Y1
	VBROADCASTSS b2+104(FP), Y2
	VBROADCASTSS ob2+108(FP), Y3
	VBROADCASTSS bc2+112(FP), Y4
	VBROADCASTSS eps+116(FP), Y5
	VBROADCASTSS step+120(FP), Y6
	XORQ         AX, AX
	ANDQ         $-8, CX
	JZ           adam_done

adam_loop:
	VMOVUPS (SI)(AX*4), Y7
	VMULPS  (R8)(AX*4), Y0, Y8
	VMULPS  Y7, Y1, Y9
	VADDPS  Y9, Y8, Y8
	VMOVUPS Y8, (R8)(AX*4)
	VMULPS  (R9)(AX*4), Y2, Y10
	VMULPS  Y7, Y3, Y11
	VMULPS  Y7, Y11, Y11
	VADDPS  Y11, Y10, Y10
	VMOVUPS Y10, (R9)(AX*4)
	VSQRTPS Y10, Y12
	VDIVPS  Y4, Y12, Y12
	VADDPS  Y5, Y12, Y12
	VDIVPS  Y12, Y8, Y13
	VMULPS  Y13, Y6, Y13
	VMOVUPS (DI)(AX*4), Y14
	VSUBPS  Y13, Y14, Y14
	VMOVUPS Y14, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, CX
	JLT     adam_loop

adam_done:
	VZEROUPPER
	RET

//go:build !noasm

#include "textflag.h"

// func leakyAVX2(slope float32, x, y []float32)
// y[i] = x[i] > 0 ? x[i] : slope*x[i] for the first len(x) &^ 7 values.
TEXT ·leakyAVX2(SB), NOSPLIT, $0-56
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	VBROADCASTSS slope+0(FP), Y0
	VXORPS       Y7, Y7, Y7
	XORQ         AX, AX
	ANDQ         $-8, CX
	JZ           leaky_done

leaky_loop:
	VMOVUPS   (SI)(AX*4), Y1
	VMULPS    Y0, Y1, Y2
	VCMPPS    $14, Y7, Y1, Y3
	VBLENDVPS Y3, Y1, Y2, Y4
	VMOVUPS   Y4, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JLT       leaky_loop

leaky_done:
	VZEROUPPER
	RET

// func leakyGradAVX2(slope float32, x, g, dx []float32)
// dx[i] += x[i] > 0 ? g[i] : slope*g[i] for the first len(x) &^ 7 values.
TEXT ·leakyGradAVX2(SB), NOSPLIT, $0-80
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         g_base+32(FP), BX
	MOVQ         dx_base+56(FP), DI
	VBROADCASTSS slope+0(FP), Y0
	VXORPS       Y7, Y7, Y7
	XORQ         AX, AX
	ANDQ         $-8, CX
	JZ           lgrad_done

lgrad_loop:
	VMOVUPS   (SI)(AX*4), Y1
	VMOVUPS   (BX)(AX*4), Y5
	VMULPS    Y0, Y5, Y2
	VCMPPS    $14, Y7, Y1, Y3
	VBLENDVPS Y3, Y5, Y2, Y4
	VADDPS    (DI)(AX*4), Y4, Y4
	VMOVUPS   Y4, (DI)(AX*4)
	ADDQ      $8, AX
	CMPQ      AX, CX
	JLT       lgrad_loop

lgrad_done:
	VZEROUPPER
	RET

//go:build !noasm

#include "textflag.h"

// Batch normalisation's per-channel loops (bn.go), 8 lanes at a time; each
// handles the first len(x)&^7 values and leaves the rest to Go.

// func sumAVX2(x []float32) float32
TEXT ·sumAVX2(SB), NOSPLIT, $0-28
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-16, DX
	JZ     sum_tail8

sum_loop16:
	VADDPS (SI)(AX*4), Y0, Y0
	VADDPS 32(SI)(AX*4), Y1, Y1
	ADDQ   $16, AX
	CMPQ   AX, DX
	JLT    sum_loop16

sum_tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  sum_reduce
	VADDPS (SI)(AX*4), Y0, Y0

sum_reduce:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, ret+24(FP)
	VZEROUPPER
	RET

// func sumSqDevAVX2(x []float32, mu float32) float32
TEXT ·sumSqDevAVX2(SB), NOSPLIT, $0-36
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	VBROADCASTSS mu+24(FP), Y2
	VXORPS       Y0, Y0, Y0
	VXORPS       Y1, Y1, Y1
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-16, DX
	JZ           ssd_tail8

ssd_loop16:
	VMOVUPS     (SI)(AX*4), Y3
	VMOVUPS     32(SI)(AX*4), Y4
	VSUBPS      Y2, Y3, Y3
	VSUBPS      Y2, Y4, Y4
	VFMADD231PS Y3, Y3, Y0
	VFMADD231PS Y4, Y4, Y1
	ADDQ        $16, AX
	CMPQ        AX, DX
	JLT         ssd_loop16

ssd_tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  ssd_reduce
	VMOVUPS     (SI)(AX*4), Y3
	VSUBPS      Y2, Y3, Y3
	VFMADD231PS Y3, Y3, Y0

ssd_reduce:
	VADDPS       Y1, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VHADDPS      X0, X0, X0
	VHADDPS      X0, X0, X0
	MOVSS        X0, ret+32(FP)
	VZEROUPPER
	RET

// func bnApplyAVX2(x, xh, y []float32, mu, is, gm, bt float32)
// xh[i] = (x[i]-mu)*is; y[i] = gm*xh[i] + bt
TEXT ·bnApplyAVX2(SB), NOSPLIT, $0-88
	MOVQ         x_base+0(FP), SI
	MOVQ         x_len+8(FP), CX
	MOVQ         xh_base+24(FP), DI
	MOVQ         y_base+48(FP), R8
	VBROADCASTSS mu+72(FP), Y0
	VBROADCASTSS is+76(FP), Y1
	VBROADCASTSS gm+80(FP), Y2
	VBROADCASTSS bt+84(FP), Y3
	XORQ         AX, AX
	ANDQ         $-8, CX
	JZ           bna_done

bna_loop:
	VMOVUPS     (SI)(AX*4), Y4
	VSUBPS      Y0, Y4, Y4
	VMULPS      Y1, Y4, Y4
	VMOVUPS     Y4, (DI)(AX*4)
	VMOVAPS     Y3, Y5
	VFMADD231PS Y4, Y2, Y5
	VMOVUPS     Y5, (R8)(AX*4)
	ADDQ        $8, AX
	CMPQ        AX, CX
	JLT         bna_loop

bna_done:
	VZEROUPPER
	RET

// func bnGradAVX2(gx, dy, xh []float32, k, md, mdx float32)
// gx[i] += k*(dy[i] - md - xh[i]*mdx)
TEXT ·bnGradAVX2(SB), NOSPLIT, $0-84
	MOVQ         gx_base+0(FP), DI
	MOVQ         gx_len+8(FP), CX
	MOVQ         dy_base+24(FP), SI
	MOVQ         xh_base+48(FP), R8
	VBROADCASTSS k+72(FP), Y0
	VBROADCASTSS md+76(FP), Y1
	VBROADCASTSS mdx+80(FP), Y2
	XORQ         AX, AX
	ANDQ         $-8, CX
	JZ           bng_done

bng_loop:
	VMOVUPS      (SI)(AX*4), Y4
	VSUBPS       Y1, Y4, Y4
	VMOVUPS      (R8)(AX*4), Y5
	VFNMADD231PS Y5, Y2, Y4
	VMOVUPS      (DI)(AX*4), Y6
	VFMADD231PS  Y4, Y0, Y6
	VMOVUPS      Y6, (DI)(AX*4)
	ADDQ         $8, AX
	CMPQ         AX, CX
	JLT          bng_loop

bng_done:
	VZEROUPPER
	RET

//go:build !noasm

#include "textflag.h"

// func axpyAVX2(alpha float32, x, y []float32)
TEXT ·axpyAVX2(SB), NOSPLIT, $0-56
	MOVQ         x_base+8(FP), SI
	MOVQ         x_len+16(FP), CX
	MOVQ         y_base+32(FP), DI
	VBROADCASTSS alpha+0(FP), Y0
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JZ           axpy_tail8

axpy_loop32:
	VMOVUPS     (SI)(AX*4), Y1
	VMOVUPS     32(SI)(AX*4), Y2
	VMOVUPS     64(SI)(AX*4), Y3
	VMOVUPS     96(SI)(AX*4), Y4
	VFMADD213PS (DI)(AX*4), Y0, Y1
	VFMADD213PS 32(DI)(AX*4), Y0, Y2
	VFMADD213PS 64(DI)(AX*4), Y0, Y3
	VFMADD213PS 96(DI)(AX*4), Y0, Y4
	VMOVUPS     Y1, (DI)(AX*4)
	VMOVUPS     Y2, 32(DI)(AX*4)
	VMOVUPS     Y3, 64(DI)(AX*4)
	VMOVUPS     Y4, 96(DI)(AX*4)
	ADDQ        $32, AX
	CMPQ        AX, DX
	JLT         axpy_loop32

axpy_tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  axpy_tail1

axpy_loop8:
	VMOVUPS     (SI)(AX*4), Y1
	VFMADD213PS (DI)(AX*4), Y0, Y1
	VMOVUPS     Y1, (DI)(AX*4)
	ADDQ        $8, AX
	CMPQ        AX, DX
	JLT         axpy_loop8

axpy_tail1:
	CMPQ AX, CX
	JGE  axpy_done

axpy_loop1:
	VMOVSS      (SI)(AX*4), X1
	VFMADD213SS (DI)(AX*4), X0, X1
	VMOVSS      X1, (DI)(AX*4)
	INCQ        AX
	CMPQ        AX, CX
	JLT         axpy_loop1

axpy_done:
	VZEROUPPER
	RET

// func dotAVX2(x, y []float32) float32
TEXT ·dotAVX2(SB), NOSPLIT, $0-52
	MOVQ   x_base+0(FP), SI
	MOVQ   x_len+8(FP), CX
	MOVQ   y_base+24(FP), DI
	VXORPS Y0, Y0, Y0
	VXORPS Y1, Y1, Y1
	VXORPS Y2, Y2, Y2
	VXORPS Y3, Y3, Y3
	XORQ   AX, AX
	MOVQ   CX, DX
	ANDQ   $-32, DX
	JZ     dot_tail8

dot_loop32:
	VMOVUPS     (SI)(AX*4), Y4
	VMOVUPS     32(SI)(AX*4), Y5
	VMOVUPS     64(SI)(AX*4), Y6
	VMOVUPS     96(SI)(AX*4), Y7
	VFMADD231PS (DI)(AX*4), Y4, Y0
	VFMADD231PS 32(DI)(AX*4), Y5, Y1
	VFMADD231PS 64(DI)(AX*4), Y6, Y2
	VFMADD231PS 96(DI)(AX*4), Y7, Y3
	ADDQ        $32, AX
	CMPQ        AX, DX
	JLT         dot_loop32

dot_tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  dot_reduce

dot_loop8:
	VMOVUPS     (SI)(AX*4), Y4
	VFMADD231PS (DI)(AX*4), Y4, Y0
	ADDQ        $8, AX
	CMPQ        AX, DX
	JLT         dot_loop8

dot_reduce:
	VADDPS       Y1, Y0, Y0
	VADDPS       Y3, Y2, Y2
	VADDPS       Y2, Y0, Y0
	VEXTRACTF128 $1, Y0, X1
	VADDPS       X1, X0, X0
	VMOVHLPS     X0, X0, X1
	VADDPS       X1, X0, X0
	VMOVSHDUP    X0, X1
	VADDSS       X1, X0, X0
	CMPQ         AX, CX
	JGE          dot_done

dot_loop1:
	VMOVSS      (SI)(AX*4), X1
	VFMADD231SS (DI)(AX*4), X1, X0
	INCQ        AX
	CMPQ        AX, CX
	JLT         dot_loop1

dot_done:
	VMOVSS X0, ret+48(FP)
	VZEROUPPER
	RET

// func scaleAVX2(alpha float32, x []float32)
TEXT ·scaleAVX2(SB), NOSPLIT, $0-32
	MOVQ         x_base+8(FP), DI
	MOVQ         x_len+16(FP), CX
	VBROADCASTSS alpha+0(FP), Y0
	XORQ         AX, AX
	MOVQ         CX, DX
	ANDQ         $-32, DX
	JZ           scale_tail8

scale_loop32:
	VMULPS  (DI)(AX*4), Y0, Y1
	VMULPS  32(DI)(AX*4), Y0, Y2
	VMULPS  64(DI)(AX*4), Y0, Y3
	VMULPS  96(DI)(AX*4), Y0, Y4
	VMOVUPS Y1, (DI)(AX*4)
	VMOVUPS Y2, 32(DI)(AX*4)
	VMOVUPS Y3, 64(DI)(AX*4)
	VMOVUPS Y4, 96(DI)(AX*4)
	ADDQ    $32, AX
	CMPQ    AX, DX
	JLT     scale_loop32

scale_tail8:
	MOVQ CX, DX
	ANDQ $-8, DX
	CMPQ AX, DX
	JGE  scale_tail1

scale_loop8:
	VMULPS  (DI)(AX*4), Y0, Y1
	VMOVUPS Y1, (DI)(AX*4)
	ADDQ    $8, AX
	CMPQ    AX, DX
	JLT     scale_loop8

scale_tail1:
	CMPQ AX, CX
	JGE  scale_done

scale_loop1:
	VMULSS (DI)(AX*4), X0, X1
	VMOVSS X1, (DI)(AX*4)
	INCQ   AX
	CMPQ   AX, CX
	JLT    scale_loop1

scale_done:
	VZEROUPPER
	RET

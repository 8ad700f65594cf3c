//go:build !noasm

#include "textflag.h"

// Dot products of float64 rows whose length n is a multiple of 4, in four
// lanes: lane k sums the products of the elements k, k+4, k+8, ... in
// order (multiply, then add: no fused multiply-add, so that the pure Go
// version in dot.go rounds the same), and the result is
// (lane0 + lane2) + (lane1 + lane3).

// func dotsAVX2(xi *float64, xs *float64, n int, m int, out *float64)
// out[r] = Σ_t xi[t]·xs[r·n + t] for r < m; m a multiple of 4, n ≥ 4.
TEXT ·dotsAVX2(SB), NOSPLIT, $0-40
	MOVQ xi+0(FP), SI
	MOVQ xs+8(FP), R8
	MOVQ n+16(FP), CX
	MOVQ m+24(FP), DX
	MOVQ out+32(FP), DI
	MOVQ CX, BX
	SHLQ $3, BX          // row stride in bytes
	TESTQ DX, DX
	JEQ done

rows:
	LEAQ (R8)(BX*1), R9
	LEAQ (R9)(BX*1), R10
	LEAQ (R10)(BX*1), R11
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	XORQ AX, AX

inner:
	VMOVUPD (SI)(AX*8), Y4
	VMULPD (R8)(AX*8), Y4, Y5
	VADDPD Y5, Y0, Y0
	VMULPD (R9)(AX*8), Y4, Y6
	VADDPD Y6, Y1, Y1
	VMULPD (R10)(AX*8), Y4, Y7
	VADDPD Y7, Y2, Y2
	VMULPD (R11)(AX*8), Y4, Y8
	VADDPD Y8, Y3, Y3
	ADDQ $4, AX
	CMPQ AX, CX
	JLT inner

	VEXTRACTF128 $1, Y0, X5
	VADDPD X5, X0, X0
	VHADDPD X0, X0, X0
	VMOVSD X0, (DI)
	VEXTRACTF128 $1, Y1, X5
	VADDPD X5, X1, X1
	VHADDPD X1, X1, X1
	VMOVSD X1, 8(DI)
	VEXTRACTF128 $1, Y2, X5
	VADDPD X5, X2, X2
	VHADDPD X2, X2, X2
	VMOVSD X2, 16(DI)
	VEXTRACTF128 $1, Y3, X5
	VADDPD X5, X3, X3
	VHADDPD X3, X3, X3
	VMOVSD X3, 24(DI)

	LEAQ (R11)(BX*1), R8
	ADDQ $32, DI
	SUBQ $4, DX
	JNE rows

done:
	VZEROUPPER
	RET

// func dot1AVX2(a *float64, b *float64, n int) float64
TEXT ·dot1AVX2(SB), NOSPLIT, $0-32
	MOVQ a+0(FP), SI
	MOVQ b+8(FP), R8
	MOVQ n+16(FP), CX
	VXORPD Y0, Y0, Y0
	XORQ AX, AX

loop1:
	VMOVUPD (SI)(AX*8), Y4
	VMULPD (R8)(AX*8), Y4, Y5
	VADDPD Y5, Y0, Y0
	ADDQ $4, AX
	CMPQ AX, CX
	JLT loop1

	VEXTRACTF128 $1, Y0, X5
	VADDPD X5, X0, X0
	VHADDPD X0, X0, X0
	VZEROUPPER
	MOVSD X0, ret+24(FP)
	RET

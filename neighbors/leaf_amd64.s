//go:build !noasm

#include "textflag.h"

// The kernels of leaf.go. Every square is a VMULPD followed by a separate
// VADDPD (never a fused multiply-add), into the accumulator of its feature
// mod 4, in feature order, and the accumulators are joined as
// (s0+s1)+(s2+s3): the sums of sqDist and boxDist, bit for bit.

// One feature of an AVX2 leaf block: Y12 = q[l] broadcast, the block's 8
// float32 values of feature l at off(R9), widened (exactly), into
// accumulators lo and hi (lanes 0-3 and 4-7).
#define FEAT2(qoff, off, lo, hi) \
	VBROADCASTSD qoff(SI)(AX*8), Y12 \
	VCVTPS2PD    off(R9), Y8         \
	VCVTPS2PD    off+16(R9), Y9      \
	VSUBPD       Y8, Y12, Y8         \
	VSUBPD       Y9, Y12, Y9         \
	VMULPD       Y8, Y8, Y8          \
	VMULPD       Y9, Y9, Y9          \
	VADDPD       Y8, lo, lo          \
	VADDPD       Y9, hi, hi

// func leafDistsAVX2(q *float64, blk *float32, d, nb int, bound float64, dist *float64, mask *uint8)
TEXT ·leafDistsAVX2(SB), NOSPLIT, $0-56
	MOVQ         q+0(FP), SI
	MOVQ         blk+8(FP), R9
	MOVQ         d+16(FP), CX
	MOVQ         nb+24(FP), BX
	VBROADCASTSD bound+32(FP), Y13
	MOVQ         dist+40(FP), DX
	MOVQ         mask+48(FP), R10
	MOVQ         CX, R8
	ANDQ         $-4, R8           // features taken four at a time

block2:
	// Accumulators: s0 in Y0/Y1, s1 in Y2/Y3, s2 in Y4/Y5, s3 in Y6/Y7.
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y2, Y2, Y2
	VXORPD Y3, Y3, Y3
	VXORPD Y4, Y4, Y4
	VXORPD Y5, Y5, Y5
	VXORPD Y6, Y6, Y6
	VXORPD Y7, Y7, Y7
	XORQ   AX, AX

quad2:
	CMPQ AX, R8
	JGE  tail2
	FEAT2(0, 0, Y0, Y1)
	FEAT2(8, 32, Y2, Y3)
	FEAT2(16, 64, Y4, Y5)
	FEAT2(24, 96, Y6, Y7)
	ADDQ $4, AX
	ADDQ $128, R9
	JMP  quad2

tail2:
	CMPQ AX, CX
	JGE  sum2
	FEAT2(0, 0, Y0, Y1)
	INCQ AX
	ADDQ $32, R9
	CMPQ AX, CX
	JGE  sum2
	FEAT2(0, 0, Y2, Y3)
	INCQ AX
	ADDQ $32, R9
	CMPQ AX, CX
	JGE  sum2
	FEAT2(0, 0, Y4, Y5)
	INCQ AX
	ADDQ $32, R9

sum2:
	VADDPD    Y2, Y0, Y0       // s0 + s1
	VADDPD    Y3, Y1, Y1
	VADDPD    Y6, Y4, Y4       // s2 + s3
	VADDPD    Y7, Y5, Y5
	VADDPD    Y4, Y0, Y0
	VADDPD    Y5, Y1, Y1
	VMOVUPD   Y0, (DX)
	VMOVUPD   Y1, 32(DX)
	VCMPPD    $2, Y13, Y0, Y10 // dist ≤ bound
	VCMPPD    $2, Y13, Y1, Y11
	VMOVMSKPD Y10, R11
	VMOVMSKPD Y11, R12
	SHLQ      $4, R12
	ORQ       R12, R11
	MOVB      R11, (R10)
	ADDQ      $64, DX
	INCQ      R10
	DECQ      BX
	JNZ       block2
	VZEROUPPER
	RET

// One feature of an AVX-512 leaf block, into accumulator acc.
#define FEAT512(qoff, off, acc) \
	VBROADCASTSD qoff(SI)(AX*8), Z12 \
	VCVTPS2PD    off(R9), Z8         \
	VSUBPD       Z8, Z12, Z8         \
	VMULPD       Z8, Z8, Z8          \
	VADDPD       Z8, acc, acc

// func leafDistsAVX512(q *float64, blk *float32, d, nb int, bound float64, dist *float64, mask *uint8)
TEXT ·leafDistsAVX512(SB), NOSPLIT, $0-56
	MOVQ         q+0(FP), SI
	MOVQ         blk+8(FP), R9
	MOVQ         d+16(FP), CX
	MOVQ         nb+24(FP), BX
	VBROADCASTSD bound+32(FP), Z13
	MOVQ         dist+40(FP), DX
	MOVQ         mask+48(FP), R10
	MOVQ         CX, R8
	ANDQ         $-4, R8

block512:
	VPXORQ Z0, Z0, Z0
	VPXORQ Z1, Z1, Z1
	VPXORQ Z2, Z2, Z2
	VPXORQ Z3, Z3, Z3
	XORQ   AX, AX

quad512:
	CMPQ AX, R8
	JGE  tail512
	FEAT512(0, 0, Z0)
	FEAT512(8, 32, Z1)
	FEAT512(16, 64, Z2)
	FEAT512(24, 96, Z3)
	ADDQ $4, AX
	ADDQ $128, R9
	JMP  quad512

tail512:
	CMPQ AX, CX
	JGE  sum512
	FEAT512(0, 0, Z0)
	INCQ AX
	ADDQ $32, R9
	CMPQ AX, CX
	JGE  sum512
	FEAT512(0, 0, Z1)
	INCQ AX
	ADDQ $32, R9
	CMPQ AX, CX
	JGE  sum512
	FEAT512(0, 0, Z2)
	INCQ AX
	ADDQ $32, R9

sum512:
	VADDPD  Z1, Z0, Z0
	VADDPD  Z3, Z2, Z2
	VADDPD  Z2, Z0, Z0
	VMOVUPD Z0, (DX)
	VCMPPD  $2, Z13, Z0, K1
	KMOVW   K1, R11
	MOVB    R11, (R10)
	ADDQ    $64, DX
	INCQ    R10
	DECQ    BX
	JNZ     block512
	VZEROUPPER
	RET

// One node's squared gaps over 4 features (lanes = accumulators s0..s3):
// Y2 = q, the node's lower bounds at off(R9), upper at off(R10), Y15 = 0.
// The gap is max(lo − q, q − hi, 0) (Y3 = lo − q, Y4 = q − hi); the
// operand order makes a NaN gap 0, as boxDist's comparisons do.
#define GAP2(off, acc) \
	VMOVUPD off(R9), Y3        \
	VSUBPD  Y2, Y3, Y3         \
	VSUBPD  off(R10), Y2, Y4   \
	VMAXPD  Y15, Y3, Y3        \
	VMAXPD  Y3, Y4, Y4         \
	VMULPD  Y4, Y4, Y4         \
	VADDPD  Y4, acc, acc

// (s0+s1)+(s2+s3) of the four lanes of Y, stored at ret.
#define JOIN(Y, X, ret) \
	VEXTRACTF128 $1, Y, X5 \
	VHADDPD      X5, X, X  \
	VUNPCKHPD    X, X, X6  \
	VADDSD       X6, X, X  \
	VMOVSD       X, ret

// func boxPairAVX2(q, box *float64, dp int) (dl, dr float64)
TEXT ·boxPairAVX2(SB), NOSPLIT, $0-40
	MOVQ   q+0(FP), SI
	MOVQ   box+8(FP), R9
	MOVQ   dp+16(FP), CX
	MOVQ   CX, R10
	SHLQ   $4, R10
	ADDQ   R9, R10         // the upper bounds, 2dp values on
	VXORPD Y0, Y0, Y0
	VXORPD Y1, Y1, Y1
	VXORPD Y15, Y15, Y15
	XORQ   AX, AX

box2:
	VMOVUPD (SI)(AX*8), Y2
	GAP2(0, Y0)
	GAP2(32, Y1)
	ADDQ    $64, R9
	ADDQ    $64, R10
	ADDQ    $4, AX
	CMPQ    AX, CX
	JLT     box2
	JOIN(Y0, X0, dl+24(FP))
	JOIN(Y1, X1, dr+32(FP))
	VZEROUPPER
	RET

// func boxPairAVX512(q, box *float64, dp int) (dl, dr float64)
TEXT ·boxPairAVX512(SB), NOSPLIT, $0-40
	MOVQ   q+0(FP), SI
	MOVQ   box+8(FP), R9
	MOVQ   dp+16(FP), CX
	MOVQ   CX, R10
	SHLQ   $4, R10
	ADDQ   R9, R10
	VPXORQ Z0, Z0, Z0
	VPXORQ Z15, Z15, Z15
	XORQ   AX, AX

box512:
	// Both nodes at once: lanes 0-3 the first, 4-7 the second.
	VBROADCASTF64X4 (SI)(AX*8), Z2
	VMOVUPD         (R9), Z3
	VSUBPD          Z2, Z3, Z3
	VSUBPD          (R10), Z2, Z4
	VMAXPD          Z15, Z3, Z3
	VMAXPD          Z3, Z4, Z4
	VMULPD          Z4, Z4, Z4
	VADDPD          Z4, Z0, Z0
	ADDQ            $64, R9
	ADDQ            $64, R10
	ADDQ            $4, AX
	CMPQ            AX, CX
	JLT             box512
	VEXTRACTF64X4   $1, Z0, Y1
	JOIN(Y0, X0, dl+24(FP))
	JOIN(Y1, X1, dr+32(FP))
	VZEROUPPER
	RET

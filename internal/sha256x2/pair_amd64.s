#include "textflag.h"

// The SHA-256 compression function with the SHA extensions, run on two
// independent message streams at once. SHA256RNDS2 waits on its own result
// for each pair of rounds, so one stream leaves the unit idle most of the
// time; two streams, interleaved instruction by instruction, take little
// longer than one.
//
// Registers: X0 is SHA256RNDS2's implicit operand (message words plus round
// constants). Stream a: state X1 (A,B,E,F) and X2 (C,D,G,H), message words
// X5-X8, scratch X13. Stream b: state X3 and X4, words X9-X12, scratch X14.
// X15 holds the byte-swap mask; AX points at the round constants. The states
// at the start of a block are kept on the stack for the final addition.

// load reads the 16 big-endian words of a block at off(p) into m0-m3.
#define LOAD(p, m0, m1, m2, m3) \
	MOVOU 0(p), m0; PSHUFB X15, m0; \
	MOVOU 16(p), m1; PSHUFB X15, m1; \
	MOVOU 32(p), m2; PSHUFB X15, m2; \
	MOVOU 48(p), m3; PSHUFB X15, m3

// schedule replaces m0, holding W[i-16..i-13], with W[i..i+3], from the
// words in m1 (W[i-12..]), m2 (W[i-8..]) and m3 (W[i-4..]).
#define SCHEDULE(m0, m1, m2, m3, t) \
	MOVO m3, t; PALIGNR $4, m2, t; \
	SHA256MSG1 m1, m0; PADDD t, m0; SHA256MSG2 m3, m0

// rounds runs four rounds of both streams with message words ma and mb and
// the constants at off(AX).
#define ROUNDS(off, ma, mb) \
	MOVOU off(AX), X13; PADDD ma, X13; \
	MOVOU off(AX), X14; PADDD mb, X14; \
	MOVO X13, X0; SHA256RNDS2 X0, X1, X2; \
	MOVO X14, X0; SHA256RNDS2 X0, X3, X4; \
	PSHUFD $0x0e, X13, X0; SHA256RNDS2 X0, X2, X1; \
	PSHUFD $0x0e, X14, X0; SHA256RNDS2 X0, X4, X3

// toABEF turns the state at h (a..h as words) into s0 (A,B,E,F) and s1
// (C,D,G,H), using t.
#define TOABEF(h, s0, s1, t) \
	MOVOU 0(h), s0; MOVOU 16(h), s1; \
	PSHUFD $0xb1, s0, s0; PSHUFD $0x1b, s1, s1; \
	MOVO s0, t; PALIGNR $8, s1, s0; PBLENDW $0xf0, t, s1

// fromABEF stores s0 and s1 back at h as a..h.
#define FROMABEF(h, s0, s1, t) \
	PSHUFD $0x1b, s0, s0; PSHUFD $0xb1, s1, s1; \
	MOVO s0, t; PBLENDW $0xf0, s1, s0; PALIGNR $8, t, s1; \
	MOVOU s0, 0(h); MOVOU s1, 16(h)

// func blocks2(ha *[8]uint32, pa []byte, hb *[8]uint32, pb []byte)
// It compresses len(pa)/64 blocks of pa into ha and as many of pb into hb;
// pb must be at least as long as pa.
TEXT ·blocks2(SB), NOSPLIT, $64-64
	MOVQ ha+0(FP), DI
	MOVQ pa_base+8(FP), SI
	MOVQ pa_len+16(FP), CX
	MOVQ hb+32(FP), DX
	MOVQ pb_base+40(FP), R8
	SHRQ $6, CX
	JZ   done
	LEAQ k<>(SB), AX
	MOVOU flip<>(SB), X15
	TOABEF(DI, X1, X2, X13)
	TOABEF(DX, X3, X4, X14)

loop:
	MOVOU X1, 0(SP)
	MOVOU X2, 16(SP)
	MOVOU X3, 32(SP)
	MOVOU X4, 48(SP)
	LOAD(SI, X5, X6, X7, X8)
	LOAD(R8, X9, X10, X11, X12)
	ROUNDS(0, X5, X9)
	ROUNDS(16, X6, X10)
	ROUNDS(32, X7, X11)
	ROUNDS(48, X8, X12)
	SCHEDULE(X5, X6, X7, X8, X13); SCHEDULE(X9, X10, X11, X12, X14); ROUNDS(64, X5, X9)
	SCHEDULE(X6, X7, X8, X5, X13); SCHEDULE(X10, X11, X12, X9, X14); ROUNDS(80, X6, X10)
	SCHEDULE(X7, X8, X5, X6, X13); SCHEDULE(X11, X12, X9, X10, X14); ROUNDS(96, X7, X11)
	SCHEDULE(X8, X5, X6, X7, X13); SCHEDULE(X12, X9, X10, X11, X14); ROUNDS(112, X8, X12)
	SCHEDULE(X5, X6, X7, X8, X13); SCHEDULE(X9, X10, X11, X12, X14); ROUNDS(128, X5, X9)
	SCHEDULE(X6, X7, X8, X5, X13); SCHEDULE(X10, X11, X12, X9, X14); ROUNDS(144, X6, X10)
	SCHEDULE(X7, X8, X5, X6, X13); SCHEDULE(X11, X12, X9, X10, X14); ROUNDS(160, X7, X11)
	SCHEDULE(X8, X5, X6, X7, X13); SCHEDULE(X12, X9, X10, X11, X14); ROUNDS(176, X8, X12)
	SCHEDULE(X5, X6, X7, X8, X13); SCHEDULE(X9, X10, X11, X12, X14); ROUNDS(192, X5, X9)
	SCHEDULE(X6, X7, X8, X5, X13); SCHEDULE(X10, X11, X12, X9, X14); ROUNDS(208, X6, X10)
	SCHEDULE(X7, X8, X5, X6, X13); SCHEDULE(X11, X12, X9, X10, X14); ROUNDS(224, X7, X11)
	SCHEDULE(X8, X5, X6, X7, X13); SCHEDULE(X12, X9, X10, X11, X14); ROUNDS(240, X8, X12)
	MOVOU 0(SP), X13; PADDD X13, X1
	MOVOU 16(SP), X13; PADDD X13, X2
	MOVOU 32(SP), X14; PADDD X14, X3
	MOVOU 48(SP), X14; PADDD X14, X4
	ADDQ $64, SI
	ADDQ $64, R8
	DECQ CX
	JNZ  loop

	FROMABEF(DI, X1, X2, X13)
	FROMABEF(DX, X3, X4, X14)

done:
	RET

// func cpuid(leaf, sub uint32) (a, b, c, d uint32)
TEXT ·cpuid(SB), NOSPLIT, $0-24
	MOVL leaf+0(FP), AX
	MOVL sub+4(FP), CX
	CPUID
	MOVL AX, a+8(FP)
	MOVL BX, b+12(FP)
	MOVL CX, c+16(FP)
	MOVL DX, d+20(FP)
	RET

// flip swaps the bytes of each 32-bit word.
DATA flip<>+0(SB)/8, $0x0405060700010203
DATA flip<>+8(SB)/8, $0x0c0d0e0f08090a0b
GLOBL flip<>(SB), RODATA|NOPTR, $16

// k holds SHA-256's 64 round constants.
DATA k<>+0(SB)/4, $0x428a2f98
DATA k<>+4(SB)/4, $0x71374491
DATA k<>+8(SB)/4, $0xb5c0fbcf
DATA k<>+12(SB)/4, $0xe9b5dba5
DATA k<>+16(SB)/4, $0x3956c25b
DATA k<>+20(SB)/4, $0x59f111f1
DATA k<>+24(SB)/4, $0x923f82a4
DATA k<>+28(SB)/4, $0xab1c5ed5
DATA k<>+32(SB)/4, $0xd807aa98
DATA k<>+36(SB)/4, $0x12835b01
DATA k<>+40(SB)/4, $0x243185be
DATA k<>+44(SB)/4, $0x550c7dc3
DATA k<>+48(SB)/4, $0x72be5d74
DATA k<>+52(SB)/4, $0x80deb1fe
DATA k<>+56(SB)/4, $0x9bdc06a7
DATA k<>+60(SB)/4, $0xc19bf174
DATA k<>+64(SB)/4, $0xe49b69c1
DATA k<>+68(SB)/4, $0xefbe4786
DATA k<>+72(SB)/4, $0x0fc19dc6
DATA k<>+76(SB)/4, $0x240ca1cc
DATA k<>+80(SB)/4, $0x2de92c6f
DATA k<>+84(SB)/4, $0x4a7484aa
DATA k<>+88(SB)/4, $0x5cb0a9dc
DATA k<>+92(SB)/4, $0x76f988da
DATA k<>+96(SB)/4, $0x983e5152
DATA k<>+100(SB)/4, $0xa831c66d
DATA k<>+104(SB)/4, $0xb00327c8
DATA k<>+108(SB)/4, $0xbf597fc7
DATA k<>+112(SB)/4, $0xc6e00bf3
DATA k<>+116(SB)/4, $0xd5a79147
DATA k<>+120(SB)/4, $0x06ca6351
DATA k<>+124(SB)/4, $0x14292967
DATA k<>+128(SB)/4, $0x27b70a85
DATA k<>+132(SB)/4, $0x2e1b2138
DATA k<>+136(SB)/4, $0x4d2c6dfc
DATA k<>+140(SB)/4, $0x53380d13
DATA k<>+144(SB)/4, $0x650a7354
DATA k<>+148(SB)/4, $0x766a0abb
DATA k<>+152(SB)/4, $0x81c2c92e
DATA k<>+156(SB)/4, $0x92722c85
DATA k<>+160(SB)/4, $0xa2bfe8a1
DATA k<>+164(SB)/4, $0xa81a664b
DATA k<>+168(SB)/4, $0xc24b8b70
DATA k<>+172(SB)/4, $0xc76c51a3
DATA k<>+176(SB)/4, $0xd192e819
DATA k<>+180(SB)/4, $0xd6990624
DATA k<>+184(SB)/4, $0xf40e3585
DATA k<>+188(SB)/4, $0x106aa070
DATA k<>+192(SB)/4, $0x19a4c116
DATA k<>+196(SB)/4, $0x1e376c08
DATA k<>+200(SB)/4, $0x2748774c
DATA k<>+204(SB)/4, $0x34b0bcb5
DATA k<>+208(SB)/4, $0x391c0cb3
DATA k<>+212(SB)/4, $0x4ed8aa4a
DATA k<>+216(SB)/4, $0x5b9cca4f
DATA k<>+220(SB)/4, $0x682e6ff3
DATA k<>+224(SB)/4, $0x748f82ee
DATA k<>+228(SB)/4, $0x78a5636f
DATA k<>+232(SB)/4, $0x84c87814
DATA k<>+236(SB)/4, $0x8cc70208
DATA k<>+240(SB)/4, $0x90befffa
DATA k<>+244(SB)/4, $0xa4506ceb
DATA k<>+248(SB)/4, $0xbef9a3f7
DATA k<>+252(SB)/4, $0xc67178f2
GLOBL k<>(SB), RODATA|NOPTR, $256

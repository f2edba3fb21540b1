/*
 * bench_rv64.h - encoders for the handful of RV64 instructions the Unicorn
 * guest programs use, from the base formats of the unprivileged spec
 * ("Base Instruction Formats", "Immediate Encoding Variants") and the
 * privileged spec's SYSTEM encodings (mret, sfence.vma). Each use site in
 * bench_unicorn.c carries its assembly in a comment.
 */
#ifndef BENCH_RV64_H
#define BENCH_RV64_H

#include <stdint.h>

/* Integer register numbers (ABI names). */
enum rv_reg {
    RV_ZERO = 0, RV_T0 = 5, RV_T1 = 6, RV_T2 = 7, RV_S0 = 8, RV_S1 = 9,
    RV_A0 = 10, RV_A1 = 11, RV_A2 = 12, RV_S2 = 18, RV_S3 = 19, RV_S4 = 20,
};

/* CSR numbers (Priv. spec, "CSR Listing"). */
enum { RV_CSR_MSTATUS = 0x300 };

/* Fixed encodings (Priv. spec: mret; sfence.vma x0, x0; addi x0, x0, 0). */
enum {
    RV_MRET = 0x30200073u,
    RV_SFENCE_VMA_ALL = 0x12000073u,
    RV_NOP = 0x00000013u,
};

static inline uint32_t rv_itype(uint32_t opcode, unsigned rd, unsigned funct3, unsigned rs1,
                                uint32_t imm12)
{
    return (imm12 & 0xfffu) << 20 | (uint32_t)rs1 << 15 | (uint32_t)funct3 << 12 |
           (uint32_t)rd << 7 | opcode;
}

static inline uint32_t rv_rtype(uint32_t opcode, unsigned rd, unsigned funct3, unsigned rs1,
                                unsigned rs2, unsigned funct7)
{
    return (uint32_t)funct7 << 25 | (uint32_t)rs2 << 20 | (uint32_t)rs1 << 15 |
           (uint32_t)funct3 << 12 | (uint32_t)rd << 7 | opcode;
}

static inline uint32_t rv_stype(uint32_t opcode, unsigned funct3, unsigned rs1, unsigned rs2,
                                int32_t imm)
{
    uint32_t u = (uint32_t)imm;
    return (u >> 5 & 0x7fu) << 25 | (uint32_t)rs2 << 20 | (uint32_t)rs1 << 15 |
           (uint32_t)funct3 << 12 | (u & 0x1fu) << 7 | opcode;
}

/* B-type: imm[12|10:5] rs2 rs1 funct3 imm[4:1|11] opcode (offset from this insn). */
static inline uint32_t rv_btype(unsigned funct3, unsigned rs1, unsigned rs2, int32_t offset)
{
    uint32_t u = (uint32_t)offset;
    return (u >> 12 & 1u) << 31 | (u >> 5 & 0x3fu) << 25 | (uint32_t)rs2 << 20 |
           (uint32_t)rs1 << 15 | (uint32_t)funct3 << 12 | (u >> 1 & 0xfu) << 8 |
           (u >> 11 & 1u) << 7 | 0x63u;
}

static inline uint32_t rv_ld(unsigned rd, unsigned rs1, int32_t imm)
{
    return rv_itype(0x03, rd, 3, rs1, (uint32_t)imm);
}
static inline uint32_t rv_sd(unsigned rs2, unsigned rs1, int32_t imm)
{
    return rv_stype(0x23, 3, rs1, rs2, imm);
}
static inline uint32_t rv_addi(unsigned rd, unsigned rs1, int32_t imm)
{
    return rv_itype(0x13, rd, 0, rs1, (uint32_t)imm);
}
static inline uint32_t rv_srli(unsigned rd, unsigned rs1, unsigned shamt)
{
    return rv_itype(0x13, rd, 5, rs1, shamt & 0x3fu); /* RV64: imm[11:6] = 0 for srli */
}
static inline uint32_t rv_add(unsigned rd, unsigned rs1, unsigned rs2)
{
    return rv_rtype(0x33, rd, 0, rs1, rs2, 0);
}
static inline uint32_t rv_and(unsigned rd, unsigned rs1, unsigned rs2)
{
    return rv_rtype(0x33, rd, 7, rs1, rs2, 0);
}
static inline uint32_t rv_mul(unsigned rd, unsigned rs1, unsigned rs2)
{
    return rv_rtype(0x33, rd, 0, rs1, rs2, 1); /* M extension: funct7 = 0000001 */
}
static inline uint32_t rv_bne(unsigned rs1, unsigned rs2, int32_t offset)
{
    return rv_btype(1, rs1, rs2, offset);
}
/* csrrs rd, csr, x0 (the csrr pseudo-instruction). */
static inline uint32_t rv_csrr(unsigned rd, uint32_t csr)
{
    return rv_itype(0x73, rd, 2, RV_ZERO, csr);
}

#endif /* BENCH_RV64_H */

#!/usr/bin/env python3
"""Write the hand-made seed inputs of fuzz_translate_x86.

Usage: python3 fuzz/gen_x86_seeds.py [REPO_ROOT]
Writes corpus/fuzz_translate_x86/seed-*.

Each seed is one SDM rule's scenario in the input format fuzz/x86_world.c
decodes (6-byte config header, then opcode byte + fixed little-endian
arguments); the helpers below mirror that decoder: keep them in step with it.
"""
import os
import sys

# ---- config header (x86w_setup) ------------------------------------------
RAM_256K, RAM_1M, RAM_4M = 0, 1, 2
# w_pkrus indexes
PKRU_0, PKRU_ALL, PKRU_AD0, PKRU_WD0, PKRU_AD1, PKRU_WD1, PKRU_AD5, PKRU_WD5 = range(8)
# w_maxphys indexes (0 36 39 40 46 48 52 0)
MAXPHY_52, MAXPHY_36, MAXPHY_39, MAXPHY_40 = 0, 1, 2, 3


def config(ram=RAM_1M, la57=0, paging=1, pge=0, pcide=0, nxe=0, tlb=None, wp=1, smep=0, smap=0,
           pke=0, ac=0, cpl=0, root_b=0, pkru=PKRU_0, maxphy=MAXPHY_52, pcid=0):
    """tlb=None: the default 64/128 TLBs, else (itlb, dtlb) in 1..8; pcid: index into
    (0 1 2 3 5 0x7ff 0x800 0xfff), used with pcide."""
    b0 = ram | la57 << 2 | (0 if paging else 3) << 3 | pge << 5 | pcide << 6 | nxe << 7
    b1 = ((tlb[0] - 1) | (tlb[1] - 1) << 3) if tlb else 0xc0
    b2 = wp | smep << 1 | smap << 2 | pke << 3 | ac << 4 | cpl << 5 | root_b << 7
    b3 = pkru | maxphy << 4
    return bytes([b0, b1, b2, b3, pcid, 0])


# ---- VA operands (w_va): pool index + tweak --------------------------------
P_1000, P_LOW_TOP, P_HIGH_BOTTOM, P_TOP, P_HOLE4, P_LOW_TOP5, P_HIGH5, P_HOLE5 = range(8)
P_ZERO, P_2M, P_1G, P_PML4_1, P_PML5_1, P_2000, P_MMIO, P_TABLES = range(8, 16)
T_NONE, T_PLUS1, T_PLUS_FF8, T_NEXT, T_PREV = 0, 12, 13, 14, 15
T_BIT47, T_BIT56, T_BIT63 = 22, 23, 24


def va(pool, tweak=T_NONE):
    return bytes([pool, tweak])


# ---- ops (x86w_op) ---------------------------------------------------------
RW, US, A, G, XD, PKEY = 0x03, 0x0c, 0x10, 0x20, 0x40, 0x80   # w_map_flags f bits
D, CACHE = 0x10, 0x20                                          # k bits
S4K, S2M, S1G = 0, 2, 3
ROOT_B = 4


def op_map(v, psel=0x10, size=S4K, f=RW | US, k=0):
    return bytes([0]) + v + bytes([psel, size, f, k])


def op_entry(v, level, tsel, asel, hsel):
    """level: lsel (level = 1 + lsel % levels); tsel % 10: 0/1 table, 2/3 leaf,
    4 bit flip (hsel = bit), 5 reserved pattern, 6 ignored bits, 7 not present,
    8 rights/A/D changed."""
    return bytes([2]) + v + bytes([level, tsel, asel, hsel])


def op_cr0(s):
    """s % 6: 0 WP, 1 PG, 2 PE flipped."""
    return bytes([4, s])


CR4_PAE, CR4_PGE, CR4_LA57, CR4_PCIDE, CR4_SMEP, CR4_SMAP, CR4_PKE, CR4_PSE = range(8)


def op_cr4(bit):
    return bytes([5, bit])


def op_cr3(s, p):
    """s: bit 0 root B, 0x10 through the register block, 0x20 bit 63; p & 7: PCID index."""
    return bytes([6, s, p])


def op_efer_nxe():
    return bytes([7, 0, 0])


def op_rflags_ac():
    return bytes([7, 1, 1])


def op_cpl(n):
    return bytes([7, 2, n])


def op_pkru(index):
    return bytes([7, 3, index])


def op_maxphy(index):
    return bytes([7, 5, index])


def tr(acc, v):
    return bytes([8 + acc]) + v


def tr_twice(acc, v):
    return bytes([11]) + v + bytes([acc])


def op_invlpg(v):
    return bytes([12, 0, 0]) + v


def op_invpcid(t, pcid_index, v=va(P_1000)):
    return bytes([12, 1 | t << 3, pcid_index]) + v


def op_flush(kind, pcid_index=0, v=va(P_1000)):
    """kind: 0 all, 1 PCID, 2 page, 3 page+PCID, 4 non-global."""
    return bytes([13, kind, pcid_index]) + v


def op_mode(x86):
    return bytes([14, 1 | x86 << 1])


def op_cpl_flip(acc, v):
    return bytes([15]) + v + bytes([acc])


R, W, X = 0, 1, 2

SEEDS = {
    # 4.5: 4K/2M/1G pages, A in every entry, D on writes (4.8)
    "walk-4level": config() + op_map(va(P_1000)) + op_map(va(P_2M), size=S2M, psel=0) +
    op_map(va(P_1G), size=S1G, psel=0) + tr(R, va(P_1000)) + tr(W, va(P_2M, T_PLUS_FF8)) +
    tr(X, va(P_1G)) + tr_twice(W, va(P_1000)),
    # 4.5.5: 5-level paging, high half, the hole
    "walk-5level": config(la57=1, ram=RAM_4M) + op_map(va(P_HIGH5)) + op_map(va(P_PML5_1)) +
    tr(R, va(P_HIGH5)) + tr(W, va(P_PML5_1)) + tr(R, va(P_HOLE5)) + tr(R, va(P_HOLE4)),
    # canonical #GP before anything
    "canonical": config() + op_map(va(P_LOW_TOP)) + tr(R, va(P_LOW_TOP)) + tr(R, va(P_HOLE4)) +
    tr(W, va(P_LOW_TOP, T_BIT47)) + tr(X, va(P_TOP, T_BIT63)),
    # 4.6.1 CR0.WP: supervisor writes to read-only pages
    "wp": config(wp=0) + op_map(va(P_1000), f=US) + tr(W, va(P_1000)) + op_cr0(0) +
    tr(W, va(P_1000)) + op_cpl_flip(W, va(P_1000)),
    # 4.6.1 SMAP with RFLAGS.AC, SMEP
    "smap-smep": config(smap=1, smep=1) + op_map(va(P_1000)) + tr(R, va(P_1000)) +
    op_rflags_ac() + tr(R, va(P_1000)) + tr(W, va(P_1000)) + op_rflags_ac() +
    tr(R, va(P_1000)) + tr(X, va(P_1000)),
    # 4.6.2 protection keys
    "pkeys": config(pke=1, pkru=PKRU_AD5, cpl=3) + op_map(va(P_1000), f=RW | US | PKEY, k=5) +
    tr(R, va(P_1000)) + op_pkru(PKRU_WD5) + tr(R, va(P_1000)) + tr(W, va(P_1000)) +
    op_cpl_flip(W, va(P_1000)) + op_cr0(0) + tr(W, va(P_1000)),
    # 4.5 reserved bits: XD without NXE, MAXPHYADDR, PS in a PML4E
    "reserved-bits": config(maxphy=MAXPHY_40) + op_map(va(P_1000)) +
    op_entry(va(P_1000), 0, 5, 0, 5) + tr(R, va(P_1000)) + op_map(va(P_2000), psel=10) +
    tr(R, va(P_2000)) + op_entry(va(P_1000), 3, 5, 0, 0) + tr(R, va(P_1000)),
    # 4.6.1 NX over the walk, SMEP and the I/D flag
    "nx": config(nxe=1) + op_map(va(P_1000), f=RW | US | XD) + tr(X, va(P_1000)) +
    tr(R, va(P_1000)) + op_efer_nxe() + tr(X, va(P_1000)),
    # 4.10.1, 4.10.2.4, 4.10.4.1: PCIDs, global pages, MOV to CR3, INVLPG, INVPCID
    "pcid-global": config(pcide=1, pge=1, pcid=1) + op_map(va(P_1000), f=RW | US | G) +
    op_map(va(P_2000)) + tr(R, va(P_1000)) + tr(R, va(P_2000)) +
    op_entry(va(P_2000), 0, 8, 0x06, 0) + op_cr3(0x20, 2) + tr(R, va(P_2000)) +
    op_cr3(0x00, 1) + tr(R, va(P_1000)) + op_invlpg(va(P_1000)) + tr(R, va(P_1000)) +
    op_invpcid(0, 1) + op_invpcid(1, 1) + op_invpcid(2, 0) + op_invpcid(3, 0) +
    op_invpcid(0, 9) + tr(R, va(P_1000)),
    # 4.8 with a stale TLB: a read-filled entry must not answer a write
    "dirty-stale": config(tlb=(2, 2)) + op_map(va(P_1000)) + tr(R, va(P_1000)) +
    op_entry(va(P_1000), 0, 2, 0x26, 0x10) + tr(R, va(P_1000)) + tr(W, va(P_1000)) +
    op_flush(2) + tr(W, va(P_1000)),
    # register writes and their invalidations
    "registers": config() + op_map(va(P_1000)) + tr(R, va(P_1000)) + op_cr4(CR4_PGE) +
    op_cr4(CR4_SMEP) + tr(X, va(P_1000)) + op_cr4(CR4_PCIDE) + op_cr0(1) + tr(R, va(P_1000)) +
    op_cr0(1) + op_cr4(CR4_LA57) + tr(R, va(P_1000)) + op_maxphy(5) + op_cpl(4) + op_mode(0) +
    tr(R, va(P_MMIO)) + op_mode(1) + tr(R, va(P_1000)),
    # paging off: the identity
    "paging-off": config(paging=0) + tr(R, va(P_TABLES)) + tr(W, va(P_HOLE4)) + op_cr0(1) +
    tr(R, va(P_1000)),
}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    out = os.path.join(root, "corpus", "fuzz_translate_x86")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    print(f"wrote {len(SEEDS)} seeds to {out}")


if __name__ == "__main__":
    main()

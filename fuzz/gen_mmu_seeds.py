#!/usr/bin/env python3
"""Write the hand-made seed inputs of fuzz_translate and fuzz_mmu_access.

Usage: python3 fuzz/gen_mmu_seeds.py [REPO_ROOT]
Writes corpus/fuzz_translate/seed-* and corpus/fuzz_mmu_access/seed-*.

Each seed is a short, meaningful scenario written in the input format that
fuzz/fuzz_mmu_common.h decodes (config header, then opcode byte + fixed
little-endian arguments). The helpers below mirror that decoder: keep
them in step with it.
"""
import os
import struct
import sys

# ---- config header (fm_setup) ---------------------------------------------
SV39, SV48, SV57 = 0, 1, 2
RAM_64K, RAM_256K, RAM_1M, RAM_4M = 0, 1, 2, 3
U, S, M = 0, 1, 3


def config(mode=SV39, ram=RAM_64K, asid_sel=1, priv=S, sum_=0, mxr=0, ad_fault=0,
           strict=0, tlb=None):
    """tlb=None: default 64/128 TLBs; else (itlb, dtlb) in 1..8."""
    pbits = {U: 0, S: 1, M: 3}[priv]
    fl = pbits | sum_ << 2 | mxr << 3 | ad_fault << 4 | strict << 5
    if tlb is None:
        fl |= 3 << 6
        tsel = 0
    else:
        tsel = (tlb[0] - 1) | (tlb[1] - 1) << 3
    return bytes([mode, ram, 0, asid_sel, fl, tsel])


# ---- VA operands (fm_va): pool index + tweak ------------------------------
P_ZERO, P_LOW_TOP, P_HIGH_BOTTOM, P_TOP, P_NONCANON, P_NONCANON2 = 0, 1, 2, 3, 4, 5
P_1000, P_200000, P_40000000, P_2000, P_512G, P_MMIO, P_MMIO_HALF, P_TABLES = range(6, 14)
T_NONE, T_PLUS1, T_PLUS6, T_FFC, T_FFD, T_FFE, T_FFF = 0, 12, 13, 14, 15, 16, 17
T_NEXT, T_PREV, T_800, T_2M_LAST, T_2M, T_1G_LAST, T_1G, T_FLIP_CANON = 18, 19, 20, 21, 22, 23, 24, 25


def va(pool, tweak=T_NONE):
    return bytes([pool, tweak])


def word(k):
    """tweak: + 8*k (k in 1..7) inside the page"""
    return 27 + 32 * k


# ---- shared ops -------------------------------------------------------------
R, W, X, Uf, G, A, D = 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
SZ_4K, SZ_2M, SZ_1G, SZ_512G = 0, 5, 7, 15


def data_page(k):
    """fm_pick_pa selector for data page k (psel % 10 < 6, psel >> 3 == k)"""
    for p in range(8 * k, 8 * k + 8):
        if p % 10 < 6:
            return p
    raise ValueError(k)


PA_TABLE, PA_MMIO, PA_BEYOND = 6, 7, 8


def op_map(opc, v, psel, size_sel, flags, root_b=False):
    return bytes([opc]) + v + bytes([psel, size_sel, flags, 1 if root_b else 0])


def op_pte(opc, v, level, flags, kind, idx=0, rsw=0, high=0, raw=None):
    """kind: 0 data page, 1 table page, 2 2M-aligned, 3 misaligned superpage,
    4 beyond RAM, 5 MMIO, 6 bit 43, 7 keep PPN. high: 0 none, 10 N, 11-13 PBMT,
    14 reserved bit, 15 raw u64."""
    out = bytes([opc]) + v + bytes([level, flags, kind | idx << 3, rsw | high << 2])
    if high == 15:
        out += struct.pack("<Q", raw)
    return out


def op_satp(opc, mode_sel, asid_sel, ppn_sel):
    return bytes([opc, mode_sel, asid_sel, ppn_sel])


def op_priv(opc, what, value):
    """what: 'priv' (value U/S/M), 'sum', 'mxr', 'ad' (1 = fault)."""
    if what == "priv":
        b = 0 | {U: 0, S: 1, M: 3}[value] << 3
    else:
        b = {"sum": 1, "mxr": 2, "ad": 3}[what] | value << 2
    return bytes([opc, b])


def op_flush(opc, kind, arg=None):
    if kind == "all":
        return bytes([opc, 0])
    if kind == "asid":  # arg: index into {0, 1, 5, 0xffff}
        k = next(k for k in range(256) if k % 3 == 1 and not (k >> 2) & 1 and (k >> 3) & 3 == arg)
        return bytes([opc, k])
    return bytes([opc, 2]) + arg  # page: arg is a VA operand


def op_resize(opc, itlb, dtlb):
    return bytes([opc, (itlb - 1) | (dtlb - 1) << 3])


# ---- fuzz_translate opcodes -------------------------------------------------
T_MAP, T_PTE, T_SATP, T_PRIV = 0, 2, 4, 5
T_READ, T_WRITE, T_EXEC = 6, 7, 8
T_READ_ACC = 9  # 9-11: translate, then the access path against it
T_FLUSH, T_RESIZE, T_MODE, T_TWICE = 12, 13, 14, 15


def tr(acc, v):
    return bytes([{"r": T_READ, "w": T_WRITE, "x": T_EXEC}[acc]]) + v


def tra(acc, v):
    """translate, then the access path against it (fm_check_access_agrees)"""
    return bytes([T_READ_ACC + "rwx".index(acc)]) + v


def translate_seeds():
    s = {}
    s["sv39-4k-map"] = config() + op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W | X) + \
        tr("r", va(P_1000)) + tr("w", va(P_1000, word(1))) + tr("x", va(P_1000)) + \
        tr("r", va(P_2000)) + tr("r", va(P_1000, T_PREV))
    s["superpage-2m"] = config(ram=RAM_4M) + \
        op_map(T_MAP, va(P_200000), data_page(0), SZ_2M, R | W | A | D) + \
        tr("r", va(P_200000, T_2M_LAST)) + tr("w", va(P_200000, T_800)) + \
        tr("x", va(P_200000)) + tr("r", va(P_200000, T_2M))
    s["stale-tlb"] = config() + op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        tr("r", va(P_1000)) + op_pte(T_PTE, va(P_1000), 0, R | W | A | 1, 0, idx=2) + \
        tr("r", va(P_1000)) + op_flush(T_FLUSH, "page", va(P_1000)) + tr("r", va(P_1000))
    s["asid-global"] = config(asid_sel=1) + \
        op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W | G) + \
        op_map(T_MAP, va(P_2000), data_page(2), SZ_4K, R | W) + \
        tr("r", va(P_1000)) + tr("r", va(P_2000)) + op_satp(T_SATP, 5, 2, 0) + \
        tr("r", va(P_1000)) + tr("r", va(P_2000)) + op_flush(T_FLUSH, "asid", 1) + \
        tr("r", va(P_1000)) + op_satp(T_SATP, 5, 1, 0) + tr("r", va(P_2000))
    s["sv48-512g"] = config(mode=SV48) + \
        op_map(T_MAP, va(P_512G), data_page(0), SZ_512G, R | X | A) + \
        tr("x", va(P_512G, T_1G)) + tr("r", va(P_512G)) + tr("w", va(P_512G))
    s["sv57-high-half"] = config(mode=SV57, ram=RAM_256K) + \
        op_map(T_MAP, va(P_TOP), data_page(3), SZ_4K, R | W | A | D) + \
        op_map(T_MAP, va(P_HIGH_BOTTOM), data_page(4), SZ_4K, R) + \
        tr("r", va(P_TOP)) + tr("w", va(P_TOP, T_FFF)) + tr("r", va(P_HIGH_BOTTOM)) + \
        tr("r", va(P_NONCANON)) + tr("r", va(P_HIGH_BOTTOM, T_FLIP_CANON)) + \
        op_flush(T_FLUSH, "page", va(P_TOP)) + tr("r", va(P_TOP))
    s["svade-ad-fault"] = config(ad_fault=1) + \
        op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 0, R | W | A | 1, 7) + tr("r", va(P_1000)) + \
        tr("w", va(P_1000)) + op_priv(T_PRIV, "ad", 0) + tr("w", va(P_1000))
    s["user-sum-mxr"] = config(priv=U) + \
        op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W | Uf) + \
        op_map(T_MAP, va(P_2000), data_page(2), SZ_4K, X | Uf) + \
        tr("r", va(P_1000)) + tr("r", va(P_2000)) + op_priv(T_PRIV, "mxr", 1) + \
        tr("r", va(P_2000)) + op_priv(T_PRIV, "priv", S) + tr("r", va(P_1000)) + \
        op_priv(T_PRIV, "sum", 1) + tr("r", va(P_1000)) + tr("x", va(P_2000)) + \
        op_priv(T_PRIV, "priv", M) + tr("r", va(P_NONCANON))
    fl = op_flush(T_FLUSH, "all")
    s["bad-ptes"] = config(ram=RAM_1M) + \
        op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        op_pte(T_PTE, va(P_1000), 0, R | W | 1, 7, high=11) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 0, R | W | 1, 7, high=10) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 0, W | 1, 7) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 0, R | W | 1, 7, rsw=3) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 1, R | 1, 3, idx=0) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 1, 1 | A, 1) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 1, 1, 4, idx=1) + fl + tr("r", va(P_1000)) + \
        op_pte(T_PTE, va(P_1000), 1, 1, 5) + fl + tr("w", va(P_1000))
    s["satp-warl-bare"] = config() + op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        tr("r", va(P_1000)) + op_satp(T_SATP, 4 | 1 << 3, 0, 0) + tr("r", va(P_1000)) + \
        op_satp(T_SATP, 0, 0, 0) + tr("r", va(P_1000)) + op_satp(T_SATP, 1, 4, 0) + \
        tr("r", va(P_1000)) + op_satp(T_SATP, 6, 4, 6) + tr("r", va(P_1000)) + \
        bytes([T_MODE, 2]) + tr("r", va(P_1000))
    s["small-tlb-evict"] = config(tlb=(1, 2)) + \
        b"".join(op_map(T_MAP, va(p), data_page(k + 1), SZ_4K, R | W | X | A)
                 for k, p in enumerate([P_1000, P_2000, P_200000, P_40000000])) + \
        b"".join(tr(a, va(p)) for p in [P_1000, P_2000, P_200000, P_40000000, P_1000]
                 for a in "rwx") + \
        op_pte(T_PTE, va(P_2000), 0, 0, 0) + tr("r", va(P_2000)) + op_resize(T_RESIZE, 8, 8) + \
        tr("r", va(P_2000))
    s["root-out-of-ram"] = config() + op_satp(T_SATP, 1, 4, 6) + tr("r", va(P_1000)) + \
        op_satp(T_SATP, 1, 4, 7) + tr("w", va(P_1000)) + op_satp(T_SATP, 1, 4, 3) + \
        tr("x", va(P_1000))
    # A store the stale read-only megapage entry refuses walks again, meets
    # new tables (no flush) and fills a 4 KiB entry under the megapage's;
    # the load slot the megapage filled must not keep serving the page.
    s["slot-under-smaller-fill"] = config(ram=RAM_4M) + \
        op_map(T_MAP, va(P_200000), data_page(0), SZ_2M, R | A) + \
        op_map(T_MAP, va(P_1000), data_page(1), SZ_4K, R | W | A | D) + \
        tra("r", va(P_200000)) + \
        op_pte(T_PTE, va(P_200000), 1, 1, 1, idx=2) + \
        op_pte(T_PTE, va(P_200000), 0, R | W | A | D | 1, 0, idx=2) + \
        tra("w", va(P_200000))
    return s


# ---- fuzz_mmu_access opcodes ----------------------------------------------
A_MAP, A_PTE, A_SATP, A_PRIV, A_STRICT, A_FLUSH, A_RESIZE = 0, 2, 3, 4, 5, 6, 7
A_READ, A_WRITE, A_FETCH, A_RBULK, A_WBULK, A_LR, A_SC = 8, 11, 13, 14, 15, 16, 17
A_PHYS, A_XLATE, A_INVAL, A_LRSC, A_CROSS, A_MODE = 18, 19, 20, 21, 22, 23
SIZE = {1: 0, 2: 1, 4: 2, 8: 3, "bad3": 249, "bad16": 250}


def rd(v, size):
    return bytes([A_READ]) + v + bytes([SIZE[size]])


def wr(v, size, val):
    return bytes([A_WRITE]) + v + bytes([SIZE[size]]) + struct.pack("<Q", val)


def lr(v, size):
    return bytes([A_LR]) + v + bytes([SIZE[size]])


def sc(v, size, val):
    return bytes([A_SC]) + v + bytes([SIZE[size]]) + struct.pack("<Q", val)


def bulk(opc, v, length_sel, seed=7, length=None):
    """length_sel: 0 empty, 1 small (1..32), 3 ~one page, 4 three pages, 5 a page+,
    6 exact length (u16)."""
    out = bytes([opc]) + v + bytes([length_sel, seed])
    if length_sel % 8 >= 6:
        out += struct.pack("<H", length)
    return out


def access_seeds():
    s = {}
    rwx = R | W | X
    s["rw-fetch-4k"] = config() + op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, rwx) + \
        wr(va(P_1000), 8, 0x1122334455667788) + rd(va(P_1000), 8) + rd(va(P_1000, T_PLUS1), 2) + \
        bytes([A_FETCH]) + va(P_1000) + rd(va(P_1000), "bad3") + rd(va(P_2000), 4)
    s["page-crossing"] = config() + \
        op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, rwx) + \
        op_map(A_MAP, va(P_2000), data_page(3), SZ_4K, R | W) + \
        wr(va(P_1000, T_FFC), 8, 0xA1A2A3A4A5A6A7A8) + rd(va(P_1000, T_FFD), 8) + \
        bytes([A_CROSS]) + va(P_2000) + b"\x02" + \
        op_pte(A_PTE, va(P_2000), 0, R | 1, 7) + op_flush(A_FLUSH, "all") + \
        wr(va(P_1000, T_FFE), 4, 0xdeadbeef) + bytes([A_FETCH]) + va(P_1000, T_FFE)
    s["mmio-through-pte"] = config(ram=RAM_256K) + \
        op_map(A_MAP, va(P_1000), PA_MMIO, SZ_4K, R | W | A | D) + \
        wr(va(P_1000, word(2)), 4, 0xcafef00d) + rd(va(P_1000, word(2)), 4) + \
        rd(va(P_1000, word(2)), 8) + wr(va(P_1000, T_PLUS1), 2, 0x55) + \
        rd(va(P_1000, T_FFC), 8) + lr(va(P_1000), 8) + \
        bytes([A_RBULK]) + va(P_1000) + b"\x01\x00" + \
        op_satp(A_SATP, 0, 0, 0) + rd(va(P_MMIO, word(2)), 4) + rd(va(P_MMIO_HALF, T_800), 8)
    s["lr-sc"] = config() + op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        lr(va(P_1000), 8) + sc(va(P_1000), 8, 0x1234) + sc(va(P_1000), 8, 0x5678) + \
        lr(va(P_1000, word(1)), 4) + wr(va(P_1000, word(1)), 1, 9) + \
        sc(va(P_1000, word(1)), 4, 0x42) + lr(va(P_1000, T_PLUS1), 2) + \
        lr(va(P_1000), 4) + sc(va(P_1000, T_PLUS6), 2, 1) + sc(va(P_1000), 4, 2) + \
        bytes([A_LRSC]) + va(P_1000) + bytes([SIZE[8]]) + struct.pack("<Q", 0x99)
    s["bulk"] = config(ram=RAM_1M) + \
        op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        op_map(A_MAP, va(P_2000), data_page(5), SZ_4K, R | W) + \
        op_map(A_MAP, va(P_2000, T_NEXT), data_page(6), SZ_4K, R) + \
        bulk(A_WBULK, va(P_1000, T_800), 6, 3, 6000) + bulk(A_RBULK, va(P_1000, T_800), 6, 0, 6000) + \
        bulk(A_WBULK, va(P_1000, T_FFF), 4, 9) + bulk(A_RBULK, va(P_1000), 4, 9) + \
        bulk(A_RBULK, va(P_1000), 0) + bulk(A_WBULK, va(P_TOP, T_FFF), 1, 1)
    s["strict-align"] = config(strict=1) + \
        op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, R | W | X) + \
        wr(va(P_1000, T_PLUS1), 4, 7) + rd(va(P_1000, T_PLUS6), 2) + \
        bytes([A_FETCH]) + va(P_1000, T_FFE) + bytes([A_STRICT, 0]) + \
        wr(va(P_1000, T_PLUS1), 4, 7) + rd(va(P_1000, T_PLUS1), 4)
    s["stale-write"] = config(tlb=(2, 2)) + \
        op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + \
        wr(va(P_1000), 8, 1) + op_pte(A_PTE, va(P_1000), 0, R | W | A | D | 1, 0, idx=2) + \
        wr(va(P_1000), 8, 2) + rd(va(P_1000), 8) + op_flush(A_FLUSH, "page", va(P_1000)) + \
        wr(va(P_1000), 8, 3) + rd(va(P_1000), 8)
    s["dirty-after-read"] = config() + \
        op_map(A_MAP, va(P_1000), data_page(1), SZ_4K, R | W) + rd(va(P_1000), 4) + \
        wr(va(P_1000), 4, 5) + rd(va(P_1000), 4) + op_priv(A_PRIV, "ad", 1) + \
        op_map(A_MAP, va(P_2000), data_page(2), SZ_4K, R | W | A) + rd(va(P_2000), 4) + \
        wr(va(P_2000), 4, 6)
    s["superpage-bulk-reserve"] = config(ram=RAM_4M, tlb=(1, 1)) + \
        op_map(A_MAP, va(P_200000), data_page(0), SZ_2M, R | W) + \
        bulk(A_WBULK, va(P_200000, T_FFC), 4, 5) + lr(va(P_200000, T_800), 8) + \
        bytes([A_INVAL]) + va(P_200000, T_800) + bytes([SIZE[8]]) + \
        sc(va(P_200000, T_800), 8, 77) + \
        bytes([A_PHYS, 0, 3]) + struct.pack("<H", 0x10) + struct.pack("<Q", 0xfeed)
    return s


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    for target, seeds in (("fuzz_translate", translate_seeds()),
                          ("fuzz_mmu_access", access_seeds())):
        d = os.path.join(root, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in seeds.items():
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds in {d}")


if __name__ == "__main__":
    main()

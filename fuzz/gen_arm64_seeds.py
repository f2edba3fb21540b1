#!/usr/bin/env python3
"""Write the hand-made seed inputs of fuzz_translate_arm64.

Usage: python3 fuzz/gen_arm64_seeds.py [REPO_ROOT]
Writes corpus/fuzz_translate_arm64/seed-*.

Each seed is one meaningful scenario in the input format fuzz/arm64_world.c
decodes (8-byte config header, then opcode byte + fixed little-endian
arguments); the helpers below mirror that decoder: keep them in step with it.
"""
import os
import struct
import sys

# ---- config header (a64w_setup) ------------------------------------------
RAM_512K, RAM_1M, RAM_4M = 0, 1, 2
G4K, G16K, G64K = 0, 1, 2


def config(ram=RAM_1M, tg0=G4K, tg1=G4K, t0sz=25, t1sz=25, epd0=0, epd1=0, as16=0, a1=0,
           tbi0=0, tbi1=0, ha=0, hd=0, hpd0=0, hpd1=0, wxn=0, pan=0, ips=5, pa=6, el=1,
           s1_off=0, asid0=1, asid1=2, tlb=None):
    """tlb=None: the default 64/128 TLBs, else (itlb, dtlb) in 1..8;
    pa: index into (32 32 36 40 42 44 48 48); asidN: 0..7 -> (0 1 5 ff 100 1ff 1234 ffff)."""
    b0 = ram | (0x40 if tg0 == G64K else 0) | (0x80 if tg1 == G64K else 0)
    b1 = ((tlb[0] - 1) | (tlb[1] - 1) << 3) if tlb else 0xc0
    b2 = tg0 | tg1 << 2 | epd0 << 4 | epd1 << 5 | as16 << 6 | a1 << 7
    b5 = tbi0 | tbi1 << 1 | ha << 2 | hd << 3 | hpd0 << 4 | hpd1 << 5 | wxn << 6 | pan << 7
    b6 = ips | pa << 3 | el << 6 | s1_off << 7
    b7 = asid0 | asid1 << 4
    return bytes([b0, b1, b2, t0sz - 16, t1sz - 16, b5, b6, b7])


# ---- VA operands (w_va): pool index + tweak --------------------------------
P_ZERO, P_LOW_TOP, P_HIGH_BOTTOM, P_TOP, P_ABOVE_LOW, P_BELOW_HIGH = 0, 1, 2, 3, 4, 5
P_GRANULE, P_BLOCK, P_1G, P_HIGH_NEXT, P_MMIO, P_TABLES = 6, 7, 8, 9, 10, 11
T_NONE, T_PLUS1, T_PLUS7, T_G_MINUS8, T_NEXT, T_PREV = 0, 12, 13, 14, 15, 16
T_BIT55, T_BIT63, T_TAG5A, T_TAGA5, T_TOPINDEX, T_ABOVE = 21, 22, 23, 24, 25, 26


def va(pool, tweak=T_NONE):
    return bytes([pool, tweak])


# ---- ops (a64w_op) ---------------------------------------------------------
AF = 0x0800          # asel: AF set (bits 13:11 non-zero)
AP_EL0, AP_RO = 1 << 3, 2 << 3
NG, PXN, UXN, DBM, CONT = 1 << 5, 1 << 6, 1 << 7, 1 << 8, 1 << 9
PAGE, BLOCK = 0, 4   # ssel


def op_map(v, psel=8, size=PAGE, asel=AF, gsel=0):
    return bytes([0]) + v + bytes([psel, size, gsel]) + struct.pack('<H', asel)


def op_desc(v, level, tsel, asel, hsel):
    return bytes([2]) + v + bytes([level, tsel, asel, hsel])


def op_tcr(field, value=0):
    return bytes([4, field, value])


def op_ttbr(which, bsel=0, asel=0):
    return bytes([5, which, bsel, asel])


def op_state(field, value=0):
    return bytes([6, field, value])


READ, WRITE, EXEC = 0, 1, 2


def op_translate(v, acc=READ):
    return bytes([7 + acc]) + v


def op_twice(v, acc=READ):
    return bytes([10]) + v + bytes([acc])


def op_tag(v, tag, acc=READ):
    return bytes([11]) + v + bytes([tag, acc])


def op_tlbi(op, asel, v):
    return bytes([12, op, asel]) + v


def op_flush(kind, asel, v):
    return bytes([13, kind, asel]) + v


def op_machine(b):
    return bytes([14, b])


def op_el_flip(v, acc=READ):
    return bytes([15]) + v + bytes([acc])


SEEDS = {
    # 4KB both ranges: map a page in each, every access kind, miss then hit.
    'seed-4k-pages': config() + op_map(va(P_GRANULE)) + op_map(va(P_HIGH_BOTTOM), psel=16)
    + op_twice(va(P_GRANULE)) + op_translate(va(P_GRANULE), WRITE)
    + op_translate(va(P_GRANULE), EXEC) + op_twice(va(P_HIGH_BOTTOM))
    + op_translate(va(P_ABOVE_LOW)) + op_translate(va(P_BELOW_HIGH)),
    # 16KB: a 32MB block and a page; start level from T0SZ 36 (level 2).
    'seed-16k-block': config(tg0=G16K, tg1=G16K, t0sz=36, t1sz=28)
    + op_map(va(P_BLOCK), psel=0, size=BLOCK) + op_map(va(P_GRANULE), psel=24)
    + op_twice(va(P_BLOCK, T_PLUS7)) + op_twice(va(P_GRANULE, T_G_MINUS8), WRITE),
    # 64KB: 512MB block, pages, start level 1 (T0SZ 16).
    'seed-64k': config(ram=RAM_4M, tg0=G64K, tg1=G64K, t0sz=16, t1sz=22)
    + op_map(va(P_BLOCK), psel=0, size=BLOCK) + op_map(va(P_GRANULE), psel=40)
    + op_twice(va(P_GRANULE)) + op_twice(va(P_BLOCK, T_NEXT)) + op_translate(va(P_TOP)),
    # TBI: tagged aliases are one entry; TBI off makes them out of range.
    'seed-tbi': config(tbi0=1, tbi1=1) + op_map(va(P_GRANULE)) + op_map(va(P_TOP), psel=32)
    + op_tag(va(P_GRANULE), 0x5a) + op_tag(va(P_TOP), 0x00) + op_tcr(8) + op_tag(va(P_GRANULE), 0x77),
    # Access flag and dirty state with HA/HD and DBM.
    'seed-af-dirty': config(ha=1, hd=1) + op_map(va(P_GRANULE), asel=AP_RO | DBM)
    + op_map(va(P_GRANULE, T_NEXT), psel=16, asel=AP_RO | DBM | AF) + op_translate(va(P_GRANULE))
    + op_translate(va(P_GRANULE), WRITE) + op_twice(va(P_GRANULE, T_NEXT))
    + op_translate(va(P_GRANULE, T_NEXT), WRITE) + op_tcr(10) + op_translate(va(P_GRANULE, T_NEXT), WRITE),
    # ASIDs, nG and TLBIs: change the mapping, switch ASIDs, invalidate.
    'seed-asid-tlbi': config(as16=1, tlb=(2, 2)) + op_map(va(P_GRANULE), asel=AF | NG)
    + op_translate(va(P_GRANULE)) + op_map(va(P_GRANULE), psel=16, asel=AF | NG)
    + op_translate(va(P_GRANULE)) + op_ttbr(0, 0, 2) + op_translate(va(P_GRANULE))
    + op_ttbr(0, 0, 1) + op_translate(va(P_GRANULE)) + op_tlbi(2, 8, va(P_GRANULE))
    + op_translate(va(P_GRANULE)) + op_tlbi(1, 1, va(P_ZERO)) + op_tlbi(3, 0, va(P_GRANULE))
    + op_flush(3, 8, va(P_GRANULE)) + op_flush(4, 0, va(P_ZERO)) + op_tlbi(6, 0, va(P_ZERO)),
    # Permissions: EL0/EL1, PAN, WXN, UXN/PXN.
    'seed-permissions': config(pan=1, wxn=1) + op_map(va(P_GRANULE), asel=AF | AP_EL0)
    + op_map(va(P_GRANULE, T_NEXT), psel=16, asel=AF | AP_EL0 | AP_RO | UXN)
    + op_twice(va(P_GRANULE)) + op_translate(va(P_GRANULE), EXEC)
    + op_el_flip(va(P_GRANULE), EXEC) + op_translate(va(P_GRANULE, T_NEXT), EXEC)
    + op_state(1, 0) + op_translate(va(P_GRANULE)) + op_state(2) + op_translate(va(P_GRANULE), EXEC),
    # Stage 1 off: the flat map, Address size faults above PARange (36 bits).
    's1-off': b'',
    # Raw descriptors: block at level 0, 0b01 at level 3, table out of RAM / in MMIO / too wide.
    'seed-bad-descriptors': config(ips=0, t0sz=16) + op_map(va(P_GRANULE))
    + op_desc(va(P_GRANULE), 0, 3, 0x01, 0) + op_translate(va(P_GRANULE))
    + op_map(va(P_GRANULE)) + op_desc(va(P_GRANULE), 3, 3, 0x01, 0) + op_translate(va(P_GRANULE))
    + op_desc(va(P_GRANULE), 2, 1, 0, 5) + op_translate(va(P_GRANULE))
    + op_desc(va(P_GRANULE), 1, 1, 0, 6) + op_translate(va(P_GRANULE))
    + op_desc(va(P_GRANULE), 1, 1, 0, 7) + op_translate(va(P_GRANULE)),
    # Register fields one at a time, including refused states.
    'seed-register-fields': config() + op_map(va(P_GRANULE)) + op_twice(va(P_GRANULE))
    + op_tcr(0, 0x80 | 40) + op_tcr(2, 3) + op_tcr(3, 0) + op_tcr(4) + op_translate(va(P_GRANULE))
    + op_tcr(16) + op_tcr(14, 0) + op_translate(va(P_GRANULE)) + op_state(4, 2) + op_state(0, 7)
    + op_state(3) + op_translate(va(P_GRANULE)) + op_machine(1) + op_translate(va(P_ZERO))
    + op_machine(3) + op_translate(va(P_GRANULE)),
}
SEEDS['seed-s1-off'] = config(s1_off=1, pa=2, tbi0=1) + op_translate(va(P_GRANULE)) \
    + op_translate(va(P_MMIO)) + op_translate(va(P_ABOVE_LOW)) + op_tag(va(P_GRANULE), 0x5a) \
    + op_translate(va(P_TOP), EXEC) + op_state(3) + op_translate(va(P_GRANULE))
del SEEDS['s1-off']


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..')
    out = os.path.join(root, 'corpus', 'fuzz_translate_arm64')
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(SEEDS.items()):
        with open(os.path.join(out, name), 'wb') as f:
            f.write(data)
        print(f'{name}: {len(data)} bytes')


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
"""Write the hand-made seed inputs of fuzz_physmem and fuzz_lrsc.

Each seed is one scenario from the contract (core/include/vmmem/physmem.h)
or the Zalrsc rules, encoded with the same byte layout the targets decode
(see the decoders in fuzz/fuzz_physmem.c and fuzz/fuzz_lrsc.c; keep this
file in step with them). The targets check every op against the reference
models, so a seed needs no expected answers: it only has to reach the case.

usage: python3 fuzz/gen_seeds.py [REPO_ROOT]   (writes corpus/<t>/seed-*)
"""
import os
import struct
import sys


def u8(v):
    return struct.pack("<B", v & 0xFF)


def u16(v):
    return struct.pack("<H", v & 0xFFFF)


def u32(v):
    return struct.pack("<I", v & 0xFFFFFFFF)


def u64(v):
    return struct.pack("<Q", v & 0xFFFFFFFFFFFFFFFF)


# ---- fuzz_physmem -------------------------------------------------------
# ram_sizes[] index: 0=4096 1=4100 2=65536 3=65552 4=24 5=4095 6=1040 7=8
#                    10=8200 13=4104 14=16400 15=1MiB
RAM = {4096: 0, 4100: 1, 65536: 2, 65552: 3, 24: 4, 4095: 5, 1040: 6, 8: 7,
       8200: 10, 4104: 13, 16400: 14, 1 << 20: 15}
# first op_table[] slot of each op
P_READ_TYPED, P_WRITE_TYPED, P_READ, P_WRITE = 0, 6, 11, 15
P_READ_BUF, P_WRITE_BUF, P_DUMP, P_RESTORE = 19, 22, 25, 26
P_MAP, P_POLL, P_NULL = 27, 29, 30
WIDTH = {1: 0, 2: 1, 4: 2, 8: 3}                       # fin_size
ANY_SIZE = {1: 0, 2: 1, 4: 2, 8: 3, 0: 12, 3: 13, 16: 14, 255: 15}  # pick_any_size


class P:
    """pick_addr encodings (RAM size dependent ones take offsets)."""
    @staticmethod
    def near0(off):            # sel 0: off % 64
        return u8(0) + u16(off)

    @staticmethod
    def end(delta):            # sel 1: size - 32 + arg % 64 = size + delta (delta in -32..31)
        return u8(1) + u16(delta + 32)

    @staticmethod
    def shard(k, d):           # sel 2: k*(size/16) + (arg & 15) - 8   (d in -8..7)
        return u8(2) + u16((k << 4) | (d + 8))

    @staticmethod
    def region(idx, off, from_end=False):  # sel 3: base - 16 + off / base+size-16+off
        return u8(3) + u16((idx << 8) | (0x8000 if from_end else 0) | (off & 0xFF))

    @staticmethod
    def top(k):                # sel 4: UINT64_MAX - k
        return u8(4) + u16(k)

    @staticmethod
    def any(a):                # sel 5: a full u64
        return u8(5) + u16(0) + u64(a)

    @staticmethod
    def ram(a):                # sel 8: a % size
        return u8(8) + u16(a) + u16(a >> 16)

    @staticmethod
    def uart(off):             # sel 7: 0x10000000 + arg % 0x1100 - 0x80
        return u8(7) + u16(off + 0x80)


def p_read(w, addr):
    return u8(P_READ_TYPED) + u8(WIDTH[w]) + addr


def p_write(w, addr, val):
    return u8(P_WRITE_TYPED) + u8(WIDTH[w]) + addr + u64(val)


def p_read_any(size, addr):
    return u8(P_READ) + u8(ANY_SIZE[size]) + addr


def p_write_any(size, addr, val):
    return u8(P_WRITE) + u8(ANY_SIZE[size]) + addr + u64(val)


# pick_len: (sel, arg)
L_ZERO, L_SMALL, L_TO_END, L_HUGE, L_WRAP, L_SIZE, L_SHARD = (
    (0, 0), (1, None), (3, None), (4, 0), (5, 0), (6, 0), (7, None))


def p_len(kind, arg=0):
    sel, fixed = kind
    return u8(sel) + u16(fixed if fixed is not None else arg)


def p_read_buf(addr, length):
    return u8(P_READ_BUF) + addr + length


def p_write_buf(addr, length, seed):
    return u8(P_WRITE_BUF) + addr + length + u8(seed)


def p_dump(sel=4):             # 4: right length; 0: +1, 1: -1, 2: 0, 3: SIZE_MAX
    return u8(P_DUMP) + u8(sel)


def p_restore(sel, seed):
    return u8(P_RESTORE) + u8(sel) + u8(seed)


def p_map(bsel, ssel, flags, arg):
    """bsel: 0 after RAM, 1 hole+arg*4K, 2 in RAM, 3 overlap other, 4 adjacent,
    5 near 2^64, 6 0x10000000+arg*8, 7 arg<<16|arg.  ssel: 0 zero, 1 1, 2 8,
    3 64, 4 256, 5 4096, 6 1+arg%0x3000, 7 ~2^64, 8 arg<<12, 9 16+arg%512.
    flags: 1 fail window, 2 poll, 4 no destroy, 8 DMA, 0x30 + (x<<6) NULL ops."""
    return u8(P_MAP) + u8(bsel) + u8(ssel) + u8(flags) + u32(arg)


def p_poll():
    return u8(P_POLL)


def physmem_seeds():
    s = {}
    hdr = lambda size, dev=False: u8(RAM[size]) + u8(1 if dev else 0)
    s["le-widths"] = hdr(4096) + b"".join([
        p_write(8, P.ram(0x100), 0x0807060504030201),
        p_read(1, P.ram(0x100)), p_read(1, P.ram(0x107)),
        p_read(2, P.ram(0x101)), p_read(4, P.ram(0x102)), p_read(8, P.ram(0x100)),
        p_write(2, P.ram(0x1FF), 0xBBAA), p_read(4, P.ram(0x1FE)),
        p_write_any(4, P.ram(0x200), 0x1122334455667788),   # truncated to 4 bytes
        p_read_any(8, P.ram(0x200)),
        p_read_any(3, P.ram(0x10)), p_write_any(0, P.ram(0x10), 1),
        p_write_any(16, P.ram(0x10), 1), p_read_any(255, P.ram(0)),
    ])
    s["end-of-ram"] = hdr(4100) + b"".join([
        p_write(4, P.end(-4), 0xDEADBEEF),   # last 4 bytes (4096..4099)
        p_read(4, P.end(-4)), p_read(8, P.end(-4)), p_write(8, P.end(-4), 1),
        p_read(1, P.end(-1)), p_read(1, P.end(0)), p_write(2, P.end(-1), 7),
        p_read(8, P.top(7)), p_write(8, P.top(3), 5), p_read(1, P.top(0)),
        p_read(4, P.any(0xFFFFFFFFFFFFFFFC)), p_read(8, P.any(4100 + (1 << 32))),
        p_read(1, P.any(1 << 63)),
    ])
    s["bulk-shards"] = hdr(65552) + b"".join([
        p_write_buf(P.shard(1, -8), p_len(L_SHARD, 0), 0x11),
        p_read_buf(P.shard(1, -8), p_len(L_SHARD, 0)),
        p_write_buf(P.shard(15, 0), p_len(L_TO_END, 4), 0x22),   # exactly to the end
        p_write_buf(P.shard(15, 0), p_len(L_TO_END, 5), 0x33),   # one past: refused
        p_read_buf(P.end(-1), p_len(L_SMALL, 2)),                # straddles the end
        p_read_buf(P.shard(16, 7), p_len(L_ZERO)),               # len 0 past the end
        p_read_buf(P.shard(16, 0), p_len(L_ZERO)),               # len 0 at size
        p_write_buf(P.ram(0x40), p_len(L_HUGE), 0x44),
        p_read_buf(P.ram(0x40), p_len(L_WRAP)),
        p_read_buf(P.near0(0), p_len(L_SIZE)),
        p_dump(),
    ])
    s["dump-restore"] = hdr(4096) + b"".join([
        p_write(8, P.ram(0x800), 0x0123456789ABCDEF),
        p_dump(4), p_dump(0), p_dump(1), p_dump(2), p_dump(3),
        p_restore(0, 0x55), p_restore(1, 0x55), p_restore(3, 0x55),
        p_read(8, P.ram(0x800)),
        p_restore(4, 0x66), p_read(8, P.ram(0x800)), p_dump(4),
    ])
    s["uart"] = hdr(1 << 20) + b"".join([
        p_map(6, 5, 2, 0),                     # seed UART: 0x10000000, 4 KiB, poll
        p_write(1, P.uart(0), 0x41), p_read(1, P.uart(0)),
        p_write(4, P.uart(8), 0xCAFEF00D), p_read(4, P.uart(8)), p_read(8, P.uart(8)),
        p_read(4, P.uart(1)),                  # misaligned in a device
        p_read(8, P.uart(0xFFC)),              # straddles the region end
        p_read(2, P.uart(0x1000)),             # past it
        p_poll(),
        p_write_buf(P.uart(0), p_len(L_SMALL, 4), 1),   # bulk: RAM only
    ])
    s["mmio-map"] = hdr(4096, True) + b"".join([
        p_map(2, 3, 0, 100),                   # overlaps RAM
        p_map(3, 3, 0, 0x2000),                # overlaps the first region
        p_map(4, 2, 2, 0),                     # adjacent to it: fine
        p_map(1, 0, 0, 3),                     # zero size
        p_map(5, 5, 0, 2),                     # ends exactly at 2^64
        p_map(5, 5, 0, 3),                     # ... and 8 bytes past it: overflow
        p_map(1, 7, 0, 0),                     # size ~2^64
        p_map(1, 4, 0x30, 5),                  # ops = NULL
        p_map(1, 4, 0x70, 6),                  # read = NULL
        p_read(8, P.top(7)), p_read(4, P.top(3)),
        p_write(4, P.end(-2), 9),              # RAM end -> adjacent device
        p_read(8, P.region(0, 16)), p_read(8, P.region(0, 8, True)),
        p_poll(),
    ])
    s["device-errors"] = hdr(4096) + b"".join([
        p_map(1, 4, 1 | 2, 1),                 # 8192: 256 bytes, error window at 0xf0
        p_read(4, P.any(8192 + 0xF0)), p_write(4, P.any(8192 + 0xF4), 1),
        p_read(4, P.any(8192 + 0xE0)), p_write(8, P.any(8192 + 0x8), 0x1122334455667788),
        p_read(8, P.any(8192 + 0x8)), p_read_any(2, P.any(8192 + 0x9)),
        p_read(2, P.region(0, 16 + 0x20)),
    ])
    s["dma"] = hdr(4100) + b"".join([
        p_map(1, 3, 2 | 8, 0),                 # 4104: 64-byte DMA device
        p_write(8, P.ram(0x123), 0x8877665544332211),
        p_write(8, P.any(4104 + 0x28), 0x123),  # DMA_ADDR
        p_read(8, P.any(4104 + 0x30)),          # DMA_LOAD: RAM at 0x123 through the device
        p_write(8, P.any(4104 + 0x38), (0xCAFEBABE << 32) | 0xFFE),  # DMA_STORE at 0xffe
        p_read(4, P.ram(0xFFE)), p_read(8, P.any(4104 + 0x30)),
    ])
    s["null-args"] = hdr(24) + b"".join([
        u8(P_NULL) + u8(0) + P.near0(0) + u8(2),
        u8(P_NULL) + u8(1) + P.end(0),
        u8(P_NULL) + u8(2) + P.end(1),
        u8(P_NULL) + u8(3) + P.near0(1) + u8(3),
        u8(P_NULL) + u8(7) + P.near0(1) + u8(3),
        u8(P_NULL) + u8(0) + P.top(0) + u8(3),
    ])
    return s


# ---- fuzz_lrsc ----------------------------------------------------------
L_LR, L_RESERVE, L_SC, L_LRSC, L_WRITE_TYPED, L_WRITE, L_WRITE_BUF = range(7)
L_SAME, L_RESTORE, L_INVAL, L_CMPXCHG, L_READ, L_CLEAR = range(7, 13)
LSIZE = {1: 0, 2: 1, 4: 2, 8: 3, 0: 8, 3: 9, 5: 10, 16: 11}   # pick_size


class A:
    """fuzz_lrsc pick_addr encodings."""
    @staticmethod
    def win(off):              # window + off (off < 40)
        return u8(0) + u8(off)

    @staticmethod
    def end(d):                # size - 8 + d (d < 16)
        return u8(5) + u8(d)

    @staticmethod
    def top(k):                # UINT64_MAX - k  (k odd)
        return u8(6) + u8(k | 1)

    @staticmethod
    def dev(off):              # device base + off, or near the end when none
        return u8(7) + u8(off)


def lr(h, size, addr):
    return u8(L_LR) + u8(h) + u8(LSIZE[size]) + addr


def reserve(h, size, addr):
    return u8(L_RESERVE) + u8(h) + u8(LSIZE[size]) + addr


def sc(h, size, addr, val, null_stored=False):
    return u8(L_SC) + u8(h | (0xF0 if null_stored else 0)) + u8(LSIZE[size]) + addr + u64(val)


def lrsc(h, size, addr, val, slot=None):
    delta = 0 if slot is None else 0x80 | slot
    return u8(L_LRSC) + u8(h) + u8(WIDTH[size]) + addr + u8(delta) + u64(val)


def wr(size, addr, val):
    return u8(L_WRITE_TYPED) + u8(WIDTH[size]) + addr + u64(val)


def wr_any(size, addr, val):
    return u8(L_WRITE) + u8(LSIZE[size]) + addr + u64(val)


def wbuf(addr, length, seed):
    return u8(L_WRITE_BUF) + addr + u8(length) + u8(seed)


def same(size, addr):
    return u8(L_SAME) + u8(WIDTH[size]) + addr


def restore(sel, addr):        # sel%4==0: wrong length; bit 3: flip the byte at addr
    return u8(L_RESTORE) + u8(sel) + addr


def inval(addr, size):
    return u8(L_INVAL) + addr + u8(size)


def cmpxchg(sel, addr, expected, desired):  # sel bit0: align to 8, bit1: expected = current
    return u8(L_CMPXCHG) + u8(sel) + addr + u64(expected) + u64(desired)


def rd(size, addr):
    return u8(L_READ) + u8(WIDTH[size]) + addr


def clear(h):
    return u8(L_CLEAR) + u8(h)


def lrsc_seeds():
    s = {}
    # header: harts (2+n%3, bit 7 = device), RAM (0:16 1:64 2:4096 3:4100), owners, window
    hdr = lambda harts=2, ram=2, owners=0, win=0, dev=False: (
        u8((harts - 2) | (0x80 if dev else 0)) + u8(ram) + u8(owners) + u8(win))
    s["lr-sc-basic"] = hdr() + lr(0, 8, A.win(8)) + sc(0, 8, A.win(8), 0x22) + rd(8, A.win(8))
    s["seed-example"] = hdr() + wr(1, A.win(0), 0x11) + lr(0, 1, A.win(0)) + sc(0, 1, A.win(0), 0x22)
    s["sc-without-lr"] = hdr() + sc(0, 4, A.win(4), 1) + sc(1, 8, A.win(0), 2)
    s["sc-after-sc"] = hdr() + lr(0, 4, A.win(0)) + sc(0, 4, A.win(0), 1) + sc(0, 4, A.win(0), 2)
    s["failed-sc-clears"] = hdr() + lr(0, 4, A.win(0)) + sc(0, 4, A.win(8), 1) + sc(0, 4, A.win(0), 2)
    s["other-byte-write"] = hdr(3) + lr(0, 4, A.win(0)) + wr(1, A.win(7), 9) + sc(0, 4, A.win(0), 1)
    s["same-value-write"] = hdr() + lr(1, 8, A.win(16)) + same(2, A.win(20)) + sc(1, 8, A.win(16), 3)
    s["bulk-write-breaks"] = hdr() + lr(0, 8, A.win(8)) + wbuf(A.win(3), 6, 0x40) + sc(0, 8, A.win(8), 1)
    s["bulk-same-bytes"] = hdr() + lr(0, 8, A.win(8)) + wbuf(A.win(6), 4, 0x80) + sc(0, 8, A.win(8), 1)
    s["bulk-write-edge"] = hdr() + lr(0, 8, A.win(8)) + wbuf(A.win(0), 8, 0x40) + sc(0, 8, A.win(8), 1)
    s["restore-breaks"] = hdr() + lr(0, 8, A.win(0)) + restore(1, A.win(0)) + sc(0, 8, A.win(0), 1) + \
        lr(0, 8, A.win(0)) + restore(0, A.win(0)) + sc(0, 8, A.win(0), 1)
    s["other-hart-sc"] = hdr(4) + lr(0, 8, A.win(8)) + lr(1, 4, A.win(12)) + \
        sc(1, 4, A.win(12), 5) + sc(0, 8, A.win(8), 6)
    s["unrelated-granule"] = hdr() + lr(0, 4, A.win(8)) + wr(8, A.win(16), 1) + wr(8, A.win(0), 2) + \
        sc(0, 4, A.win(12), 3)
    s["invalidate"] = hdr(3) + lr(0, 8, A.win(0)) + lr(1, 8, A.win(0)) + lr(2, 8, A.win(8)) + \
        inval(A.win(7), 1) + sc(0, 8, A.win(0), 1) + sc(2, 8, A.win(8), 2) + \
        lr(0, 1, A.win(16)) + inval(A.win(12), 0) + sc(0, 1, A.win(16), 3)
    s["address-zero"] = hdr(2, 0, 2, 0) + lr(0, 8, A.win(0)) + sc(0, 8, A.win(0), 7) + \
        lr(1, 1, A.win(0)) + sc(0, 1, A.win(0), 8) + sc(1, 1, A.win(0), 9)
    s["owner-ids"] = hdr(4, 1, 3, 0) + lr(0, 8, A.win(0)) + lr(1, 8, A.win(8)) + \
        sc(1, 8, A.win(8), 1) + sc(0, 8, A.win(0), 2) + lr(2, 4, A.win(0)) + sc(3, 4, A.win(0), 3)
    s["misaligned"] = hdr() + lr(0, 4, A.win(2)) + sc(0, 4, A.win(2), 1) + lr(0, 2, A.win(2)) + \
        sc(0, 2, A.win(3), 1) + reserve(0, 2, A.win(1)) + sc(0, 1, A.win(1), 2) + \
        reserve(0, 4, A.win(6)) + sc(0, 1, A.win(6), 3)
    s["bad-sizes"] = hdr() + lr(0, 4, A.win(0)) + sc(0, 3, A.win(0), 1) + sc(0, 16, A.win(0), 1) + \
        sc(0, 4, A.win(0), 1, True) + sc(0, 4, A.win(0), 2) + lr(1, 0, A.win(0)) + lr(1, 5, A.win(0)) + \
        sc(1, 1, A.win(0), 1) + reserve(1, 3, A.win(0)) + sc(1, 1, A.win(0), 1)
    s["end-of-ram"] = hdr(2, 3, 1, 1) + lr(0, 4, A.end(4)) + sc(0, 4, A.end(4), 1) + \
        lr(0, 8, A.end(8)) + sc(0, 8, A.end(8), 1) + reserve(1, 8, A.end(0)) + sc(1, 8, A.end(0), 1) + \
        lr(0, 8, A.top(7)) + sc(0, 8, A.top(7), 1)
    s["mmio-lr-sc"] = hdr(2, 1, 0, 1, dev=True) + lr(0, 4, A.dev(0)) + sc(0, 4, A.dev(0), 1) + \
        lr(1, 8, A.win(0)) + wr(8, A.dev(8), 5) + sc(1, 8, A.win(0), 6)
    s["cmpxchg"] = hdr() + lr(0, 8, A.win(8)) + cmpxchg(3, A.win(8), 0, 1) + sc(0, 8, A.win(8), 2) + \
        lr(1, 8, A.win(16)) + cmpxchg(1, A.win(16), 0x1234, 1) + sc(1, 8, A.win(16), 3) + \
        cmpxchg(0, A.win(3), 0, 0)
    s["clear"] = hdr() + lr(0, 8, A.win(0)) + clear(0) + sc(0, 8, A.win(0), 1)
    s["lrsc-loop"] = hdr(4) + b"".join(lrsc(h % 4, 8, A.win(8), h) for h in range(8)) + \
        lrsc(0, 4, A.win(8), 1, 1) + lrsc(1, 1, A.win(8), 1, 0x7)
    s["mmio-write-keeps"] = hdr(2, 0, 0, 0, dev=True) + lr(0, 8, A.win(8)) + \
        wr(4, A.dev(0), 1) + wr_any(3, A.win(8), 1) + sc(0, 8, A.win(8), 2)
    return s


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    for target, seeds in (("fuzz_physmem", physmem_seeds()), ("fuzz_lrsc", lrsc_seeds())):
        d = os.path.join(root, "corpus", target)
        os.makedirs(d, exist_ok=True)
        for name, data in sorted(seeds.items()):
            with open(os.path.join(d, "seed-" + name), "wb") as f:
                f.write(data)
        print(f"{target}: {len(seeds)} seeds in {d}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""qemu_answer_arm64.py - answer the `check` lines of Arm64 .vmc cases with QEMU.

Usage: qemu_answer_arm64.py [--qemu PATH] [--out DIR] [-q] FILE.vmc...

Each input file (`mode arm64`) is replayed in a QEMU 7.2 Arm `virt` machine
(qemu-system-aarch64 -machine virt,virtualization=on -cpu cortex-a76, RAM at
0x40000000, no firmware), and every `check ACCESS VA` line is answered by the
emulated core itself, at the case's EL with its PSTATE.PAN, SCTLR_EL1 (M,
WXN), TCR_EL1 and TTBR0/1_EL1. The answered file (DIR/<same name>) has each
`check` replaced by the `expect ACCESS VA -> ANSWER` line vmmem-conform
replays, and ends with one `expect r64 PA == V` line per descriptor word the
case wrote, with its value in QEMU after all the accesses (so the Access flag
and dirty-state updates are compared too).

How it works
------------
* The probe (probe_arm64.S, committed assembled as probe_arm64.words) sits in
  the 8 KiB of QEMU RAM just past the case's RAM (PROBE_PA = base + mem; QEMU
  gets mem + 4 MiB of RAM). Its EL2 half runs at its PA (EL2 has stage 1
  off): it loads the case's EL1 registers, TLBI VMALLE1, and ERETs to its EL1
  half at the VA the case maps to PROBE_PA (vmmem-gen writes it as
  `# qemu-probe-va VA`; with stage 1 off the VA is PROBE_PA itself).
* Per check the answerer sets x0..x9 and pc (to the EL2 entry) with one `G`
  packet, continues to a breakpoint on the EL2 `done` label (every run ends
  with HVC back to EL2), and reads the registers back (`g`).
* Loads and stores: AT S1E1RP / S1E1WP (EL1, with PSTATE.PAN: FEAT_PAN2) or
  AT S1E0R / S1E0W (EL0) gives PAR_EL1 (the PA, or the fault status and
  level), then the real access (LDR/STR at EL1, LDTR/STTR - checked as EL0 -
  for EL0) makes the hardware Access flag and dirty-state updates and gives
  ESR_EL1/FAR_EL1 when it faults. The answer is the real access's; AT must
  agree with it (the same FSC, or the PA of a successful access), else the
  check is left unanswered as a QEMU inconsistency.
* Fetches: BR to the VA at EL1, ERET to the VA at EL0. RAM words the case
  does not write hold markers: the word at RAM offset o is BRK #(o >> 12)
  (0xd4200000 | page << 5), so a successful fetch traps at once with the page
  number in ESR_EL1.ISS (EC 0x3c) and ELR_EL1 = the VA; a fault is an
  Instruction Abort (EC 0x20/0x21) with the IFSC. Read as a descriptor, a
  marker has bit 0 clear (invalid), like the zero vmmem has there, so a walk
  straying into unwritten RAM faults the same way on both.
* A store writes the marker already at the PA AT found (the probe computes
  it), so data words never change; if the PA holds a word the case wrote,
  the answerer writes that word back after the store (vmmem's unsized
  `expect write` moves no data).
* Faults: DFSC/IFSC 0b0000LL address-size-fault, 0b0001LL translation-fault,
  0b0010LL access-flag-fault, 0b0011LL permission-fault (each `level L`),
  0b0101LL and 0b010000 access-fault (`fsc`: external abort on the walk at
  level L, or of the access itself). The fault address must be the VA
  (bits 55:0 when a tag may be ignored).
* One QEMU serves many cases: after each case the RAM words that differ from
  the marker image are written back (a RAM dump says which).

Limits (refused with a message): base other than 0x40000000, `parange`
other than 40 (the Cortex-A76's PA size), `mmio` or `expect` lines, check
VAs not 4-byte aligned, a check with stage 1 on and no `# qemu-probe-va`.

Rejected: QEMU's debug translation (gdbstub memory view): no permissions, no
descriptor updates. Running the whole probe at EL1: the EL1 registers
(SCTLR_EL1.M above all) cannot be loaded by code they translate unless the
case maps it at VA = PA, and QEMU 7.2's gdbstub cannot write system
registers. `-cpu max`: its 52-bit PAs (FEAT_LPA), FEAT_TTST, E0PD, BTI and
PAuth are outside vmmem's Arm scope, while the Cortex-A76 has exactly
HAFDBS, PAN2 and HPDS with a PA size vmmem implements (40 bits).
"""

import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qemu_answer import (CaseError, Gdb, Qmp, QemuError, parse_num, parse_size,  # noqa: E402
                         run_answerer)

RAM_BASE = 0x40000000          # QEMU virt (Arm)
QEMU_EXTRA_RAM = 4 << 20       # QEMU RAM past the case's: the probe, then unused
CPU = 'cortex-a76'
PA_BITS = 40                   # the Cortex-A76's ID_AA64MMFR0_EL1.PARange (0b0010)
MARK_BRK = 0xd4200000          # BRK #imm16: imm16 in bits 20:5
KINDS = {'read': 0, 'write': 1, 'exec': 2}
U64 = (1 << 64) - 1
LOW56 = (1 << 56) - 1
# SCTLR_EL1 bits the probe always sets: the RES1 bits of Armv8.0 (11, 20, 22,
# 28, 29; EIS/EOS/TSCXT/nTLSMD/LSMAOE in later versions) and SPAN (23: taking
# an exception to EL1 leaves PSTATE.PAN alone). The case gives M and WXN.
SCTLR_FIXED = 1 << 11 | 1 << 20 | 1 << 22 | 1 << 23 | 1 << 28 | 1 << 29
SCTLR_M, SCTLR_WXN = 1, 1 << 19
FAULT_WORDS = {0: 'address-size-fault', 1: 'translation-fault', 2: 'access-flag-fault',
               3: 'permission-fault'}


def load_probe():
    image, labels = bytearray(0x2000), {}
    with open(os.path.join(HERE, 'probe_arm64.words')) as f:
        for line in f:
            tok = line.split('#', 1)[0].split()
            if not tok:
                continue
            if tok[0] == 'label':
                labels[tok[1]] = int(tok[2], 16)
            else:
                off = int(tok[0], 16)
                image[off:off + 4] = struct.pack('<I', int(tok[1], 16))
    return bytes(image), labels


def marker(offset):
    return MARK_BRK | ((offset >> 12) & 0xffff) << 5


def marker_image(size):
    page = b''.join(struct.pack('<I', marker(p << 12)) * 1024 for p in range(size >> 12))
    return page


def fsc_answer(fsc):
    """The .vmc answer for a DFSC/IFSC, or None if the format has no word for it."""
    if fsc >> 2 in FAULT_WORDS:
        return '%s level %d' % (FAULT_WORDS[fsc >> 2], fsc & 3)
    if fsc == 0x10 or fsc >> 2 == 5:
        return 'access-fault fsc 0x%02x' % fsc
    return None


class Machine:
    """One QEMU Arm virt machine with the probe past the case's RAM and markers in it."""

    def __init__(self, qemu, ram_size, workdir):
        self.ram_size = ram_size
        self.probe_pa = RAM_BASE + ram_size
        self.dir = tempfile.mkdtemp(prefix='qa64-', dir=workdir)
        self.dump_path = os.path.join(self.dir, 'ram.bin')
        gdb_path = os.path.join(self.dir, 'gdb.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.log_path = os.path.join(self.dir, 'qemu.log')
        self.log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(
                [qemu, '-machine', 'virt,virtualization=on', '-cpu', CPU, '-smp', '1',
                 '-m', '%dK' % ((ram_size + QEMU_EXTRA_RAM) >> 10), '-nodefaults', '-display', 'none',
                 '-S', '-gdb', 'unix:%s,server=on,wait=off' % gdb_path,
                 '-qmp', 'unix:%s,server=on,wait=off' % qmp_path],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        except OSError as e:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise QemuError('cannot run %s: %s' % (qemu, e)) from None
        try:
            self._start(gdb_path, qmp_path)
        except BaseException:
            self.close()
            raise

    def _start(self, gdb_path, qmp_path):
        deadline = time.monotonic() + 10
        while not (os.path.exists(gdb_path) and os.path.exists(qmp_path)):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                with open(self.log_path, 'rb') as f:
                    err = f.read().decode(errors='replace')
                raise QemuError('QEMU did not start: ' + err.strip())
            time.sleep(0.01)
        self.gdb = Gdb(gdb_path)
        self.qmp = Qmp(qmp_path)
        self.gdb.cmd('?')
        probe, self.labels = load_probe()
        self.gdb.write_mem(self.probe_pa, probe)
        if bytes.fromhex(self.gdb.cmd('m%x,%x' % (self.probe_pa, 64))) != probe[:64]:
            raise QemuError('the probe did not land in RAM')
        if self.gdb.cmd('Z0,%x,4' % (self.probe_pa + self.labels['done'])) != 'OK':
            raise QemuError('gdbstub refused the breakpoint')
        self.cpsr = self.gdb.cmd('g')[33 * 16:33 * 16 + 8]    # EL2h from reset; kept as it is
        self.markers = marker_image(self.ram_size)
        self.gdb.write_mem(RAM_BASE, self.markers)
        self.shadow = bytearray(self.markers)

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def dump(self):
        self.qmp.execute('pmemsave', val=RAM_BASE, size=self.ram_size, filename=self.dump_path)
        with open(self.dump_path, 'rb') as f:
            data = f.read()
        if len(data) != self.ram_size:
            raise QemuError('pmemsave returned %d bytes' % len(data))
        return data

    def write_word(self, pa, size, value):
        off = pa - RAM_BASE
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, 'little')
        self.gdb.write_mem(pa, data)
        self.shadow[off:off + size] = data

    def restore(self, now):
        m = self.markers
        page = 4096
        for p in range(0, self.ram_size, page):
            if now[p:p + page] == m[p:p + page]:
                continue
            o = p
            while o < p + page:
                if now[o:o + 8] == m[o:o + 8]:
                    o += 8
                    continue
                start = o
                while o < p + page and now[o:o + 8] != m[o:o + 8]:
                    o += 8
                self.gdb.write_mem(RAM_BASE + start, m[start:o])
        self.shadow = bytearray(m)

    def run(self, inputs):
        """x0..x9 = inputs; returns x0..x30 after the run, or None (hang / lost)."""
        regs = list(inputs) + [0] * (31 - len(inputs)) + [0, self.probe_pa + self.labels['el2_entry']]
        payload = b''.join(struct.pack('<Q', r & U64) for r in regs).hex() + self.cpsr
        if self.gdb.cmd('G' + payload) != 'OK':
            raise QemuError('gdbstub refused the register write')
        try:
            self.gdb.cmd('c')
        except TimeoutError:
            self.gdb.interrupt()
            return None
        h = self.gdb.cmd('g')
        r = [struct.unpack('<Q', bytes.fromhex(h[16 * i:16 * i + 16]))[0] for i in range(33)]
        if r[32] != self.probe_pa + self.labels['done']:
            return None
        return r


class Case:
    def __init__(self):
        self.base, self.mem = 0, 16 << 20
        self.arm = False
        self.ttbr0 = self.ttbr1 = self.tcr = self.sctlr = 0
        self.el = self.pan = 0
        self.pa_bits = 0
        self.probe_va = None


def answer_file(path, out_path, session, stats):
    with open(path) as f:
        lines = f.read().splitlines()
    case = Case()
    out, written = [], {}
    machine = None
    unanswered = 0
    for lineno, raw in enumerate(lines, 1):
        where = '%s:%d' % (path, lineno)
        if raw.startswith('# qemu-probe-va '):
            case.probe_va = parse_num(raw.split()[2])
        tok = raw.split('#', 1)[0].split()
        if not tok:
            out.append(raw)
            continue
        kw = tok[0]
        if kw in ('base', 'mem'):
            if machine is not None:
                raise CaseError('%s: %s after other lines' % (where, kw))
            if kw == 'base':
                case.base = parse_num(tok[1])
            else:
                case.mem = parse_size(tok[1])
            out.append(raw)
            continue
        if machine is None:
            if case.base != RAM_BASE:
                raise CaseError('%s: QEMU virt (Arm) has RAM at 0x%x, the case at 0x%x' %
                                (where, RAM_BASE, case.base))
            if case.mem % 4096 or case.mem > 256 << 20:
                raise CaseError('%s: mem must be a 4K multiple up to 256M' % where)
            machine = session.machine(case.mem)
        rejected = len(tok) == 4 and tok[2] == '->' and tok[3] == 'rejected'
        if kw == 'mode':
            case.arm = len(tok) == 2 and tok[1] == 'arm64'
            if not case.arm:
                raise CaseError('%s: only `mode arm64` cases can be answered here' % where)
        elif kw in ('ttbr0', 'ttbr1', 'tcr', 'sctlr', 'el', 'pan', 'parange'):
            if not rejected:
                setattr(case, {'parange': 'pa_bits'}.get(kw, kw), parse_num(tok[1]))
                if kw == 'parange' and case.pa_bits != PA_BITS:
                    raise CaseError('%s: the QEMU %s has %d-bit PAs: the case must say `parange %d`'
                                    % (where, CPU, PA_BITS, PA_BITS))
        elif kw in ('strict', 'flush', 'tlbi'):
            pass            # checks are aligned; the probe invalidates the TLB before each
        elif kw in ('w8', 'w16', 'w32', 'w64'):
            size = int(kw[1:]) // 8
            pa, v = parse_num(tok[1]), parse_num(tok[2])
            if not (RAM_BASE <= pa and pa + size <= RAM_BASE + case.mem):
                raise CaseError('%s: write outside RAM' % where)
            machine.write_word(pa, size, v)
            written[pa & ~7] = True
            if (pa + size - 1) & ~7 != pa & ~7:
                written[(pa + size - 1) & ~7] = True
        elif kw == 'check':
            if len(tok) != 3 or tok[1] not in KINDS:
                raise CaseError('%s: expected: check read|write|exec VA' % where)
            if not case.arm:
                raise CaseError('%s: check before `mode arm64`' % where)
            if case.pa_bits != PA_BITS:
                raise CaseError('%s: the case must say `parange %d` (the QEMU %s)' % (where, PA_BITS, CPU))
            va = parse_num(tok[2])
            if va % 4:
                raise CaseError('%s: check VAs must be 4-byte aligned' % where)
            answer, note = ask(machine, case, tok[1], va, where)
            stats['checks'] += 1
            if answer is None:
                unanswered += 1
                stats['unanswered'] += 1
                out.append('# UNANSWERED (%s): %s' % (note, raw.strip()))
                print('%s: unanswered: %s' % (where, note), file=sys.stderr)
            else:
                out.append('expect %s 0x%x -> %s    # qemu: %s' % (tok[1], va, answer, note))
        elif kw in ('mmio', 'expect'):
            raise CaseError('%s: `%s` lines cannot be answered by QEMU' % (where, kw))
        else:
            raise CaseError('%s: unknown keyword %s' % (where, kw))
        if kw != 'check':
            out.append(raw)
    if machine is None:
        raise CaseError('%s: empty case' % path)
    final = machine.dump()
    out.append('# The descriptor words the case wrote, as QEMU left them after the accesses (AF, dirty):')
    for pa in sorted(written):
        off = pa - RAM_BASE
        if off + 8 <= case.mem:
            out.append('expect r64 0x%x == 0x%x' % (pa, int.from_bytes(final[off:off + 8], 'little')))
    machine.restore(final)
    with open(out_path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return unanswered


def same_address(a, b):
    """Fault/return addresses: equal, or equal in bits 55:0 (a tag TBI may drop)."""
    return a == b or (a & LOW56) == (b & LOW56)


def ask(machine, case, kind, va, where):
    """One check. Returns (answer text or None, note)."""
    s1_on = case.sctlr & SCTLR_M
    if s1_on and case.probe_va is None:
        raise CaseError('%s: stage 1 is on but the case has no `# qemu-probe-va` line '
                        '(a mapping of the probe, see qemu_answer_arm64.py)' % where)
    probe_va = case.probe_va if s1_on else machine.probe_pa
    sctlr = SCTLR_FIXED | (case.sctlr & (SCTLR_M | SCTLR_WXN))
    r = machine.run([va, KINDS[kind], case.el, case.pan, case.ttbr0, case.ttbr1, case.tcr, sctlr,
                     probe_va, RAM_BASE])
    if r is None:
        return None, 'the probe did not come back (a hang, or the probe mapping does not work)'
    par, at_esr, esr, far, elr, loaded, status = r[20:27]
    if status == 3:
        return None, 'unexpected EL1 exception (vector 0x%x, ESR 0x%x)' % (r[27], r[28])
    if status == 4:
        return None, 'unexpected EL2 exception (vector 0x%x, ESR_EL2 0x%x)' % (r[27], r[28])
    ec = esr >> 26
    if kind == 'exec':
        if status != 2:
            return None, 'the fetch did not trap (status %d)' % status
        if ec == 0x3c:                       # BRK: the marker of a page was executed
            page = esr & 0xffff
            pa = RAM_BASE + (page << 12) + (va & 0xfff)
            off = pa - RAM_BASE
            word = int.from_bytes(machine.shadow[off:off + 4], 'little') if off + 4 <= case.mem else None
            if not same_address(elr, va) or word != marker(off):
                return None, 'fetch executed BRK #0x%x at 0x%x: not the marker of the VA\'s word' % (page, elr)
            return '0x%x' % pa, 'fetched BRK #0x%x' % page
        if ec in (0x20, 0x21):
            ans = fsc_answer(esr & 0x3f)
            if ans is None or not same_address(far, va) or not same_address(elr, va):
                return None, 'instruction abort ESR 0x%x FAR 0x%x ELR 0x%x' % (esr, far, elr)
            return ans, 'instruction abort, ESR 0x%x' % esr
        return None, 'the fetch ended with ESR 0x%x ELR 0x%x (executed something else?)' % (esr, elr)
    # Loads and stores: the real access decides; AT must agree with it.
    at_fsc = (at_esr & 0x3f) if at_esr else ((par >> 1) & 0x3f if par & 1 else None)
    at_pa = None if par & 1 or at_esr else (par & 0xfffffffff000) | (va & 0xfff)
    at_text = ('AT abort ESR 0x%x' % at_esr) if at_esr else ('PAR 0x%x' % par)
    if status == 1:
        if at_pa is None:
            return None, 'QEMU inconsistency: the %s succeeded but %s' % (kind, at_text)
        off = at_pa - RAM_BASE
        if not 0 <= off <= case.mem - 4:
            return None, 'the %s succeeded at PA 0x%x, outside the case\'s RAM' % (kind, at_pa)
        here = int.from_bytes(machine.shadow[off:off + 4], 'little')
        if kind == 'read':
            if loaded & 0xffffffff != here:
                return None, 'loaded 0x%x, but PAR says PA 0x%x, which holds 0x%x' % (loaded, at_pa, here)
            return '0x%x' % at_pa, 'loaded 0x%08x, %s' % (loaded & 0xffffffff, at_text)
        if here != marker(off):
            machine.write_word(at_pa, 4, here)      # the case's word: put it back
        return '0x%x' % at_pa, 'stored, %s' % at_text
    if status != 2 or ec not in (0x24, 0x25):
        return None, '%s ended with status %d ESR 0x%x' % (kind, status, esr)
    fsc = esr & 0x3f
    ans = fsc_answer(fsc)
    if ans is None or not same_address(far, va) or bool(esr & (1 << 6)) != (kind == 'write'):
        return None, 'data abort ESR 0x%x FAR 0x%x' % (esr, far)
    if fsc == 0x10:
        if at_pa is None:
            return None, 'QEMU inconsistency: external abort on the access, but %s' % at_text
    elif at_fsc != fsc:
        return None, 'QEMU inconsistency: the access gives FSC 0x%x, %s' % (fsc, at_text)
    return ans, 'data abort, ESR 0x%x, %s' % (esr, at_text)


def main():
    return run_answerer('qemu_answer_arm64', 'Arm64 ', 'qemu-system-aarch64', answer_file,
                        lambda qemu, ram_size, workdir: Machine(qemu, ram_size, workdir))


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""qemu_answer_x86_64.py - answer the `check` lines of x86-64 .vmc cases with QEMU.

Usage: qemu_answer_x86_64.py [--qemu PATH] [--out DIR] [-q] FILE.vmc...

Each input file (`mode x86_64` or `mode x86_64_la57`) is replayed in a QEMU
7.2 q35 machine (qemu-system-x86_64 -cpu max,phys-bits=40, RAM at 0, no
firmware run). The answered file has each `check` replaced by the `expect
ACCESS VA -> ANSWER` line vmmem-conform replays (a PA, `page-fault pfec V`,
or `general-protection`), and ends with one `expect r64` line per entry the
case wrote, with its value in QEMU after the checks (the accessed and dirty
flags the accesses set).

Two ways to answer, chosen per case:

* Real accesses (cases with a `# qemu-probe-x86-64 0x800000` line: vmmem-gen
  --arch x86_64 maps the probe's pages at VA = PA in every case). The probe
  (probe_x86_64.S, committed assembled as probe_x86_64.bytes) sits at 8 MiB,
  in QEMU RAM past the case's. At start the answerer enters long mode through
  the gdbstub (CR4.PAE, EFER.LME|LMA, CR3 = its own identity tables, CR0.PG,
  then CS and SS loaded from a scratch GDT at PA 0) and runs the probe's
  `init` (its GDT, IDT, TSS). Per check it writes, with one `G` packet, the
  case's CR0, CR3, CR4, EFER, RFLAGS (AC), CS/SS for the CPL (0x08/0x10 or
  0x23/0x1b: a gdbstub segment write loads the descriptor and sets the CPL),
  RSP, RIP (the supervisor or the user access code) and the inputs, and
  continues to the breakpoint on `done`: the probe loads PKRU (when
  CR4.PKE), makes the load, store or fetch, and every run ends in an
  exception whose vector, error code, CR2 and RIP it reports. #PF → `page-fault
  pfec V` (CR2 must be the VA), #GP → `general-protection`, the `ud2` after a
  completed load or store, or the #UD of the marker at the VA for a fetch →
  success, whose PA the debug translation (HMP `gva2gpa`) gives and the RAM
  words confirm: words the case does not write in [1 MiB, mem) hold FE F8
  lo hi (FE /7 is undefined: a fetch traps at once; read as an entry the
  word has P = 0, like vmmem's zeros), lo:hi the page number, so a load
  returns its page. A store writes the marker already at its PA.
* The debug translation alone (cases without that line): HMP `gva2gpa VA`
  gives the PA, or "Unmapped" → `page-fault`. It applies no access rights,
  checks no reserved bits (checked: a 1 GiB PDPTE with bits 29:13 set, or
  bit 51 set in a 2 MiB PDE, still translates) and sets no A/D, so it is
  used only where a real access could not answer otherwise: the answerer
  refuses such a case unless it runs at CPL 0 with CR0.WP = EFER.NXE =
  CR4.SMEP = SMAP = PKE = 0 (then a supervisor read, write or fetch of any
  present page succeeds, SDM Vol. 3A 4.6.1).

A `# want: ANSWER` comment after a check (vmmem-gen writes the outcome it
built) is compared with QEMU's answer (the PA, or the fault kind) and
counted: until vmmem-conform has its x86 part, that is the check on the
pipeline itself.

Pitfalls (QEMU 7.2): the gdbstub numbers cr0, cr2, cr3, cr4, cr8, efer
27..32, but the i386-64bit.xml it serves lists ss_base and ds_base before
them; `p`/`P` work only after the client has read the target description;
the gdbstub's memory accesses go through the current paging (the answerer
writes RAM with its own identity tables loaded); a gdbstub write of CR0
does not set EFER.LMA (the answerer writes it); leaving long mode through a
CR0 write drops CS.L for good (the answerer never leaves it).

Limits (refused): `base`, `mmio`, `expect` lines, CR4.PCIDE, `maxphyaddr`
other than 40, writes below 1 MiB (QEMU's BIOS and VGA windows).
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

QEMU_RAM = 16 << 20
LOW_RAM = 1 << 20              # below: QEMU's BIOS and VGA windows, never the case's
PROBE = 0x800000               # the probe's three pages (VA = PA)
BOOT_TABLES = 0x803000         # the answerer's identity map of [0, 16 MiB): PML4, PDPT, PD
PA_BITS = 40
# gdbstub register numbers of QEMU 7.2 (not the XML's for cr*/efer, see above)
R_RAX, R_RSI, R_RDI, R_RSP, R_R8, R_R9, R_R10 = 0, 4, 5, 7, 8, 9, 10
R_R12, R_R13, R_R14, R_R15, R_RIP, R_EFLAGS, R_CS, R_SS = 12, 13, 14, 15, 16, 17, 18, 19
R_CR0, R_CR3, R_CR4, R_EFER = 27, 29, 30, 32
CR0_BOOT = 0x80000011          # PG, ET, PE
CR0_WP = 1 << 16
CR4_PAE, CR4_LA57, CR4_PCIDE = 1 << 5, 1 << 12, 1 << 17
CR4_SMEP, CR4_SMAP, CR4_PKE = 1 << 20, 1 << 21, 1 << 22
EFER_LME, EFER_LMA, EFER_NXE = 1 << 8, 1 << 10, 1 << 11
KINDS = {'read': 0, 'write': 1, 'exec': 2}
VEC_UD, VEC_GP, VEC_PF = 6, 13, 14


def load_probe():
    image, labels = bytearray(0x3000), {}
    with open(os.path.join(HERE, 'probe_x86_64.bytes')) as f:
        for line in f:
            tok = line.split('#', 1)[0].split()
            if not tok or tok[0] == 'size':
                continue
            if tok[0] == 'label':
                labels[tok[1]] = int(tok[2], 16)
            else:
                off, data = int(tok[0], 16), bytes.fromhex(tok[1])
                image[off:off + len(data)] = data
    return bytes(image), labels


def marker(pa):
    return 0xf8fe | ((pa >> 12) & 0xffff) << 16


def marker_image(size):
    return b''.join(struct.pack('<I', marker(p << 12)) * 1024 for p in range(size >> 12))


class Regs:
    """The gdbstub's register file, as `g` returns it (a template for `G`)."""

    SIZES = [8] * 17 + [4] * 7 + [8] * 9     # rax..r15, rip; eflags, cs..gs; fs_base..k_gs_base, cr0..efer

    def __init__(self, hexdata):
        self.raw = bytearray(bytes.fromhex(hexdata))
        self.off = []
        o = 0
        for size in self.SIZES:
            self.off.append(o)
            o += size

    def get(self, n):
        return int.from_bytes(self.raw[self.off[n]:self.off[n] + self.SIZES[n]], 'little')

    def set(self, n, v):
        size = self.SIZES[n]
        self.raw[self.off[n]:self.off[n] + size] = (v & ((1 << (8 * size)) - 1)).to_bytes(size, 'little')

    def hex(self):
        return self.raw.hex()


class Machine:
    def __init__(self, qemu, workdir):
        self.dir = tempfile.mkdtemp(prefix='qa86-', dir=workdir)
        gdb_path = os.path.join(self.dir, 'gdb.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.dump_path = os.path.join(self.dir, 'ram.bin')
        self.log_path = os.path.join(self.dir, 'qemu.log')
        self.log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(
                [qemu, '-machine', 'q35', '-cpu', 'max,phys-bits=%d' % PA_BITS, '-smp', '1',
                 '-m', '%dK' % (QEMU_RAM >> 10), '-nodefaults', '-display', 'none', '-S',
                 '-gdb', 'unix:%s,server=on,wait=off' % gdb_path,
                 '-qmp', 'unix:%s,server=on,wait=off' % qmp_path],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)
        except OSError as e:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise QemuError('cannot run %s: %s' % (qemu, e)) from None
        try:
            deadline = time.monotonic() + 10
            while not (os.path.exists(gdb_path) and os.path.exists(qmp_path)):
                if self.proc.poll() is not None or time.monotonic() > deadline:
                    with open(self.log_path, 'rb') as f:
                        raise QemuError('QEMU did not start: ' + f.read().decode(errors='replace'))
                time.sleep(0.01)
            self.gdb = Gdb(gdb_path)
            self.qmp = Qmp(qmp_path)
            self.gdb.cmd('qSupported:xmlRegisters=i386')
            self.gdb.cmd('qXfer:features:read:target.xml:0,ffb')    # enables p/P (gdb_has_xml)
            self.gdb.cmd('?')
            self._boot()
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def set_reg(self, num, value, size=8):
        if self.gdb.cmd('P%x=%s' % (num, (value & ((1 << (8 * size)) - 1)).to_bytes(size, 'little').hex())) != 'OK':
            raise QemuError('gdbstub refused the write of register %d' % num)

    def _boot(self):
        """Long mode with the answerer's identity tables, then the probe's init."""
        probe, self.labels = load_probe()
        self.gdb.write_mem(PROBE, probe)
        tables = bytearray(0x3000)
        struct.pack_into('<Q', tables, 0, BOOT_TABLES + 0x1000 | 3)
        struct.pack_into('<Q', tables, 0x1000, BOOT_TABLES + 0x2000 | 3)
        for i in range(QEMU_RAM >> 21):
            struct.pack_into('<Q', tables, 0x2000 + 8 * i, i << 21 | 0xe3)    # 2 MiB, P RW A D PS
        self.gdb.write_mem(BOOT_TABLES, bytes(tables))
        scratch_gdt = struct.pack('<QQQ', 0, 0x00af9b000000ffff, 0x00cf93000000ffff)
        self.gdb.write_mem(0, scratch_gdt)                  # GDTR is base 0 after reset
        self.set_reg(R_CR4, CR4_PAE)
        self.set_reg(R_CR3, BOOT_TABLES)
        self.set_reg(R_EFER, EFER_LME | EFER_LMA)
        self.set_reg(R_CR0, CR0_BOOT)
        self.set_reg(R_CS, 0x08, 4)
        self.set_reg(R_SS, 0x10, 4)
        self.set_reg(R_RSP, PROBE + self.labels['stack_top'])
        self.set_reg(R_EFLAGS, 2, 4)
        self.set_reg(R_RIP, PROBE + self.labels['init'])
        if self.gdb.cmd('Z0,%x,1' % (PROBE + self.labels['done'])) != 'OK':
            raise QemuError('gdbstub refused the breakpoint')
        self.gdb.cmd('c')
        self.template = Regs(self.gdb.cmd('g'))
        if self.template.get(R_RIP) != PROBE + self.labels['done']:
            raise QemuError('the probe\'s init did not reach done (rip 0x%x)' % self.template.get(R_RIP))
        self.gdb.write_mem(0, bytes(len(scratch_gdt)))
        self.markers = marker_image(QEMU_RAM)[:8 << 20]
        self.gdb.write_mem(LOW_RAM, self.markers[LOW_RAM:])
        self.shadow = bytearray(self.markers)
        self.ram_size = 8 << 20

    def boot_paging(self):
        """The answerer's identity map loaded: gdbstub addresses are PAs again."""
        r = self.template
        r.set(R_CR0, CR0_BOOT)
        r.set(R_CR3, BOOT_TABLES)
        r.set(R_CR4, CR4_PAE)
        r.set(R_EFER, EFER_LME | EFER_LMA)
        r.set(R_CS, 0x08)
        r.set(R_SS, 0x10)
        if self.gdb.cmd('G' + r.hex()) != 'OK':
            raise QemuError('gdbstub refused the register write')

    def write(self, pa, size, value):
        data = (value & ((1 << (8 * size)) - 1)).to_bytes(size, 'little')
        self.gdb.write_mem(pa, data)
        self.shadow[pa:pa + size] = data

    def dump(self, size):
        self.qmp.execute('pmemsave', val=0, size=size, filename=self.dump_path)
        with open(self.dump_path, 'rb') as f:
            return f.read()

    def restore(self, now):
        """Markers back wherever [1 MiB, len(now)) differs from them (identity map loaded)."""
        m = self.markers
        for p in range(LOW_RAM, len(now), 4096):
            if now[p:p + 4096] == m[p:p + 4096]:
                continue
            o = p
            while o < p + 4096:
                if now[o:o + 8] == m[o:o + 8]:
                    o += 8
                    continue
                start = o
                while o < p + 4096 and now[o:o + 8] != m[o:o + 8]:
                    o += 8
                self.gdb.write_mem(start, m[start:o])
        self.shadow = bytearray(m)

    def gva2gpa(self, va):
        out = self.qmp.execute('human-monitor-command', **{'command-line': 'gva2gpa 0x%x' % va}).strip()
        if out.startswith('gpa: '):
            return int(out[5:], 16), out
        if out == 'Unmapped':
            return None, out
        raise QemuError('gva2gpa 0x%x: %s' % (va, out))

    def load_case_regs(self, regs, extra=None):
        r = self.template
        lma = EFER_LMA if regs['efer'] & EFER_LME and regs['cr0'] & (1 << 31) else 0
        r.set(R_CR0, regs['cr0'] | 0x10)
        r.set(R_CR3, regs['cr3'])
        r.set(R_CR4, regs['cr4'])
        r.set(R_EFER, regs['efer'] | lma)
        for n, v in (extra or {}).items():
            r.set(n, v)
        if self.gdb.cmd('G' + r.hex()) != 'OK':
            raise QemuError('gdbstub refused the register write')

    def run(self):
        try:
            self.gdb.cmd('c')
        except TimeoutError:
            self.gdb.interrupt()
            return None
        r = Regs(self.gdb.cmd('g'))
        if r.get(R_RIP) != PROBE + self.labels['done']:
            return None
        return r


def real_access(machine, regs, kind, va):
    """One check by the probe. Returns (answer or None, note)."""
    labels = machine.labels
    machine.load_case_regs(regs)                # for gva2gpa: the case's translation
    pa, text = machine.gva2gpa(va)
    in_ram = pa is not None and LOW_RAM <= pa and pa + 4 <= regs['mem']
    here = int.from_bytes(machine.shadow[pa:pa + 4], 'little') if in_ram else None
    user = regs['cpl'] == 3
    entry = labels['user_access' if user else 'sup_access']
    extra = {
        R_RDI: va, R_RSI: KINDS[kind], R_R10: marker(pa) if in_ram else 0,
        R_R8: regs['pkru'], R_R9: 1 if regs['cr4'] & CR4_PKE else 0,
        R_RIP: PROBE + entry, R_RSP: PROBE + labels['stack_top'],
        R_EFLAGS: 2 | (regs['rflags'] & (1 << 18)),
        R_CS: 0x23 if user else 0x08, R_SS: 0x1b if user else 0x10,
    }
    machine.load_case_regs(regs, extra)
    r = machine.run()
    machine.template.set(R_CS, 0x08)            # the next G reloads CS/SS only if they change
    machine.template.set(R_SS, 0x10)
    if r is None:
        return None, 'the probe did not come back (a hang, or the probe mapping does not work)'
    vec, err, cr2, rip, rax = r.get(R_R14), r.get(R_R13), r.get(R_R12), r.get(R_R15), r.get(R_RAX)
    machine.template.set(R_CS, r.get(R_CS))
    machine.template.set(R_SS, r.get(R_SS))
    base = 'user' if user else 'sup'
    if vec == VEC_PF:
        if cr2 != va:
            return None, '#PF with CR2 0x%x (error code 0x%x)' % (cr2, err)
        return 'page-fault pfec 0x%x' % err, '#PF error code 0x%x' % err
    if vec == VEC_GP:
        return 'general-protection', '#GP'
    if vec != VEC_UD:
        return None, 'exception %d (error code 0x%x) at 0x%x' % (vec, err, rip)
    if pa is None:
        return None, 'the access completed but gva2gpa says Unmapped'
    if kind == 'exec':
        if rip != va:
            return None, '#UD at 0x%x after a fetch of 0x%x' % (rip, va)
        if here != marker(pa):
            return None, 'fetched at PA 0x%x, which holds no marker' % pa
        return '0x%x' % pa, 'executed the marker of PA 0x%x' % pa
    done = PROBE + labels['%s_done_ud%s' % (base, '' if kind == 'read' else '_store')]
    if rip != done:
        return None, '#UD at 0x%x, not after the %s' % (rip, kind)
    if kind == 'read':
        if here is None or rax & 0xffffffff != here:
            return None, 'loaded 0x%x, but PA 0x%x holds %s' % (rax & 0xffffffff, pa, here)
        return '0x%x' % pa, 'loaded 0x%08x' % (rax & 0xffffffff)
    if here is not None and here != marker(pa):
        machine.boot_paging()
        machine.write(pa, 4, here)              # a word of the case: put it back
    return '0x%x' % pa, 'stored, %s' % text


def debug_walk(machine, regs, kind, va, where):
    bad = []
    if regs['cpl'] != 0: bad.append('CPL %d' % regs['cpl'])
    if regs['cr0'] & CR0_WP: bad.append('CR0.WP')
    if regs['efer'] & EFER_NXE: bad.append('EFER.NXE')
    for bit, name in ((CR4_SMEP, 'SMEP'), (CR4_SMAP, 'SMAP'), (CR4_PKE, 'PKE')):
        if regs['cr4'] & bit:
            bad.append('CR4.' + name)
    if bad:
        raise CaseError('%s: no probe mapping, and the debug translation ignores access rights: '
                        'cannot answer with %s' % (where, ', '.join(bad)))
    machine.load_case_regs(regs)
    pa, text = machine.gva2gpa(va)
    return ('page-fault' if pa is None else '0x%x' % pa), 'gva2gpa %s' % text


def answer_file(path, out_path, machine, stats):
    with open(path) as f:
        lines = f.read().splitlines()
    regs = {'cr0': 0, 'cr3': 0, 'cr4': 0, 'efer': 0, 'cpl': 0, 'rflags': 0, 'pkru': 0, 'mem': 16 << 20}
    out, written = [], []
    mode = None
    probe = False
    last = None
    machine.boot_paging()
    for lineno, raw in enumerate(lines, 1):
        where = '%s:%d' % (path, lineno)
        if raw.startswith('# qemu-probe-x86-64 '):
            if parse_num(raw.split()[2]) != PROBE:
                raise CaseError('%s: the probe is at 0x%x' % (where, PROBE))
            probe = True
        if raw.startswith('# want: ') and last is not None:
            want = raw[8:].strip()
            stats['want'] += 1
            if want != last.split(' pfec')[0]:
                stats['want_differ'] += 1
                print('%s: QEMU answered %s, the generator built %s' % (where, last, want), file=sys.stderr)
            last = None
        tok = raw.split('#', 1)[0].split()
        if not tok:
            out.append(raw)
            continue
        kw = tok[0]
        if kw == 'mem':
            regs['mem'] = parse_size(tok[1])
            if regs['mem'] > PROBE or regs['mem'] % 4096:
                raise CaseError('%s: mem must be a 4K multiple up to %dK' % (where, PROBE >> 10))
        elif kw == 'mode':
            if len(tok) != 2 or tok[1] not in ('x86_64', 'x86_64_la57'):
                raise CaseError('%s: only `mode x86_64` or `mode x86_64_la57` cases can be answered here' % where)
            mode = tok[1]
            regs['cr4'] = (regs['cr4'] & ~CR4_LA57) | (CR4_LA57 if mode == 'x86_64_la57' else 0)
        elif kw in ('cr0', 'cr3', 'cr4', 'efer', 'cpl', 'rflags', 'pkru', 'maxphyaddr'):
            if not (len(tok) == 4 and tok[2] == '->' and tok[3] == 'rejected'):
                v = parse_num(tok[1])
                if kw == 'maxphyaddr' and v != PA_BITS:
                    raise CaseError('%s: QEMU runs with phys-bits=%d: the case must say `maxphyaddr %d`'
                                    % (where, PA_BITS, PA_BITS))
                if kw == 'cr4' and v & CR4_PCIDE:
                    raise CaseError('%s: CR4.PCIDE is not supported by this answerer' % where)
                regs[kw] = v
        elif kw in ('w8', 'w16', 'w32', 'w64'):
            size = int(kw[1:]) // 8
            pa, v = parse_num(tok[1]), parse_num(tok[2])
            if pa + size > regs['mem'] or pa < LOW_RAM:
                raise CaseError('%s: writes must be in [1M, mem) (QEMU keeps BIOS and VGA below 1M)' % where)
            machine.boot_paging()
            machine.write(pa, size, v)
            written.append(pa & ~7)
        elif kw in ('flush', 'invlpg', 'invpcid', 'strict'):
            pass                 # every check loads CR3, which empties QEMU's TLB
        elif kw == 'check':
            if len(tok) != 3 or tok[1] not in KINDS:
                raise CaseError('%s: expected: check read|write|exec VA' % where)
            if mode is None:
                raise CaseError('%s: check before `mode x86_64`' % where)
            va = parse_num(tok[2])
            if va % 4:
                raise CaseError('%s: check VAs must be 4-byte aligned' % where)
            if probe:
                answer, note = real_access(machine, regs, tok[1], va)
            else:
                answer, note = debug_walk(machine, regs, tok[1], va, where)
            stats['checks'] += 1
            if answer is None:
                stats['unanswered'] += 1
                out.append('# UNANSWERED (%s): %s' % (note, raw.strip()))
                print('%s: unanswered: %s' % (where, note), file=sys.stderr)
            else:
                out.append('expect %s 0x%x -> %s    # qemu: %s' % (tok[1], va, answer, note))
            last = answer
            continue
        elif kw in ('base', 'mmio', 'expect'):
            raise CaseError('%s: `%s` lines cannot be answered here' % (where, kw))
        else:
            raise CaseError('%s: unknown keyword %s' % (where, kw))
        out.append(raw)
    machine.boot_paging()
    final = machine.dump(regs['mem'])
    out.append('# The entries the case wrote, as QEMU holds them after the checks (A/D):')
    for pa in sorted(set(written)):
        out.append('expect r64 0x%x == 0x%x' % (pa, int.from_bytes(final[pa:pa + 8], 'little')))
    machine.restore(final)
    with open(out_path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def verdict(stats):
    """x86-64 also counts the checks whose QEMU answer differs from what the
    generator built the case to give (a generator or QEMU problem)."""
    return ('; QEMU agrees with the generator\'s construction on %d / %d checks'
            % (stats['want'] - stats['want_differ'], stats['want']), stats['want_differ'] != 0)


def main():
    return run_answerer('qemu_answer_x86_64', 'x86-64 ', 'qemu-system-x86_64',
                        lambda path, out_path, session, stats:
                            answer_file(path, out_path, session.machine(), stats),
                        lambda qemu, ram_size, workdir: Machine(qemu, workdir),
                        extra_stats={'want': 0, 'want_differ': 0}, verdict=verdict)


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""qemu_answer_x86_64.py - answer the `check` lines of x86-64 .vmc cases with
QEMU's debug translation (the walk itself).

Usage: qemu_answer_x86_64.py [--qemu PATH] [--out DIR] [-q] FILE.vmc...

Each input file (`mode x86_64` or `mode x86_64_la57`) is loaded into a QEMU
7.2 q35 machine (qemu-system-x86_64 -cpu max, RAM at 0, no firmware run:
the core stays stopped at reset), its paging-structure entries written into
RAM through the gdbstub, CR4, EFER, CR3 and CR0 set through the gdbstub
(`P` packets), and every `check ACCESS VA` is answered by the monitor's
`gva2gpa VA` (QMP `human-monitor-command`): the PA, or `page-fault` when QEMU
says the address is unmapped. The answered file has each `check` replaced by
`expect ACCESS VA -> ANSWER` and ends with one `expect r64` line per entry the
case wrote, with its value in QEMU (unchanged: the debug walk writes nothing,
and vmmem-gen sets A and D where a real access would).

What the debug translation is, and so what a case may ask: QEMU's
x86_cpu_get_phys_page_attrs_debug walks with the paging mode of the
registers (4 or 5 levels from CR4.LA57, P, PS in a PDPTE or PDE, the
address fields), and nothing else - no access rights, no reserved-bit checks
(checked: a 1 GiB PDPTE with bits 29:13 set, or bit 51 set in a 2 MiB PDE,
still translates), no A/D. So it answers a real access only where rights and
reserved bits cannot matter: the answerer refuses a case unless it runs at
CPL 0 with CR0.WP = 0, EFER.NXE = 0 and CR4.SMEP = SMAP = PKE = 0 (then a
supervisor read, write or fetch of any present page succeeds, SDM Vol. 3A
4.6.1); vmmem-gen --arch x86_64 also keeps reserved bits clear and VAs
canonical (a non-canonical VA is #GP, which "Unmapped" cannot tell apart from
a not-present entry). A `# want: ANSWER` comment after a check (vmmem-gen
writes one) is compared with QEMU's answer and counted: until the x86 runner
of vmmem-conform lands, that is the only comparison available.

Pitfall (QEMU 7.2): the gdbstub numbers cr0, cr2, cr3, cr4, cr8, efer 27..32,
but the i386-64bit.xml it serves lists ss_base and ds_base before them (so a
client trusting the XML would write the wrong registers); `p`/`P` work only
after the client has read the target description (qXfer). The gdbstub's
memory accesses go through the current paging, so the answerer turns paging
off (CR0 = 0x60000010, the reset value) before writing RAM.

Limits (refused): `base`, `mmio`, `expect` lines, `cpl` other than 0, CR0.WP,
EFER.NXE, CR4.SMEP/SMAP/PKE, CR4.PCIDE, `rflags`/`pkru` lines.

Rejected: a long-mode probe making real accesses (permissions, reserved
bits, A/D, #GP): it is the next step (conformance/QEMU.md says how), not
done; the debug walk answers the walk itself, which is what this file covers.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from qemu_answer import CaseError, Gdb, Qmp, QemuError, parse_num, parse_size  # noqa: E402

QEMU_RAM = 16 << 20
# gdbstub register numbers of QEMU 7.2 (not the XML's, see above)
REG_CR0, REG_CR3, REG_CR4, REG_EFER = 27, 29, 30, 32
CR0_RESET = 0x60000010
CR0_WP = 1 << 16
CR4_LA57, CR4_PCIDE, CR4_SMEP, CR4_SMAP, CR4_PKE = 1 << 12, 1 << 17, 1 << 20, 1 << 21, 1 << 22
EFER_NXE = 1 << 11
KINDS = ('read', 'write', 'exec')


class Machine:
    def __init__(self, qemu, workdir):
        self.dir = tempfile.mkdtemp(prefix='qa86-', dir=workdir)
        gdb_path = os.path.join(self.dir, 'gdb.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.log_path = os.path.join(self.dir, 'qemu.log')
        self.log = open(self.log_path, 'wb')
        try:
            self.proc = subprocess.Popen(
                [qemu, '-machine', 'q35', '-cpu', 'max', '-smp', '1', '-m', '%dK' % (QEMU_RAM >> 10),
                 '-nodefaults', '-display', 'none', '-S',
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
            self.written = {}
        except BaseException:
            self.close()
            raise

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    def set_reg(self, num, value):
        if self.gdb.cmd('P%x=%s' % (num, (value & ((1 << 64) - 1)).to_bytes(8, 'little').hex())) != 'OK':
            raise QemuError('gdbstub refused the write of register %d' % num)

    def get_reg(self, num):
        return int.from_bytes(bytes.fromhex(self.gdb.cmd('p%x' % num)[:16]), 'little')

    def paging_off(self):
        self.set_reg(REG_CR0, CR0_RESET)

    def write(self, pa, size, value):
        self.gdb.write_mem(pa, (value & ((1 << (8 * size)) - 1)).to_bytes(size, 'little'))
        self.written[pa] = size

    def read64(self, pa):
        return int.from_bytes(bytes.fromhex(self.gdb.cmd('m%x,8' % pa)), 'little')

    def clear(self):
        """Zero what the last case wrote (paging off, so gdbstub addresses are PAs)."""
        self.paging_off()
        for pa, size in self.written.items():
            self.gdb.write_mem(pa, bytes(size))
        self.written = {}

    def gva2gpa(self, va):
        out = self.qmp.execute('human-monitor-command', **{'command-line': 'gva2gpa 0x%x' % va}).strip()
        if out.startswith('gpa: '):
            return int(out[5:], 16), out
        if out == 'Unmapped':
            return None, out
        raise QemuError('gva2gpa 0x%x: %s' % (va, out))


def answer_file(path, out_path, machine, stats):
    with open(path) as f:
        lines = f.read().splitlines()
    regs = {'cr0': CR0_RESET, 'cr3': 0, 'cr4': 0, 'efer': 0, 'cpl': 0}
    mem = 16 << 20
    out, written = [], []
    mode = None
    machine.clear()
    last_answer = None
    for lineno, raw in enumerate(lines, 1):
        where = '%s:%d' % (path, lineno)
        if raw.startswith('# want: ') and last_answer is not None:
            want = raw[8:].strip()
            stats['want'] += 1
            if want != last_answer:
                stats['want_differ'] += 1
                print('%s: QEMU answered %s, the generator built %s' % (where, last_answer, want),
                      file=sys.stderr)
            last_answer = None
        tok = raw.split('#', 1)[0].split()
        if not tok:
            out.append(raw)
            continue
        kw = tok[0]
        if kw == 'mem':
            mem = parse_size(tok[1])
            if mem > QEMU_RAM or mem % 4096:
                raise CaseError('%s: mem must be a 4K multiple up to %dK' % (where, QEMU_RAM >> 10))
        elif kw == 'mode':
            if len(tok) != 2 or tok[1] not in ('x86_64', 'x86_64_la57'):
                raise CaseError('%s: only `mode x86_64` or `mode x86_64_la57` cases can be answered here' % where)
            mode = tok[1]
            regs['cr4'] = (regs['cr4'] & ~CR4_LA57) | (CR4_LA57 if mode == 'x86_64_la57' else 0)
        elif kw in ('cr0', 'cr3', 'cr4', 'efer', 'cpl'):
            if not (len(tok) == 4 and tok[2] == '->' and tok[3] == 'rejected'):
                regs[kw] = parse_num(tok[1])
        elif kw in ('w8', 'w16', 'w32', 'w64'):
            size = int(kw[1:]) // 8
            pa, v = parse_num(tok[1]), parse_num(tok[2])
            if pa + size > mem or pa < 0x100000:
                raise CaseError('%s: writes must be in [1M, mem) (QEMU keeps BIOS and VGA below 1M)' % where)
            machine.paging_off()
            machine.write(pa, size, v)
            written.append(pa & ~7)
        elif kw in ('flush', 'invlpg', 'invpcid', 'maxphyaddr', 'strict'):
            pass                 # the debug walk reads memory afresh and keeps no TLB
        elif kw == 'check':
            if len(tok) != 3 or tok[1] not in KINDS:
                raise CaseError('%s: expected: check read|write|exec VA' % where)
            if mode is None:
                raise CaseError('%s: check before `mode x86_64`' % where)
            bad = []
            if regs['cpl'] != 0: bad.append('CPL %d' % regs['cpl'])
            if regs['cr0'] & CR0_WP: bad.append('CR0.WP')
            if regs['efer'] & EFER_NXE: bad.append('EFER.NXE')
            for bit, name in ((CR4_SMEP, 'SMEP'), (CR4_SMAP, 'SMAP'), (CR4_PKE, 'PKE'), (CR4_PCIDE, 'PCIDE')):
                if regs['cr4'] & bit:
                    bad.append('CR4.' + name)
            if bad:
                raise CaseError('%s: the debug translation ignores access rights: cannot answer with %s'
                                % (where, ', '.join(bad)))
            va = parse_num(tok[2])
            machine.set_reg(REG_CR4, regs['cr4'])
            # EFER.LMA is the processor's (LME and CR0.PG, SDM 9.8.5); a
            # gdbstub write of CR0 does not derive it, so write it too.
            lma = (1 << 10) if regs['efer'] & (1 << 8) and regs['cr0'] & (1 << 31) else 0
            machine.set_reg(REG_EFER, regs['efer'] | lma)
            machine.set_reg(REG_CR3, regs['cr3'])
            machine.set_reg(REG_CR0, regs['cr0'])
            cr4, efer = machine.get_reg(REG_CR4), machine.get_reg(REG_EFER)
            if cr4 != regs['cr4'] or not efer & (1 << 10):        # EFER.LMA: long mode is on
                raise QemuError('the registers did not take (CR4 0x%x, EFER 0x%x)' % (cr4, efer))
            pa, text = machine.gva2gpa(va)
            stats['checks'] += 1
            last_answer = 'page-fault' if pa is None else '0x%x' % pa
            out.append('expect %s 0x%x -> %s    # qemu: gva2gpa %s' % (tok[1], va, last_answer, text))
            continue
        elif kw in ('base', 'mmio', 'expect', 'rflags', 'pkru'):
            raise CaseError('%s: `%s` lines cannot be answered by the debug translation' % (where, kw))
        else:
            raise CaseError('%s: unknown keyword %s' % (where, kw))
        out.append(raw)
    machine.paging_off()
    out.append('# The entries the case wrote, as QEMU holds them after the checks:')
    for pa in sorted(set(written)):
        out.append('expect r64 0x%x == 0x%x' % (pa, machine.read64(pa)))
    with open(out_path, 'w') as f:
        f.write('\n'.join(out) + '\n')


def main():
    ap = argparse.ArgumentParser(description='Answer the check lines of x86-64 .vmc cases with QEMU.')
    ap.add_argument('files', nargs='+')
    ap.add_argument('--out', default='.')
    ap.add_argument('--qemu', default='qemu-system-x86_64')
    ap.add_argument('-q', '--quiet', action='store_true')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    workdir = '/dev/shm' if os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK) else None
    stats = {'checks': 0, 'want': 0, 'want_differ': 0}
    t0 = time.monotonic()
    bad = 0
    machine = None
    try:
        for path in args.files:
            try:
                if machine is None:
                    machine = Machine(args.qemu, workdir)
                answer_file(path, os.path.join(args.out, os.path.basename(path)), machine, stats)
            except CaseError as e:
                print('qemu_answer_x86_64: %s' % e, file=sys.stderr)
                bad += 1
            except (QemuError, OSError) as e:
                print('qemu_answer_x86_64: %s: %s (restarting QEMU)' % (path, e), file=sys.stderr)
                if machine is not None:
                    machine.close()
                    machine = None
                bad += 1
    finally:
        if machine is not None:
            machine.close()
    dt = time.monotonic() - t0
    n = len(args.files)
    if not args.quiet or bad or stats['want_differ']:
        print('qemu_answer_x86_64: %d cases, %d checks, %d cases refused, %.1f s (%.1f cases/s, %.0f checks/s); '
              'QEMU agrees with the generator\'s construction on %d / %d checks'
              % (n, stats['checks'], bad, dt, n / dt if dt else 0, stats['checks'] / dt if dt else 0,
                 stats['want'] - stats['want_differ'], stats['want']))
    return 1 if bad or stats['want_differ'] else 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""qemu_answer.py - answer the `check` lines of .vmc cases with QEMU.

Usage: qemu_answer.py [--qemu PATH] [--out DIR] [-q] FILE.vmc...

Each input file is replayed in a QEMU 7.2 `virt` machine (qemu-system-riscv64,
one rv64 hart, RAM at 0x80000000 of the case's `mem` size, no firmware), and
every `check ACCESS VA` line is answered by a REAL access of that kind made by
the emulated hart in the case's privilege mode with its SUM and MXR. The
answered file (DIR/<same name>) has each `check` replaced by the
`expect ACCESS VA -> ANSWER` line vmmem-conform replays, and ends with one
`expect r64 PA == V` line per PTE word the case wrote, holding the value that
word has in QEMU after all the accesses (so A/D updates are compared too).

How it works
------------
* The probe (probe_rv64.S, committed assembled as probe_rv64.words) is written
  into the board's mask ROM at PROBE_BASE through the gdbstub, so no RAM byte is
  the probe's. For each check the answerer sets a0..a4 and pc with one `G`
  packet, continues (`c`) to a breakpoint at the probe's `done` label, and reads
  the registers back (`g`): mcause, mtval, and the loaded word or mepc.
  Loads and stores are made in M-mode with mstatus.MPRV=1 and MPP = the case's
  privilege; fetches by `mret` to the VA with MPP = the case's privilege.
* The GDB remote serial protocol runs over a unix socket (`-gdb unix:...`);
  QMP (`-qmp unix:...`) is used only for `pmemsave`, which dumps RAM to a file.
* PA identification. Every RAM byte the case does not write holds a marker:
  the 32-bit word at RAM offset o is MARK_BIT31 | (o/4) << 7 | 0x6b, an illegal
  instruction (major opcode 1101011 is reserved), unique, and, read as half of
  a PTE, one with bit 63 set (reserved, so a walk through it page-faults as a
  walk through the zero vmmem has there does). A successful load returns the
  marker of the word it read; a successful fetch executes it and traps with
  cause 2 and mtval = the marker (QEMU reports the instruction bits); either
  names the PA. A successful store writes a value unique to the check (also an
  illegal instruction, so a later fetch of it traps at once); RAM is then
  dumped and the one word holding it is the PA. Loads or fetches that
  return a non-marker word are resolved if the word occurs once in the image.
* Faults: mcause 12/13/15 -> page-fault, 1/5/7 -> access-fault (checked to be
  the cause of the access kind, with mtval = VA). Anything else (a fetch that
  executed something else, a PA that cannot be identified, a hang) leaves the
  check unanswered: it is written as a comment `# UNANSWERED (...)`, counted,
  and the run exits 1.
* One QEMU process serves many cases: after each case the RAM words that
  differ from the marker image are written back (the RAM dump says which).

Limits: base must be 0x80000000 (QEMU virt); `ad hw` only (QEMU 7.2 has no
Svade mode: it always sets A/D); no `mmio` lines (QEMU has its own devices);
check VAs must be 4-byte aligned (the probe makes 4-byte accesses); no
`expect` lines in the input (they would make vmmem's state, not QEMU's, move).

Rejected: QEMU's debug translation (`gva2gpa`, the gdbstub's memory view):
they walk without the access's privilege, SUM, MXR and A/D side effects, so
they do not say what a real access does. Loading the probe into RAM: it would
take pages away from the case. A full RAM dump after every access: only
stores need one.
"""

import argparse
import json
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RAM_BASE = 0x80000000          # QEMU virt
PROBE_BASE = 0x8000            # inside the mask ROM (0x1000..0xffff), past the reset vector
MARK_OPCODE = 0x6b
MARK_BIT31 = 1 << 31
# Store values: STORE_TAG | check number << 7. Illegal instructions too (so a
# later fetch of a stored word traps at once), bit 31 clear (never a marker).
STORE_TAG = 0x5a << 23 | MARK_OPCODE
RUN_TIMEOUT = 5.0

MSTATUS_MPP_SHIFT = 11
MSTATUS_MPRV = 1 << 17
MSTATUS_SUM = 1 << 18
MSTATUS_MXR = 1 << 19

KINDS = {'read': 0, 'write': 1, 'exec': 2}
# (page fault, access fault) causes per access kind (Priv. spec, mcause table)
CAUSES = {'read': (13, 5), 'write': (15, 7), 'exec': (12, 1)}
ILLEGAL_INSTRUCTION = 2
U64 = (1 << 64) - 1


class CaseError(Exception):
    """The case cannot be answered by this answerer (a format limit)."""


class QemuError(Exception):
    """QEMU or the protocol misbehaved."""


def load_probe():
    words, labels = [], {}
    with open(os.path.join(HERE, 'probe_rv64.words')) as f:
        for line in f:
            line = line.split('#', 1)[0].split()
            if not line:
                continue
            if line[0] == 'label':
                labels[line[1]] = int(line[2], 16)
            else:
                words.append(int(line[0], 16))
    return struct.pack('<%dI' % len(words), *words), labels


def marker(offset):
    return MARK_BIT31 | (offset >> 2) << 7 | MARK_OPCODE


def marker_image(size):
    import array
    a = array.array('I', (MARK_BIT31 | i << 7 | MARK_OPCODE for i in range(size // 4)))
    if sys.byteorder != 'little':
        a.byteswap()
    return a.tobytes()


def parse_num(tok):
    return int(tok, 16) if tok.lower().startswith('0x') else int(tok, 10)


def parse_size(tok):
    mult = {'k': 1 << 10, 'm': 1 << 20, 'g': 1 << 30}.get(tok[-1:].lower())
    return parse_num(tok[:-1]) * mult if mult else parse_num(tok)


def connect_unix(path):
    """Connect, retrying while QEMU has created the socket but not yet listens."""
    deadline = time.monotonic() + 10
    while True:
        s = socket.socket(socket.AF_UNIX)
        try:
            s.connect(path)
            return s
        except (ConnectionRefusedError, FileNotFoundError):
            s.close()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.01)


class Gdb:
    """A minimal GDB remote serial protocol client (acknowledged mode)."""

    def __init__(self, path):
        self.s = connect_unix(path)
        self.buf = b''

    def _read_packet(self, timeout):
        deadline = time.monotonic() + timeout
        while True:
            i = self.buf.find(b'$')
            if i >= 0:
                j = self.buf.find(b'#', i)
                if j >= 0 and len(self.buf) >= j + 3:
                    data = self.buf[i + 1:j]
                    self.buf = self.buf[j + 3:]
                    self.s.sendall(b'+')
                    return data.decode('latin-1')
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError
            self.s.settimeout(left)
            try:
                chunk = self.s.recv(65536)
            except socket.timeout:
                raise TimeoutError from None
            if not chunk:
                raise QemuError('gdbstub closed the connection')
            self.buf += chunk

    def send(self, payload):
        csum = sum(payload.encode('latin-1')) & 0xff
        self.s.sendall(b'$' + payload.encode('latin-1') + b'#%02x' % csum)

    def cmd(self, payload, timeout=RUN_TIMEOUT):
        self.send(payload)
        reply = self._read_packet(timeout)
        if reply.startswith('E') and len(reply) == 3:
            raise QemuError('gdbstub: %s -> %s' % (payload[:40], reply))
        return reply

    def interrupt(self):
        self.s.sendall(b'\x03')
        return self._read_packet(RUN_TIMEOUT)

    def write_mem(self, addr, data):
        for off in range(0, len(data), 1024):
            chunk = data[off:off + 1024]
            if self.cmd('M%x,%x:%s' % (addr + off, len(chunk), chunk.hex())) != 'OK':
                raise QemuError('gdbstub refused a memory write at 0x%x' % (addr + off))

    def read_regs(self):
        h = self.cmd('g')
        return [struct.unpack('<Q', bytes.fromhex(h[16 * i:16 * i + 16]))[0] for i in range(33)]

    def write_regs(self, regs):
        if self.cmd('G' + b''.join(struct.pack('<Q', r & U64) for r in regs).hex()) != 'OK':
            raise QemuError('gdbstub refused the register write')


class Qmp:
    def __init__(self, path):
        self.s = connect_unix(path)
        self.f = self.s.makefile('rb')
        self._reply()                                   # greeting
        self.execute('qmp_capabilities')

    def _reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise QemuError('QMP closed the connection')
            msg = json.loads(line)
            if 'event' in msg:
                continue
            return msg

    def execute(self, command, **args):
        self.s.sendall(json.dumps({'execute': command, 'arguments': args}).encode() + b'\n')
        msg = self._reply()
        if 'error' in msg:
            raise QemuError('QMP %s: %s' % (command, msg['error']))
        return msg.get('return', msg)


class Machine:
    """One QEMU virt machine with the probe in ROM and RAM full of markers."""

    def __init__(self, qemu, ram_size, workdir):
        self.ram_size = ram_size
        self.dir = tempfile.mkdtemp(prefix='qa-', dir=workdir)
        self.dump_path = os.path.join(self.dir, 'ram.bin')
        gdb_path = os.path.join(self.dir, 'gdb.sock')
        qmp_path = os.path.join(self.dir, 'qmp.sock')
        self.log_path = os.path.join(self.dir, 'qemu.log')
        self.log = open(self.log_path, 'wb')          # a file, not a pipe nobody drains
        try:
            self.proc = self._spawn(qemu, ram_size, gdb_path, qmp_path)
        except OSError as e:
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
            raise QemuError('cannot run %s: %s' % (qemu, e)) from None
        try:
            self._start(gdb_path, qmp_path, ram_size)
        except BaseException:
            self.close()              # never leave a QEMU behind
            raise

    def _spawn(self, qemu, ram_size, gdb_path, qmp_path):
        return subprocess.Popen(
            [qemu, '-machine', 'virt', '-cpu', 'rv64', '-smp', '1', '-m', '%dK' % (ram_size >> 10),
             '-bios', 'none', '-nodefaults', '-display', 'none', '-S',
             '-gdb', 'unix:%s,server=on,wait=off' % gdb_path,
             '-qmp', 'unix:%s,server=on,wait=off' % qmp_path],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=subprocess.STDOUT)

    def _start(self, gdb_path, qmp_path, ram_size):
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
        self.gdb.write_mem(PROBE_BASE, probe)
        if bytes.fromhex(self.gdb.cmd('m%x,%x' % (PROBE_BASE, len(probe)))) != probe:
            raise QemuError('the probe did not land in the boot ROM')
        if self.gdb.cmd('Z0,%x,4' % (PROBE_BASE + self.labels['done'])) != 'OK':
            raise QemuError('gdbstub refused the breakpoint')
        self.markers = marker_image(ram_size)
        self.gdb.write_mem(RAM_BASE, self.markers)
        self.shadow = bytearray(self.markers)            # what RAM holds now, as far as we know

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
        """Put the marker image back wherever RAM (`now`, a fresh dump) differs from it."""
        m = self.markers
        page = 4096
        for p in range(0, self.ram_size, page):
            if now[p:p + page] == m[p:p + page]:
                continue
            o = p
            while o < p + page:                           # coalesce differing 8-byte runs
                if now[o:o + 8] == m[o:o + 8]:
                    o += 8
                    continue
                start = o
                while o < p + page and now[o:o + 8] != m[o:o + 8]:
                    o += 8
                self.gdb.write_mem(RAM_BASE + start, m[start:o])
        self.shadow = bytearray(m)

    def run(self, va, kind, satp, mstatus, store_value):
        regs = [0] * 33
        regs[10], regs[11], regs[12], regs[13], regs[14] = va, kind, satp, mstatus, store_value
        regs[32] = PROBE_BASE + self.labels['entry']
        self.gdb.write_regs(regs)
        try:
            self.gdb.cmd('c')
        except TimeoutError:
            self.gdb.interrupt()
            return None
        r = self.gdb.read_regs()
        if r[32] != PROBE_BASE + self.labels['done']:
            return None
        return r[15], r[16], r[17]                     # mcause (-1: none), mtval, word / mepc


def identify(shadow, word):
    """RAM offset of the 4-byte word `word` (a marker, or a unique case word)."""
    if word & 0x7f == MARK_OPCODE and word & MARK_BIT31:
        off = ((word & ~MARK_BIT31) >> 7) << 2
        if off + 4 <= len(shadow) and int.from_bytes(shadow[off:off + 4], 'little') == word:
            return off
    needle = word.to_bytes(4, 'little')
    hits, start = [], 0
    while len(hits) < 2:
        i = shadow.find(needle, start)
        if i < 0:
            break
        if i % 4 == 0:
            hits.append(i)
        start = i + 1
    return hits[0] if len(hits) == 1 else None


class Case:
    """The state the .vmc lines set up, as vmmem-conform reads them."""

    def __init__(self):
        self.base, self.mem = 0, 16 << 20
        self.satp = 0
        self.priv, self.sum, self.mxr = 1, False, False


def answer_file(path, out_path, session, stats):
    with open(path) as f:
        lines = f.read().splitlines()
    case = Case()
    out, written = [], {}                # PA of each 8-byte word the case wrote -> True
    machine = None
    n_check = 0
    unanswered = 0
    for lineno, raw in enumerate(lines, 1):
        tok = raw.split('#', 1)[0].split()
        where = '%s:%d' % (path, lineno)
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
                raise CaseError('%s: QEMU virt has RAM at 0x%x, the case at 0x%x (add `base 0x%x`)'
                                % (where, RAM_BASE, case.base, RAM_BASE))
            if case.mem % 4096 or case.mem > 1 << 30:
                raise CaseError('%s: mem must be a 4K multiple up to 1G' % where)
            machine = session.machine(case.mem)
        if kw == 'mode':
            modes = {'bare': 0, 'sv39': 8, 'sv48': 9, 'sv57': 10}
            if len(tok) != 2 or tok[1] not in modes:
                raise CaseError('%s: bad mode line' % where)
            case.satp = (case.satp & ~(0xf << 60)) | modes[tok[1]] << 60
        elif kw == 'satp':
            v = parse_num(tok[1])
            if v >> 60 in (0, 8, 9, 10):           # WARL: an unsupported MODE changes nothing
                case.satp = v
        elif kw == 'priv':
            case.priv = {'U': 0, 'S': 1, 'M': 3}[tok[1]]
        elif kw in ('sum', 'mxr'):
            setattr(case, kw, tok[1] == '1')
        elif kw == 'ad':
            if tok[1] != 'hw':
                raise CaseError('%s: QEMU 7.2 always updates A/D in hardware (no Svade): '
                                'only `ad hw` can be answered' % where)
        elif kw in ('strict', 'flush'):
            pass                                   # checks are aligned; the probe flushes before each
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
            va = parse_num(tok[2])
            if va % 4:
                raise CaseError('%s: check VAs must be 4-byte aligned' % where)
            n_check += 1
            answer, note = ask(machine, case, tok[1], va, n_check)
            stats['checks'] += 1
            if answer is None:
                unanswered += 1
                stats['unanswered'] += 1
                out.append('# UNANSWERED (%s): %s' % (note, raw.strip()))
                print('%s: unanswered: %s' % (where, note), file=sys.stderr)
            else:
                out.append('expect %s 0x%x -> %s    # qemu: %s' % (tok[1], va, answer, note))
        elif kw in ('mmio', 'expect'):
            raise CaseError('%s: `%s` lines cannot be answered by QEMU (see qemu_answer.py)' % (where, kw))
        else:
            raise CaseError('%s: unknown keyword %s' % (where, kw))
        if kw != 'check':
            out.append(raw)
    if machine is None:
        raise CaseError('%s: empty case' % path)
    final = machine.dump()
    out.append('# The PTE words the case wrote, as QEMU left them after the accesses (A/D):')
    for pa in sorted(written):
        off = pa - RAM_BASE
        if off + 8 <= case.mem:
            out.append('expect r64 0x%x == 0x%x' % (pa, int.from_bytes(final[off:off + 8], 'little')))
    machine.restore(final)
    with open(out_path, 'w') as f:
        f.write('\n'.join(out) + '\n')
    return unanswered


def ask(machine, case, kind, va, n_check):
    """One real access by the hart. Returns (answer text or None, note)."""
    mstatus = case.priv << MSTATUS_MPP_SHIFT
    mstatus |= MSTATUS_SUM if case.sum else 0
    mstatus |= MSTATUS_MXR if case.mxr else 0
    if kind != 'exec':
        mstatus |= MSTATUS_MPRV
    store_value = STORE_TAG | n_check << 7
    before = bytes(machine.shadow) if kind == 'write' else None
    res = machine.run(va, KINDS[kind], case.satp, mstatus, store_value)
    if res is None:
        return None, 'the probe did not come back (hang or runaway execution)'
    mcause, mtval, word = res
    page_fault, access_fault = CAUSES[kind]
    if kind == 'exec':
        if mcause == ILLEGAL_INSTRUCTION and word == va:   # fetched the marker at VA, then trapped
            off = identify(machine.shadow, mtval & 0xffffffff)
            if off is None:
                return None, 'fetch succeeded but executed 0x%x, not a marker' % mtval
            return '0x%x' % (RAM_BASE + off), 'fetched marker 0x%08x' % mtval
        if mcause in (page_fault, access_fault):
            if mtval != va or word != va:
                return None, 'fetch fault cause %d with mtval 0x%x mepc 0x%x' % (mcause, mtval, word)
            return ('page-fault' if mcause == page_fault else 'access-fault'), 'mcause %d' % mcause
        return None, 'fetch ended with mcause %d mtval 0x%x mepc 0x%x' % (mcause & U64, mtval, word)
    if mcause == U64:                               # no trap: the access succeeded
        if kind == 'read':
            off = identify(machine.shadow, word & 0xffffffff)
            if off is None:
                return None, 'load returned 0x%x, not an identifiable word' % (word & 0xffffffff)
            return '0x%x' % (RAM_BASE + off), 'loaded 0x%08x' % (word & 0xffffffff)
        now = machine.dump()
        needle = store_value.to_bytes(4, 'little')
        hits, i = [], now.find(needle)
        while i >= 0:
            if i % 4 == 0 and before[i:i + 4] != needle:
                hits.append(i)
            i = now.find(needle, i + 1)
        machine.shadow = bytearray(now)
        if len(hits) != 1:
            return None, 'store succeeded but its value is in RAM %d times' % len(hits)
        return '0x%x' % (RAM_BASE + hits[0]), 'stored 0x%08x found there' % store_value
    if mcause in (page_fault, access_fault) and mtval == va:
        return ('page-fault' if mcause == page_fault else 'access-fault'), 'mcause %d' % mcause
    return None, '%s ended with mcause %d mtval 0x%x' % (kind, mcause, mtval)


class Session:
    """Keeps one QEMU for as long as the RAM size stays the same (machines
    without a RAM size, like the x86-64 one, are kept for the whole run)."""

    def __init__(self, make_machine, qemu, workdir):
        self.make_machine, self.qemu, self.workdir = make_machine, qemu, workdir
        self.m = None

    def machine(self, ram_size=None):
        if self.m is not None and getattr(self.m, 'ram_size', ram_size) != ram_size:
            self.close()
        if self.m is None:
            self.m = self.make_machine(self.qemu, ram_size, self.workdir)
        return self.m

    def close(self):
        if self.m is not None:
            self.m.close()
            self.m = None


def run_answerer(prog, arch, default_qemu, answer_file, make_machine, extra_stats=None,
                 verdict=None):
    """The command line of every qemu_answer*.py: answer each file with
    answer_file(path, out_path, session, stats), restart QEMU after a QEMU
    or OS error, print a summary. verdict(stats) -> (text, failed) adds an
    architecture's own line to the summary and its own failure. Returns the
    exit status: 1 if a case was refused or a check left unanswered."""
    ap = argparse.ArgumentParser(description='Answer the check lines of %s.vmc cases with QEMU.' % arch)
    ap.add_argument('files', nargs='+')
    ap.add_argument('--out', default='.', help='directory for the answered files')
    ap.add_argument('--qemu', default=default_qemu)
    ap.add_argument('-q', '--quiet', action='store_true')
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    workdir = '/dev/shm' if os.path.isdir('/dev/shm') and os.access('/dev/shm', os.W_OK) else None
    stats = {'checks': 0, 'unanswered': 0}
    stats.update(extra_stats or {})
    session = Session(make_machine, args.qemu, workdir)
    t0 = time.monotonic()
    bad = 0
    try:
        for path in args.files:
            out_path = os.path.join(args.out, os.path.basename(path))
            try:
                answer_file(path, out_path, session, stats)
            except CaseError as e:
                print('%s: %s' % (prog, e), file=sys.stderr)
                bad += 1
            except (QemuError, OSError) as e:
                print('%s: %s: %s (restarting QEMU)' % (prog, path, e), file=sys.stderr)
                session.close()
                bad += 1
    finally:
        session.close()
    dt = time.monotonic() - t0
    n = len(args.files)
    extra, failed = verdict(stats) if verdict else ('', False)
    if not args.quiet or bad or stats['unanswered'] or failed:
        print('%s: %d cases, %d checks, %d unanswered, %d cases refused, %.1f s '
              '(%.1f cases/s, %.0f checks/s)%s' % (prog, n, stats['checks'], stats['unanswered'], bad, dt,
                                                    n / dt if dt else 0, stats['checks'] / dt if dt else 0,
                                                    extra))
    return 1 if bad or stats['unanswered'] or failed else 0


def main():
    return run_answerer('qemu_answer', '', 'qemu-system-riscv64', answer_file,
                        lambda qemu, ram_size, workdir: Machine(qemu, ram_size, workdir))


if __name__ == '__main__':
    sys.exit(main())

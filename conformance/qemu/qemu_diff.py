#!/usr/bin/env python3
"""qemu_diff.py - generate cases, answer them with QEMU, replay them on vmmem,
and classify every disagreement. ci/qemu-diff.sh builds the tools and calls this.

Usage: qemu_diff.py --gen VMMEM_GEN --conform VMMEM_CONFORM [--arch riscv|arm64|x86_64]
                    [--count N] [--seed S] [--checks K] [--work DIR] [--keep DIR]

Steps: `vmmem-gen --arch A` writes N cases with `check` lines (its per-rule
counts are printed); the architecture's answerer (qemu_answer.py for RISC-V,
qemu_answer_arm64.py for Arm64, qemu_answer_x86_64.py - the debug
translation - for x86-64) answers them with QEMU; `vmmem-conform` replays the
answered files on vmmem's core and reference model. Every line where vmmem
and QEMU disagree is printed on one line with its class:

* a KNOWN QEMU DEVIATION (the DEVIATIONS table below, documented with its spec
  clause in conformance/QEMU.md): QEMU's answer is not the spec's, vmmem's
  core and reference give the spec's;
* a VMMEM BUG: the core and the reference differ (the reference is written
  from the spec text; conformance/README.md);
* UNCLASSIFIED: core and reference agree with each other but not with QEMU,
  and no known deviation explains it. Someone must read the spec: either QEMU
  deviates in a new way (add it to DEVIATIONS and QEMU.md with the clause) or
  vmmem's core and reference share a misreading (a vmmem bug).

Exit status 0 iff every disagreement is a known QEMU deviation and every check
was answered. Disagreeing answered cases that are not known deviations are
copied to --keep (default WORK/keep) for the report.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))

# Each known deviation, per architecture: an id, its spec clause, and a test
# on one mismatch (QEMU's answer, core's, reference's, and the runner's report
# text). conformance/QEMU.md documents each one.
DEVIATIONS = {
    'riscv': [
        {
            'id': 'QEMU-RV-1',
            'title': 'a PTE read from an address with no RAM (or device) is a page fault, not an access fault',
            'clause': 'Priv. spec, Virtual Address Translation Process, step 2: "If accessing pte violates '
                      'a PMA or PMP check, raise an access-fault exception corresponding to the original '
                      'access type."',
            'match': lambda m: (m['qemu'] == 'page-fault' and m['ref'] == 'access-fault' and
                                m['core'] == 'access-fault' and
                                'step 2: PTE address outside RAM' in m['report']),
        },
    ],
    'x86_64': [
        {
            'id': 'QEMU-X86-1',
            'title': 'the #PF error code of a reserved-bit fault has RSVD (bit 3) set and P (bit 0) clear',
            'clause': 'SDM Vol. 3A 4.7, Page-Fault Exceptions: RSVD flag (bit 3) "... (Because reserved bits '
                      'are not checked in a paging-structure entry whose P flag is 0, bit 3 of the error code '
                      'can be set only if bit 0 is also set.)"',
            'match': lambda m: (pfec(m['qemu']) is not None and pfec(m['core']) is not None and
                                m['core'].split(' level')[0] == m['ref'].split(' level')[0] and
                                pfec(m['qemu']) & 9 == 8 and pfec(m['core']) == pfec(m['qemu']) | 1),
        },
    ],
    'arm64': [
        {
            'id': 'QEMU-ARM-1',
            'title': 'a block descriptor at a level the granule does not allow is used as a block, '
                     'not a Translation fault (4KB level 0, 16KB levels 0-1, 64KB level 1)',
            'clause': 'Arm ARM D8.3 (D5.3 in v8 editions), block descriptors: with the 4KB granule only at '
                      'levels 1 and 2, with 16KB and 64KB only at level 2 (level 0/1 only with 52-bit '
                      'addresses: TCR.DS or FEAT_LPA); pseudocode AArch64.TranslationTableWalk: '
                      'desc<1:0> = 01 below firstblocklevel is a Translation fault',
            'match': lambda m: (m['core'].startswith('translation-fault') and
                                m['ref'].startswith('translation-fault') and
                                'block descriptor at a level the granule does not allow' in m['report']),
        },
        {
            'id': 'QEMU-ARM-2',
            'title': '64KB granule, no 52-bit PA: a descriptor with bits[15:12] set is used with those bits '
                     'ignored, not an Address size fault',
            'clause': 'Arm ARM pseudocode AArch64.TranslationTableWalk: "if (outputsize < 52 && largegrain && '
                      '!IsZero(desc<15:12>)) ... AArch64.AddressSizeFault" (bits[15:12] are OA[51:48] of the '
                      '64KB-granule descriptor formats)',
            'match': lambda m: (m['core'].startswith('address-size-fault') and
                                m['ref'].startswith('address-size-fault') and
                                'bits 15:12 set with the 64KB granule' in m['report']),
        },
    ],
}

def pfec(answer):
    """The error code of an x86 `page-fault pfec V ...` answer, or None."""
    tok = answer.split()
    if len(tok) >= 3 and tok[0] == 'page-fault' and tok[1] == 'pfec':
        return int(tok[2].rstrip(','), 16)
    return None


# Per architecture: the answerer, the QEMU binary, the prefix of frozen cases.
ARCHES = {
    'riscv': ('qemu_answer.py', 'qemu-system-riscv64', 'qemu-seed'),
    'arm64': ('qemu_answer_arm64.py', 'qemu-system-aarch64', 'qemu-arm64-seed'),
    'x86_64': ('qemu_answer_x86_64.py', 'qemu-system-x86_64', 'qemu-x86-seed'),
}

MISMATCH = re.compile(r'^(?P<file>[^:\s]+\.vmc):(?P<line>\d+): expected (?P<qemu>.+?), core (?P<core>.+?), '
                      r'reference (?P<ref>[^:]+?)(?:: .*)?$')


def parse_mismatches(output):
    """Split vmmem-conform's report into mismatches (first line + indented lines)."""
    out = []
    for line in output.splitlines():
        m = MISMATCH.match(line)
        if m:
            d = m.groupdict()
            # vmmem-conform may append a bracketed verdict to the reference's
            # answer ("[the case is wrong: ...]"): the answer is the text before.
            d['ref'] = re.sub(r'\s*\[.*$', '', d['ref'])
            d['report'] = line
            out.append(d)
        elif out and line.startswith('  '):
            out[-1]['report'] += '\n' + line
    return out


def count_answers(answered_dir):
    """(access checks, r64 words) written by the answerer."""
    checks = words = 0
    for name in os.listdir(answered_dir):
        with open(os.path.join(answered_dir, name)) as f:
            for line in f:
                if line.startswith('expect ') and '# qemu:' in line:
                    checks += 1
                elif line.startswith('expect r64 '):
                    words += 1
    return checks, words


def source_line(path, lineno):
    with open(path) as f:
        for n, line in enumerate(f, 1):
            if n == lineno:
                return line.strip()
    return ''


def freeze(files, deviating, out_dir, seed, prefix):
    """Keep QEMU-answered cases as regression cases that need no QEMU."""
    os.makedirs(out_dir, exist_ok=True)
    for path in files:
        with open(path) as f:
            lines = f.read().splitlines()
        for n, line in enumerate(lines, 1):
            if (path, n) in deviating:
                dev, qemu, spec = deviating[(path, n)]
                head = line.split('->', 1)[0].rstrip()
                lines[n - 1] = ('%s -> %s    # the spec; QEMU 7.2 answered %s: deviation %s '
                                '(conformance/QEMU.md)' % (head, spec, qemu, dev))
        lines.insert(0, '# Answered by QEMU 7.2 (ci/qemu-diff.sh --seed %d), frozen by qemu_diff.py --freeze.'
                     % seed)
        name = '%s%d-%s' % (prefix, seed, os.path.basename(path))
        with open(os.path.join(out_dir, name), 'w') as f:
            f.write('\n'.join(lines) + '\n')
    print('froze %d answered cases into %s' % (len(files), out_dir))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--gen', required=True)
    ap.add_argument('--conform', required=True)
    ap.add_argument('--count', type=int, default=1000)
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--checks', type=int, default=8)
    ap.add_argument('--work', default='build/qemu-diff-work')
    ap.add_argument('--keep', default=None)
    ap.add_argument('--arch', choices=sorted(ARCHES), default='riscv')
    ap.add_argument('--qemu', default=None, help='the QEMU binary (default: per --arch)')
    ap.add_argument('--freeze', metavar='DIR', help='copy the first --freeze-count answered cases '
                    'to DIR, each known-deviation line replaced by the spec answer with a comment')
    ap.add_argument('--freeze-count', type=int, default=20)
    args = ap.parse_args()
    answerer, default_qemu, freeze_prefix = ARCHES[args.arch]
    qemu = args.qemu or default_qemu
    deviations = DEVIATIONS[args.arch]

    cases = os.path.join(args.work, 'cases')
    answered = os.path.join(args.work, 'answered')
    keep = args.keep or os.path.join(args.work, 'keep')
    for d in (cases, answered, keep):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(cases)
    os.makedirs(answered)

    print('==== vmmem-gen --arch %s --seed %d --count %d --checks %d' % (args.arch, args.seed, args.count,
                                                                       args.checks))
    sys.stdout.flush()
    subprocess.run([args.gen, '--arch', args.arch, '--seed', str(args.seed), '--count', str(args.count),
                    '--checks', str(args.checks), '--out', cases], check=True)

    print('\n==== QEMU answers (%s)' % qemu)
    sys.stdout.flush()
    files = sorted(os.path.join(cases, f) for f in os.listdir(cases) if f.endswith('.vmc'))
    t0 = time.monotonic()
    ans = subprocess.run([sys.executable, os.path.join(HERE, answerer), '--qemu', qemu,
                          '--out', answered] + files)
    answer_time = time.monotonic() - t0
    answered_files = sorted(os.path.join(answered, f) for f in os.listdir(answered))
    n_checks, n_words = count_answers(answered)

    print('\n==== vmmem (core and reference) replays the answered cases')
    sys.stdout.flush()
    rep = subprocess.run([args.conform] + answered_files, capture_output=True, text=True)
    if rep.returncode == 2 and args.arch == 'x86_64' and 'x86_64' in rep.stdout + rep.stderr:
        # vmmem-conform without its x86-64 part: only the answerer's own check
        # (QEMU vs the generator's construction) has run.
        print((rep.stderr + rep.stdout).strip().splitlines()[0])
        print('\n==== summary')
        print('checks agreeing: pending (this vmmem-conform cannot replay x86-64 cases: the x86 runner '
              'has not landed); QEMU answered %d checks of %d cases in %.1f s' %
              (n_checks, len(answered_files), answer_time))
        ok = ans.returncode == 0 and len(answered_files) == len(files)
        print('qemu-diff: %s' % ('QEMU answered every check as the generator built it; vmmem replay pending'
                                 if ok else 'FAILED'))
        return 0 if ok else 1
    if rep.returncode not in (0, 1):
        print(rep.stdout + rep.stderr)
        print('qemu-diff: vmmem-conform refused the answered cases (exit %d)' % rep.returncode)
        return 1
    mismatches = parse_mismatches(rep.stdout)

    classes = {d['id']: 0 for d in deviations}
    deviating = {}                      # (file, line) -> (deviation id, QEMU's answer, spec's answer)
    bugs, unclassified = [], []
    check_fail = word_fail = 0
    for m in mismatches:
        is_word = source_line(m['file'], int(m['line'])).startswith('expect r64')
        if is_word:
            word_fail += 1
        else:
            check_fail += 1
        dev = next((d for d in deviations if not is_word and d['match'](m)), None)
        src = source_line(m['file'], int(m['line'])).split('#', 1)[0].strip()
        where = '%s:%s' % (os.path.basename(m['file']), m['line'])
        if dev:
            classes[dev['id']] += 1
            deviating[(m['file'], int(m['line']))] = (dev['id'], m['qemu'], m['ref'])
            cls = 'QEMU deviation %s' % dev['id']
        elif m['core'] != m['ref']:
            bugs.append(m)
            cls = 'VMMEM BUG (core differs from the reference)'
        else:
            unclassified.append(m)
            cls = 'UNCLASSIFIED (core and reference agree, QEMU differs)'
        print('  %-16s %-60s qemu %-14s core %-14s ref %-14s %s' %
              (where, src[:60], m['qemu'], m['core'], m['ref'], cls))
        if not dev:
            os.makedirs(keep, exist_ok=True)
            shutil.copy(m['file'], keep)
            print('\n'.join('      ' + l for l in m['report'].splitlines()[1:]))

    if args.freeze:
        freeze(answered_files[:args.freeze_count], deviating, args.freeze, args.seed, freeze_prefix)

    print('\n==== summary')
    print('checks agreeing: %d / %d (%.2f %%)' % (n_checks - check_fail, n_checks,
                                                  100.0 * (n_checks - check_fail) / max(n_checks, 1)))
    print('PTE words (A/D) agreeing: %d / %d' % (n_words - word_fail, n_words))
    for d in deviations:
        print('  %5d  %s: QEMU 7.2 deviation: %s\n         %s' % (classes[d['id']], d['id'], d['title'],
                                                               d['clause']))
    print('  %5d  vmmem bugs (core differs from the reference)' % len(bugs))
    print('  %5d  unclassified (kept in %s)' % (len(unclassified), keep))
    print('QEMU answered %d cases in %.1f s: %.1f cases/s, %.0f checks/s' %
          (len(answered_files), answer_time, len(answered_files) / answer_time if answer_time else 0,
           n_checks / answer_time if answer_time else 0))
    ok = ans.returncode == 0 and not bugs and not unclassified and len(answered_files) == len(files)
    print('qemu-diff: %s' % ('every disagreement is a documented QEMU deviation' if ok else 'FAILED'))
    return 0 if ok else 1


if __name__ == '__main__':
    sys.exit(main())

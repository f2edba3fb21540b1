#!/usr/bin/env python3
"""ci/vmc-shrink.py - shrink a failing .vmc case to a minimal one (delta debugging).

    ci/vmc-shrink.py --conform PATH/vmmem-conform IN.vmc -o OUT.vmc

IN.vmc fails under vmmem-conform (exit 1), typically the scenario of a fuzz
finding written by `<t>_replay --vmc`. The script removes lines while the
SAME failure remains: the first expectation vmmem-conform reports failed is
the same line (its text, whitespace aside) with the same kind of message
(the report with every number replaced by '#': "expected 0x#, core
page-fault, reference 0x#" is one kind, "the core walked ... but its answer
is not the fresh walk's" another). A failure at the end of the file (the
final RAM compare, a device's destroy count) is the line "end". Exit 1 on
another line, a malformed candidate (exit 2) or a crash do not count, nor
does a candidate where the reference itself contradicts the failing line
(vmmem-conform marks that "[the case is wrong ...]": removing the lines that
made an expectation true must not pass for the same core failure).

How it works: ddmin (Zeller and Hildebrandt, "Simplifying and Isolating
Failure-Inducing Input", 2002) over the lines that are not comments: split
into n chunks, keep a chunk or a chunk's complement that still fails the
same way, else double n; the result is 1-minimal (removing any single line
loses the failure), which also removes every removable group tried on the
way. Lines after the first failing one are dropped first (they cannot
matter). Candidates are written to a scratch directory and run in batches
through one vmmem-conform process each (it runs many files and reports
each failure as "file:line: ..."), which is several times faster than one
process per candidate; the first passing candidate of a batch, in ddmin's
order, is taken, so the result is the one sequential ddmin gives. Results
are cached by line set.

Exit status: 0 and OUT.vmc written; 1 if IN.vmc does not fail (or only
malformed); 2 on a usage error. Python 3 standard library only.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

BATCH = 16
REPORT = re.compile(r'^(?P<path>[^:\n]+):(?P<line>\d+|end): (?P<msg>.*)$')
NUMBER = re.compile(r'0x[0-9a-fA-F]+|\b\d+\b')


def content(line):
    """The line without its comment, whitespace normalised ('' if none)."""
    return ' '.join(line.split('#', 1)[0].split())


class Runner:
    def __init__(self, conform, workdir, timeout):
        self.conform = conform
        self.workdir = workdir
        self.timeout = timeout
        self.runs = 0
        self.files = 0
        self.cache = {}

    def first_failures(self, cases, raw=None):
        """Run every case (a list of lines); return per case None (passed,
        malformed or crashed) or (line text, message kind). raw, a list,
        receives each first failure's message as printed."""
        paths = []
        for k, lines in enumerate(cases):
            p = os.path.join(self.workdir, 'c%d.vmc' % k)
            with open(p, 'w') as f:
                f.write('\n'.join(lines) + '\n')
            paths.append(p)
        env = dict(os.environ)
        env.setdefault('ASAN_OPTIONS', 'detect_leaks=0')
        self.runs += 1
        self.files += len(paths)
        try:
            r = subprocess.run([self.conform] + paths, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, timeout=self.timeout, env=env,
                               errors='replace')
        except subprocess.TimeoutExpired:
            r = None
        if r is None or r.returncode not in (0, 1, 2) or 'vmmem-conform:' not in r.stdout:
            # a crash or a hang takes the whole batch down: run them one by one
            if len(cases) == 1:
                return [None]
            return [self.first_failures([c])[0] for c in cases]
        malformed = set()
        for line in r.stderr.splitlines():
            m = REPORT.match(line)
            if m:
                malformed.add(m.group('path'))
        first = {}
        for line in r.stdout.splitlines():
            m = REPORT.match(line)
            if m and m.group('path') not in first:
                first[m.group('path')] = (m.group('line'), m.group('msg'))
        out = []
        for p, lines in zip(paths, cases):
            if p in malformed or p not in first:
                out.append(None)
                continue
            where, msg = first[p]
            text = 'end' if where == 'end' else content(lines[int(where) - 1])
            out.append((text, NUMBER.sub('#', msg)))
            if raw is not None:
                raw.append(msg)
        return out

    def interesting(self, candidates, signature, render):
        """Index of the first candidate (a tuple of line indices) that fails
        with signature, or None; batches of BATCH per vmmem-conform run."""
        for start in range(0, len(candidates), BATCH):
            group = candidates[start:start + BATCH]
            todo = [c for c in group if c not in self.cache]
            if todo:
                for c, res in zip(todo, self.first_failures([render(c) for c in todo])):
                    self.cache[c] = res == signature
            for k, c in enumerate(group):
                if self.cache[c]:
                    return start + k
        return None


def split(items, n):
    size, extra = divmod(len(items), n)
    out, pos = [], 0
    for k in range(n):
        step = size + (1 if k < extra else 0)
        out.append(items[pos:pos + step])
        pos += step
    return [c for c in out if c]


def ddmin(items, runner, signature, render):
    n = 2
    while len(items) >= 2:
        chunks = split(items, n)
        cands = [tuple(c) for c in chunks]
        if len(chunks) > 2:
            cands += [tuple(x for x in items if x not in set(c)) for c in chunks]
        k = runner.interesting(cands, signature, render)
        if k is not None:
            items = list(cands[k])
            n = 2 if k < len(chunks) else max(n - 1, 2)
            continue
        if n >= len(items):
            break
        n = min(n * 2, len(items))
    return items


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--conform', required=True, help='the vmmem-conform executable')
    ap.add_argument('input')
    ap.add_argument('-o', '--output', required=True)
    ap.add_argument('--timeout', type=float, default=120, help='seconds per vmmem-conform run')
    ap.add_argument('-q', '--quiet', action='store_true')
    args = ap.parse_args()

    with open(args.input) as f:
        raw = f.read().splitlines()
    header = []
    for line in raw:
        if line.startswith('#') or not line.strip():
            header.append(line)
        else:
            break
    oracle_notes = [l for l in raw if l.startswith('# ^')]
    lines = [content(l) for l in raw if content(l)]

    work = tempfile.mkdtemp(prefix='vmc-shrink-')
    try:
        runner = Runner(args.conform, work, args.timeout)
        sig = runner.first_failures([lines])[0]
        if sig is None:
            print('vmc-shrink: %s does not fail under vmmem-conform (or is malformed)'
                  % args.input, file=sys.stderr)
            return 1
        if '[the case is wrong' in sig[1]:
            # the reference contradicts the case itself: shrinking it would
            # keep a wrong expectation, not a core failure
            print('vmc-shrink: %s: the reference disagrees with the case at "%s": %s'
                  % (args.input, sig[0], sig[1]), file=sys.stderr)
            return 1
        if sig[0] != 'end':   # lines after the first failing one cannot matter
            upto = next(k for k, l in enumerate(lines) if l == sig[0])
            cut = tuple(range(upto + 1))
            if runner.interesting([cut], sig, lambda c: [lines[i] for i in c]) == 0:
                lines = lines[:upto + 1]
        render = lambda c: [lines[i] for i in c]
        keep = ddmin(list(range(len(lines))), runner, sig, render)
        final = render(keep)
        message = []
        if runner.first_failures([final], message)[0] != sig:
            print('vmc-shrink: internal error: the result does not fail the same way',
                  file=sys.stderr)
            return 1
    finally:
        shutil.rmtree(work, ignore_errors=True)

    with open(args.output, 'w') as f:
        for h in header:
            f.write(h + '\n')
        f.write('# Shrunk by ci/vmc-shrink.py from %s (%d lines -> %d): removing any line\n'
                '# loses the failure. vmmem-conform fails at "%s":\n#   %s\n'
                % (os.path.basename(args.input), len([c for c in raw if content(c)]), len(final),
                   sig[0], message[0]))
        for line in final:
            f.write(line + '\n')
        for note in oracle_notes:
            f.write(note + '\n')
    if not args.quiet:
        print('vmc-shrink: %s: %d -> %d lines (%d runs of vmmem-conform, %d candidates)'
              % (args.output, len([c for c in raw if content(c)]), len(final), runner.runs,
                 runner.files))
    return 0


if __name__ == '__main__':
    sys.exit(main())

#!/usr/bin/env python3
"""Input format versions of the fuzz targets: the check and its chores.

Why: a fuzz input is a byte string that only the target's decoder gives a
meaning (config header, op table, value pools). When the decoder changes,
the files in corpus/<t>/ silently mean something else: seeds stop testing
the rule they were written for and crash-* regression inputs stop
reproducing anything. So every target declares the version of its encoding
(`const unsigned fuzz_format_version` in fuzz/<t>.c, printed by
`<t>_replay --format-version`), and

  * corpus/<t>/.format names the version the corpus was made with
    (a dot file: the replay runner, afl-fuzz and ci/fuzz.sh --merge skip
    it, so it is never taken for an input);
  * fuzz/golden/<t>/<name>.in are a few committed inputs and
    fuzz/golden/<t>/<name>.trace what they decode to: the decode view of
    `VMMEM_FUZZ_TRACE=1 <t>_replay <name>.in` (see decode_view), headed by
    the version it was recorded with. A decoder change shows up there even
    when nobody remembered to bump the version.

Commands:
  input_format.py check --target T --replay EXE [--root DIR]
      the ctest `input_format_<T>`: fails (exit 1) when T declares no
      version, when corpus/T/.format differs from it, when a golden input
      decodes differently from its .trace, or when a .trace was recorded
      with another version; every message says what to do.
  input_format.py refresh --build BUILD [T...]
      rewrite fuzz/golden/<T>/*.trace from the replay executables in
      BUILD/fuzz (all targets with golden inputs when none is named).
  input_format.py stamp --build BUILD T...
      write corpus/<T>/.format = the version T declares. Only after the
      corpus was regenerated in that version (fuzz/README.md).

The decode view keeps what the decoder decided and drops what the code
under test or the oracle answered, so a fixed bug or a stricter oracle does
not look like an encoding change: the header lines (config, scenario) and
every op line ("  #N ..."), each without its "  -> result" suffix; the
indented result lines, device-call logs and the final register dump are
dropped.

Rejected: a format version byte at the start of every input (it would cost
a byte of every input the fuzzer mutates, and a fuzzer that flips it makes
inputs the decoder must reject, i.e. wasted executions); comparing hashes
of the decoder sources (every comment edit would look like a format
change, and shared headers would need hand-kept lists).
"""
import argparse
import os
import subprocess
import sys

HEADER = "# input format version "


def repo_root():
    return os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def declared_version(exe):
    """The version the replay executable declares, or None with a message."""
    p = subprocess.run([exe, "--format-version"], capture_output=True, text=True)
    if p.returncode != 0:
        return None, (p.stderr.strip() or "%s --format-version failed" % exe)
    try:
        return int(p.stdout.strip()), None
    except ValueError:
        return None, "%s --format-version printed %r" % (exe, p.stdout)


def decode_view(text):
    """The lines of a VMMEM_FUZZ_TRACE=1 trace that say what the input means."""
    out = []
    for line in text.splitlines():
        if line.startswith("registers:"):
            continue  # final register state: the oracle's verdicts
        if line.startswith("replay") or line.startswith("=="):
            continue  # the runner's own lines; sanitizer noise
        if line[:1] not in ("", " ") or line.startswith("  #"):
            cut = line.find("  -> ")
            out.append((line[:cut] if cut >= 0 else line).rstrip())
    return out


def trace_of(exe, path):
    """(decode view, None) or (None, failure text) for one input."""
    env = dict(os.environ, VMMEM_FUZZ_TRACE="1")
    p = subprocess.run([exe, path], capture_output=True, text=True, env=env)
    if p.returncode != 0:
        tail = "\n".join(p.stderr.splitlines()[-40:])
        return None, "%s %s failed (exit %d):\n%s" % (exe, path, p.returncode, tail)
    return decode_view(p.stderr), None


def golden_inputs(root, target):
    d = os.path.join(root, "fuzz", "golden", target)
    if not os.path.isdir(d):
        return d, []
    return d, sorted(os.path.join(d, n) for n in os.listdir(d) if n.endswith(".in"))


def read_trace(path):
    """(version, lines) of a recorded .trace; version None if unreadable."""
    try:
        with open(path) as f:
            lines = f.read().splitlines()
    except OSError:
        return None, None
    if not lines or not lines[0].startswith(HEADER):
        return None, lines
    try:
        version = int(lines[0][len(HEADER):].split()[0])
    except (ValueError, IndexError):
        version = None
    return version, lines[1:]


def first_difference(want, got):
    for i in range(max(len(want), len(got))):
        a = want[i] if i < len(want) else "(end of trace)"
        b = got[i] if i < len(got) else "(end of trace)"
        if a != b:
            return "line %d:\n    recorded: %s\n    now:      %s" % (i + 1, a, b)
    return ""


def check(args):
    root = args.root or repo_root()
    t = args.target
    build = os.path.dirname(os.path.dirname(os.path.abspath(args.replay)))
    rel_build = os.path.relpath(build, root) if build.startswith(os.path.abspath(root) + os.sep) \
        else build
    refresh = "python3 fuzz/input_format.py refresh --build %s %s" % (rel_build, t)
    stamp = "python3 fuzz/input_format.py stamp --build %s %s" % (rel_build, t)
    howto = ("bump fuzz_format_version in fuzz/%s.c, `%s`, regenerate corpus/%s/ in the new "
             "format and `%s` (fuzz/README.md, \"Input format versions\")"
             % (t, refresh, t, stamp))
    problems = []

    version, err = declared_version(args.replay)
    if version is None:
        print("%s: %s\n  declare `const unsigned fuzz_format_version = 1;` in fuzz/%s.c, "
              "add golden inputs and record them (%s)" % (t, err, t, howto))
        return 1

    fmt_path = os.path.join(root, "corpus", t, ".format")
    try:
        with open(fmt_path) as f:
            corpus_version = int(f.read().strip())
    except (OSError, ValueError):
        corpus_version = None
    if corpus_version is None:
        problems.append("corpus/%s/.format is missing or unreadable: once every file in corpus/%s/ "
                        "was made for format %d, `%s`" % (t, t, version, stamp))
    elif corpus_version != version:
        problems.append(
            "corpus/%s/ was made for format %d but the target decodes format %d: its files mean "
            "something else now. Regenerate it in format %d (fuzz/README.md, \"Input format "
            "versions\": seed generator, old cov-* dropped, crash-* kept as .vmc cases, "
            "ci/fuzz.sh --merge), then `%s`" % (t, corpus_version, version, version, stamp))

    gdir, inputs = golden_inputs(root, t)
    if not inputs:
        problems.append("no golden inputs in %s: put a few inputs there as <name>.in "
                        "(seeds and random bytes that reach many decoder cases), then `%s`"
                        % (os.path.relpath(gdir, root), refresh))
    for path in inputs:
        name = os.path.relpath(path, root)
        rec_version, want = read_trace(path[:-3] + ".trace")
        got, err = trace_of(args.replay, path)
        if got is None:
            problems.append(err)
            continue
        if want is None:
            problems.append("%s has no recorded trace: `%s`" % (name, refresh))
        elif rec_version is None:
            problems.append("%s.trace lacks its '%sN' header: `%s`" % (name[:-3], HEADER, refresh))
        elif got != want and rec_version == version:
            problems.append(
                "%s decodes differently from its recorded trace, but the target still declares "
                "format %d: the encoding changed without a version bump (if only the trace's "
                "wording changed, not what the bytes mean, just refresh). First difference at %s\n"
                "  %s" % (name, version, first_difference(want, got), howto))
        elif rec_version != version:
            problems.append("%s.trace was recorded with format %d, the target declares %d: "
                            "`%s`" % (name[:-3], rec_version, version, refresh))
    if problems:
        print("%s: input format check failed:" % t)
        for p in problems:
            print("  - " + p)
        return 1
    print("%s: input format %d; corpus/%s/.format agrees; %d golden input(s) decode as recorded"
          % (t, version, t, len(inputs)))
    return 0


def replay_exe(build, t):
    exe = os.path.join(build, "fuzz", t + "_replay")
    if not os.access(exe, os.X_OK):
        sys.exit("no %s: build the replay executables first (ninja -C %s)" % (exe, build))
    return exe


def refresh(args):
    root = repo_root()
    targets = args.targets or sorted(
        n for n in os.listdir(os.path.join(root, "fuzz", "golden"))
        if os.path.isdir(os.path.join(root, "fuzz", "golden", n)))
    status = 0
    for t in targets:
        exe = replay_exe(args.build, t)
        version, err = declared_version(exe)
        if version is None:
            sys.exit("%s: %s" % (t, err))
        _, inputs = golden_inputs(root, t)
        if not inputs:
            print("%s: no golden inputs (fuzz/golden/%s/*.in)" % (t, t))
            status = 1
        for path in inputs:
            got, err = trace_of(exe, path)
            if got is None:
                sys.exit(err)
            with open(path[:-3] + ".trace", "w") as f:
                f.write("%s%d of %s (decode view of VMMEM_FUZZ_TRACE=1 %s_replay %s)\n"
                        % (HEADER, version, t, t, os.path.basename(path)))
                f.write("".join(line + "\n" for line in got))
            print("%s: %s (%d lines)" % (t, os.path.relpath(path[:-3] + ".trace", root), len(got)))
    return status


def stamp(args):
    root = repo_root()
    for t in args.targets:
        version, err = declared_version(replay_exe(args.build, t))
        if version is None:
            sys.exit("%s: %s" % (t, err))
        d = os.path.join(root, "corpus", t)
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, ".format"), "w") as f:
            f.write("%d\n" % version)
        print("corpus/%s/.format: %d" % (t, version))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--target", required=True)
    c.add_argument("--replay", required=True)
    c.add_argument("--root")
    r = sub.add_parser("refresh")
    r.add_argument("--build", required=True)
    r.add_argument("targets", nargs="*")
    s = sub.add_parser("stamp")
    s.add_argument("--build", required=True)
    s.add_argument("targets", nargs="+")
    args = ap.parse_args()
    return {"check": check, "refresh": refresh, "stamp": stamp}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())

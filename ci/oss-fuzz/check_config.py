#!/usr/bin/env python3
"""ci/oss-fuzz/check_config.py ROOT - check the continuous-fuzzing
configuration: every YAML file parses (PyYAML, python3-yaml from Debian)
and says what the service needs.

  .clusterfuzzlite/project.yaml   language c
  .clusterfuzzlite/Dockerfile     base-builder image, copies the checkout and build.sh
  .clusterfuzzlite/build.sh       runs ci/build.sh
  .github/workflows/cflite_*.yml  together: code-change fuzzing on pull
                                  requests, batch fuzzing on a schedule,
                                  pruning, coverage; every run step's mode
                                  and sanitizer valid and equal to its build
                                  step's sanitizer
  ci/oss-fuzz/project.yaml        OSS-Fuzz fields; sanitizers and engines
                                  ci/oss-fuzz/check-build.sh proves
  ci/oss-fuzz/Dockerfile          clones main_repo; build.sh runs ci/build.sh

Prints one line per check and exits 1 if any fails.
"""
import os
import re
import sys

import yaml

BUILD = "google/clusterfuzzlite/actions/build_fuzzers@v1"
RUN = "google/clusterfuzzlite/actions/run_fuzzers@v1"
CFLITE_SANITIZERS = {"address", "undefined", "memory"}
MODES = {"code-change", "batch", "prune", "coverage"}
# What ci/oss-fuzz/check-build.sh builds and runs here; honggfuzz is not
# packaged for Debian 12, so it is not claimed.
PROVEN_ENGINES = {"libfuzzer", "afl"}
PROVEN_SANITIZERS = {"address", "undefined", "memory"}

checks = []
failures = []


def check(ok, what):
    print("%s  %s" % ("ok  " if ok else "FAIL", what))
    checks.append(what)
    if not ok:
        failures.append(what)


def load(root, rel):
    with open(os.path.join(root, rel)) as f:
        return yaml.safe_load(f)


def read(root, rel):
    with open(os.path.join(root, rel)) as f:
        return f.read()


def triggers(doc):
    # YAML 1.1 (PyYAML) reads the key `on` as the boolean True.
    on = doc.get("on", doc.get(True))
    if isinstance(on, str):
        return {on}
    if isinstance(on, list):
        return set(on)
    return set(on or {})


def expand(value, matrix):
    """A step input, with ${{ matrix.X }} replaced by each matrix value."""
    m = re.fullmatch(r"\$\{\{\s*matrix\.(\w+)\s*\}\}", str(value))
    if m:
        return list(matrix.get(m.group(1), []))
    return [value]


def check_workflows(root):
    wf_dir = os.path.join(root, ".github", "workflows")
    modes_seen = {}
    for name in sorted(os.listdir(wf_dir)):
        if not name.startswith("cflite_") or not name.endswith(".yml"):
            continue
        rel = os.path.join(".github", "workflows", name)
        doc = load(root, rel)
        check(isinstance(doc, dict) and "jobs" in doc, "%s parses, has jobs" % rel)
        on = triggers(doc)
        check(bool(on), "%s has triggers (%s)" % (rel, ", ".join(sorted(map(str, on)))))
        for job_name, job in doc["jobs"].items():
            matrix = job.get("strategy", {}).get("matrix", {})
            steps = job.get("steps", [])
            builds = [s for s in steps if s.get("uses") == BUILD]
            runs = [s for s in steps if s.get("uses") == RUN]
            check(len(builds) == 1, "%s/%s: one build_fuzzers step" % (rel, job_name))
            build_with = builds[0].get("with", {}) if builds else {}
            check(build_with.get("language") == "c", "%s/%s: builds language c" % (rel, job_name))
            build_sans = expand(build_with.get("sanitizer", "address"), matrix)
            for s in runs:
                w = s.get("with", {})
                mode = w.get("mode", "code-change")
                run_sans = expand(w.get("sanitizer", "address"), matrix)
                check(mode in MODES, "%s/%s: mode %s is a ClusterFuzzLite mode" % (rel, job_name, mode))
                check(run_sans == build_sans,
                      "%s/%s: runs with the sanitizer it built (%s)" % (rel, job_name, ", ".join(run_sans)))
                want = {"coverage"} if mode == "coverage" else CFLITE_SANITIZERS
                check(set(run_sans) <= want,
                      "%s/%s: sanitizers %s valid for mode %s" % (rel, job_name, run_sans, mode))
                secs = w.get("fuzz-seconds")
                check(isinstance(secs, int) and secs > 0, "%s/%s: fuzz-seconds %r" % (rel, job_name, secs))
                check("github-token" in w, "%s/%s: passes github-token" % (rel, job_name))
                modes_seen.setdefault(mode, set()).update(on)
                if mode == "code-change":
                    check(secs <= 900, "%s/%s: code-change fuzzing takes minutes (%ss)" % (rel, job_name, secs))
    check(set(modes_seen) == MODES, "workflows cover the modes %s (have %s)" % (sorted(MODES), sorted(modes_seen)))
    check("pull_request" in modes_seen.get("code-change", set()), "code-change fuzzing runs on pull requests")
    for mode in ("batch", "prune", "coverage"):
        check("schedule" in modes_seen.get(mode, set()), "%s runs on a schedule" % mode)


def check_clusterfuzzlite(root):
    doc = load(root, ".clusterfuzzlite/project.yaml")
    check(doc.get("language") == "c", ".clusterfuzzlite/project.yaml: language c")
    docker = read(root, ".clusterfuzzlite/Dockerfile")
    check(re.search(r"^FROM gcr\.io/oss-fuzz-base/base-builder\s*$", docker, re.M) is not None,
          ".clusterfuzzlite/Dockerfile: FROM the OSS-Fuzz base builder")
    check(re.search(r"^COPY \. \$SRC/vmmem\s*$", docker, re.M) is not None,
          ".clusterfuzzlite/Dockerfile: copies the checkout to $SRC/vmmem")
    check(re.search(r"^COPY \.clusterfuzzlite/build\.sh \$SRC/\s*$", docker, re.M) is not None,
          ".clusterfuzzlite/Dockerfile: copies build.sh to $SRC")
    check("ci/build.sh" in read(root, ".clusterfuzzlite/build.sh"), ".clusterfuzzlite/build.sh runs ci/build.sh")


def check_oss_fuzz(root):
    doc = load(root, "ci/oss-fuzz/project.yaml")
    for key in ("homepage", "main_repo", "language", "primary_contact", "sanitizers", "fuzzing_engines"):
        check(key in doc, "ci/oss-fuzz/project.yaml: has %s" % key)
    check(doc.get("language") == "c", "ci/oss-fuzz/project.yaml: language c")
    check(set(doc.get("sanitizers", [])) <= PROVEN_SANITIZERS,
          "ci/oss-fuzz/project.yaml: sanitizers %s all proven by check-build.sh" % doc.get("sanitizers"))
    check(set(doc.get("fuzzing_engines", [])) <= PROVEN_ENGINES,
          "ci/oss-fuzz/project.yaml: engines %s all proven by check-build.sh" % doc.get("fuzzing_engines"))
    check("@" in str(doc.get("primary_contact", "")), "ci/oss-fuzz/project.yaml: primary_contact is an e-mail address")
    docker = read(root, "ci/oss-fuzz/Dockerfile")
    check(re.search(r"^FROM gcr\.io/oss-fuzz-base/base-builder\s*$", docker, re.M) is not None,
          "ci/oss-fuzz/Dockerfile: FROM the OSS-Fuzz base builder")
    clone = re.search(r"git clone (?:--depth \d+ )?(\S+) vmmem", docker)
    check(clone is not None and clone.group(1) == doc.get("main_repo"),
          "ci/oss-fuzz/Dockerfile clones main_repo (%s)" % (clone.group(1) if clone else None))
    check("ci/build.sh" in read(root, "ci/oss-fuzz/build.sh"), "ci/oss-fuzz/build.sh runs ci/build.sh")


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    check_clusterfuzzlite(root)
    check_workflows(root)
    check_oss_fuzz(root)
    print("%d passed, %d failed" % (len(checks) - len(failures), len(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()

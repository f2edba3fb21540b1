#!/bin/bash -eu
# ClusterFuzzLite build: the project's OSS-Fuzz build script does the work
# (every fuzz/fuzz_*.c, seed corpora, dictionaries and options into $OUT).
exec bash "$SRC/vmmem/ci/build.sh"

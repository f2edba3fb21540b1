#!/bin/bash -eu
# OSS-Fuzz build for vmmem: ci/build.sh implements the build contract
# ($CC $CFLAGS $LIB_FUZZING_ENGINE $OUT $SRC $WORK) for every sanitizer and
# engine; ci/oss-fuzz/check-build.sh proves it locally.
exec bash "$SRC/vmmem/ci/build.sh"

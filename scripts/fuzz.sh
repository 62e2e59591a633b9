#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the libFuzzer targets of tests/fuzz (clang, ASan + UBSan) into
# build-fuzz and runs each for a bounded time, starting from a scratch copy
# of its committed seed corpus (tests/fuzz/corpus/<target>, left untouched).
# Fails when any target crashes, leaks, hangs or trips a sanitizer; the
# input that did it is kept in <build dir>/artifacts/.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]    (default: 10, all)
#
# FUZZ_MAX_LEN bounds the input size (default 4096 bytes); FUZZ_ARGS adds
# libFuzzer options (e.g. FUZZ_ARGS=-runs=2000000 with SECONDS large);
# FUZZ_BUILD_DIR builds elsewhere than build-fuzz (a long run keeps its
# binaries while build-fuzz is rebuilt); FUZZ_WORKDIR keeps the grown corpora and the logs there (default: a
# temporary directory, removed at the end).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

secs=${1:-10}
[ $# -gt 0 ] && shift
if [ $# -gt 0 ]; then
  targets=("$@")
else
  targets=()
  for f in tests/fuzz/fuzz_*.c; do
    t=$(basename "$f" .c)
    [ "$t" = fuzz_support ] || targets+=("${t#fuzz_}")
  done
fi

build=${FUZZ_BUILD_DIR:-build-fuzz}
case $build in
/*) ;;
*) build=$root/$build ;;
esac
CC=clang cmake -S . -B "$build" -DDVA_FUZZ=ON -DDVA_BUILD_PLUGIN=OFF \
  -DDVA_BUILD_TESTS=OFF -DDVA_WERROR=ON >/dev/null
# Only the fuzz targets (not the tools and pages the tree also builds).
cmake --build "$build" -j"$(nproc)" --target "${targets[@]/#/fuzz_}" >/dev/null

if [ -n "${FUZZ_WORKDIR:-}" ]; then
  mkdir -p "$FUZZ_WORKDIR"
  scratch=$(cd "$FUZZ_WORKDIR" && pwd)
else
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
fi
artifacts=$build/artifacts
mkdir -p "$artifacts"

failed=0
for t in "${targets[@]}"; do
  case $t in
  userlist | config) dict=tests/fuzz/$t.dict ;;
  *) dict=tests/fuzz/reply.dict ;;
  esac
  mkdir -p "$scratch/$t"
  cp -r "tests/fuzz/corpus/$t/." "$scratch/$t/"
  log=$scratch/$t.log
  # One process at a time (the machine is shared); TMPDIR holds the config
  # target's scratch files.
  # shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
  if (cd "$scratch" && TMPDIR=$scratch "$build/tests/fuzz/fuzz_$t" \
    -max_total_time="$secs" -max_len="${FUZZ_MAX_LEN:-4096}" -timeout=10 \
    -rss_limit_mb=2048 -dict="$root/$dict" -artifact_prefix="$artifacts/$t-" \
    -print_final_stats=1 ${FUZZ_ARGS:-} "$scratch/$t" >"$log" 2>&1); then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -1)
    echo "fuzz_$t: ok, $runs executions in ${secs}s, $cov, corpus $(find "$scratch/$t" -type f | wc -l) inputs"
  else
    echo "fuzz_$t: FAILED (input saved under $artifacts/$t-*):"
    grep -v '^#' "$log" | tail -40
    failed=1
  fi
done
exit $failed

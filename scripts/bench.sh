#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The performance benchmark (issue 5): builds the benchmark programs in
# build-bench/ (RelWithDebInfo, without -Werror) and runs
# tests/bench/bench_quota.py, which starts private Dovecots with 2,000 and
# 10,000 users and prints every figure and ratio. Takes several minutes;
# not part of scripts/test.sh. Extra arguments go to bench_quota.py
# (e.g. --users 2000 --mem-reads 1000).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build-bench >/dev/null
cmake --build build-bench -j2 --target bench_plugin bench_parse dovecot
exec python3 tests/bench/bench_quota.py --build build-bench "$@"

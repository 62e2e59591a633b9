#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The benchmarks: builds the benchmark programs in build-bench/
# (RelWithDebInfo, without -Werror), then
#
#   scripts/bench.sh [ARGS]               tests/bench/bench_quota.py (the
#       figures of issue 5: private Dovecots with 2,000 and 10,000 users;
#       ARGS e.g. --users 2000 --mem-reads 1000)
#   scripts/bench.sh --scale [ARGS]       tests/bench/bench_scale.py (many
#       users, issue 17: 10,000, 50,000 and 100,001 users side by side with
#       `doveadm quota get -A`; ARGS e.g. --users 10000,50000,100001
#       --strace --collectd --generation 2.4 --before OTHER-BUILD)
#
# A --users list with a comma (--users 10000,50000) also means --scale.
# Several minutes to half an hour; not part of scripts/test.sh. As root.
set -euo pipefail
cd "$(dirname "$0")/.."
scale=false
args=()
prev=""
for a in "$@"; do
    if [ "$a" = "--scale" ]; then
        scale=true
        continue
    fi
    if [ "$prev" = "--users" ] && [[ "$a" == *,* ]]; then
        scale=true
    fi
    args+=("$a")
    prev="$a"
done
scripts/install-deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-bench -j2 --target bench_plugin bench_parse dovecot
if $scale; then
    exec python3 tests/bench/bench_scale.py --build build-bench "${args[@]+"${args[@]}"}"
fi
exec python3 tests/bench/bench_quota.py --build build-bench "${args[@]+"${args[@]}"}"

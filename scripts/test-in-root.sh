#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds this tree with -Werror inside a cached Debian root and runs its
# tests there. scripts/test.sh calls it for the Debian release the host is
# not: on Debian 12 a trixie root (gcc 14, OpenSSL 3.5, Dovecot 2.4), on
# Debian 13 a bookworm one.
#
#   scripts/test-in-root.sh [SUITE]      (trixie, the default, or bookworm)
#
# The root is `scripts/debian-root.sh SUITE build` (made once, cached).
# scripts/in-root.sh runs the build in a private mount and PID namespace:
# this tree is bound read-only at /tmp/src, the build directory is
# /tmp/build on a tmpfs inside the root, and nothing stays mounted or
# running afterwards.
#
# The tests see DVA_TEST_GENERATIONS set to the root's native Dovecot
# generation (2.4 on trixie, 2.3 on bookworm), so every real-Dovecot test
# runs against the root's own Dovecot. Which tests run:
#   DVA_ROOT_TESTS=all (default)  ctest -LE system: all but the tests that
#                                 install the .deb, and on trixie but
#                                 test_oldstats and test_e2e_versions, which
#                                 need a real 2.3 (old stats) and run on a
#                                 Debian 12 host;
#   DVA_ROOT_TESTS=unit           ctest -LE integration: the unit, plugin,
#                                 check and doc tests only.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

suite=${1:-trixie}
case $suite in
trixie) generation=2.4 other='^integration\.(test_oldstats|test_e2e_versions)$' ;;
bookworm) generation=2.3 other='' ;;
*) echo "test-in-root.sh: no Dovecot generation known for \"$suite\" (trixie or bookworm)" >&2; exit 2 ;;
esac
case ${DVA_ROOT_TESTS:-all} in
unit) select=(-LE integration) ;;
all) select=(-LE system ${other:+-E "$other"}) ;;
*) echo "test-in-root.sh: DVA_ROOT_TESTS is \"$DVA_ROOT_TESTS\" (unit or all)" >&2; exit 2 ;;
esac

t0=$(date +%s)
root=$(scripts/debian-root.sh "$suite" build)
t1=$(date +%s)
jobs=$(nproc)
echo "test-in-root.sh: Debian $(cat "$root/etc/debian_version") root $root" \
  "(ready in $((t1 - t0)) s); ctest ${select[*]}, DVA_TEST_GENERATIONS=$generation"
rc=0
scripts/in-root.sh --ro-bind "$src:/tmp/src" "$root" \
  env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
  HOME=/root LANG=C.UTF-8 DVA_TEST_GENERATIONS="$generation" \
  bash -c 'set -euo pipefail
    jobs=$1; shift
    cmake -S /tmp/src -B /tmp/build -DDVA_WERROR=ON >/dev/null
    cmake --build /tmp/build -j"$jobs"
    ctest --test-dir /tmp/build --output-on-failure -j"$jobs" "$@"' \
  test-in-root "$jobs" "${select[@]}" || rc=$?
t2=$(date +%s)
echo "test-in-root.sh: Debian $suite: build and tests $((t2 - t1)) s, exit status $rc"
exit "$rc"

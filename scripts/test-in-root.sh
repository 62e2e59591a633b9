#!/usr/bin/env bash
# Builds this tree with -Werror inside a cached Debian root of another
# release and runs its tests there (scripts/test.sh calls it: on Debian 12
# it tests Debian 13, whose native Dovecot is 2.4).
#
#   scripts/test-in-root.sh [SUITE]      (default: trixie)
#
# The root is `scripts/debian-root.sh SUITE build` (made once, cached).
# scripts/in-root.sh runs the build in a private mount and PID namespace:
# this tree is bound read-only at /tmp/src, the build directory is
# /tmp/build on a tmpfs inside the root, and nothing stays mounted or
# running afterwards.
#
# The tests see DVA_TEST_GENERATIONS set to the root's native Dovecot
# generation (2.4 on trixie, 2.3 on bookworm). Which tests run:
#   DVA_ROOT_TESTS=all (default)   ctest -LE system: every test, the
#                                  integration ones against the root's own
#                                  Dovecot (those needing the other
#                                  generation are not registered there);
#   DVA_ROOT_TESTS=unit            ctest -LE integration: the unit, plugin,
#                                  check and doc tests;
#                                  the system tests (they install the .deb)
#                                  never run inside the root.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD

suite=${1:-trixie}
case $suite in
trixie) generation=2.4 ;;
bookworm) generation=2.3 ;;
*) echo "test-in-root.sh: no Dovecot generation known for \"$suite\" (trixie or bookworm)" >&2; exit 2 ;;
esac
case ${DVA_ROOT_TESTS:-all} in
unit) select=(-LE integration) ;;
all) select=(-LE system) ;;
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

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The test command: installs what it needs (Debian 12 or 13), builds with
# -Werror, runs every test (unit, plugin, integration against a real
# Dovecot 2.3 and a real Dovecot 2.4, and a real collectd), then runs them
# again built with ASan + UBSan, then every fuzz target briefly
# (scripts/fuzz.sh), then builds and tests the tree in a Debian root of the
# other release (scripts/test-in-root.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
cmake -S . -B build -DDVA_WERROR=ON
cmake --build build -j"$jobs"
# The real-Dovecot tests run once per generation of DVA_TEST_GENERATIONS
# (default 2.3 and 2.4; a Dovecot of the other Debian release comes from a
# cached Debian root, scripts/debian-root.sh, built on first use). This pass
# includes integration.valgrind_e2e.<generation>: the e2e tests once more
# with collectd under valgrind (any memory error or definite leak fails
# it); ctest runs them beside the other tests.
ctest --test-dir build --output-on-failure -j"$jobs"

cmake -S . -B build-asan -DDVA_WERROR=ON -DDVA_SANITIZE=ON
cmake --build build-asan -j"$jobs"
# collectd itself is not built with ASan, so the end-to-end tests (which
# load dovecot.so into it) run in the first pass only.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
  ctest --test-dir build-asan --output-on-failure -j"$jobs" -LE e2e

# A short fuzzing pass (3 s per target) from the committed corpus:
# catches a regression that crashes on the seeds or on inputs near them.
scripts/fuzz.sh 3

# The other Debian release: the tree built with its compiler and libraries
# inside a cached root of it (scripts/debian-root.sh SUITE build), its tests
# against that root's own Dovecot (Debian 13: 2.4). DVA_ROOT_SUITE picks
# the suite ("none": skip this stage); DVA_ROOT_TESTS=unit runs only the
# tests without a Dovecot there.
case $(. /etc/os-release && echo "${VERSION_CODENAME:-}") in
trixie) other=bookworm ;;
*) other=trixie ;;
esac
other=${DVA_ROOT_SUITE:-$other}
if [ "$other" != none ]; then
  scripts/test-in-root.sh "$other"
fi

#!/usr/bin/env bash
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

# Debian 13 as a build platform: the same tree built with -Werror by gcc 14
# in a cached trixie root, its unit, plugin, check and doc tests run there
# (scripts/test-in-root.sh). On a Debian 13 host the passes above already
# were that; then the root is Debian 12's, so both releases are built.
if grep -q '^VERSION_CODENAME=trixie' /etc/os-release; then
  scripts/test-in-root.sh bookworm
else
  scripts/test-in-root.sh trixie
fi

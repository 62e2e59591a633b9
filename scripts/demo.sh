#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The demo: a real private Dovecot with sample users and mail, a little IMAP
# traffic, and a real collectd reading it through the freshly built
# dovecot.so; the values collectd holds are shown live until Ctrl-C, and
# PNG graphs of the run (collectd's rrdtool plugin + rrdtool graph) are
# drawn when it ends; the last lines say where.
#
#   scripts/demo.sh                  # until Ctrl-C
#   scripts/demo.sh --duration 30    # stops by itself
#   scripts/demo.sh --help           # more options (scripts/demo.py)
#
# Installs missing Debian packages (scripts/install-deps.sh), builds into
# build/, then runs scripts/demo.py as root (Dovecot's master must start as
# root). Everything runs from temporary directories and is stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
cmake -S . -B build
cmake --build build -j"$(nproc)"

if [ "$(id -u)" -eq 0 ]; then
  exec python3 scripts/demo.py --plugin build/plugin/dovecot.so "$@"
else
  exec sudo python3 scripts/demo.py --plugin build/plugin/dovecot.so "$@"
fi

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages that building, testing and the demo need, on
# Debian 12 (bookworm) or 13 (trixie). Runs apt only when something is
# missing; needs root (or sudo) then.
#
# Some names depend on the release and are derived, never written down:
#   - the rrd library (librrd8 on 12, librrd8t64 on 13): what rrdtool
#     depends on;
#   - the libraries of collectd-core's write_prometheus.so (libmicrohttpd12
#     on 12, libmicrohttpd12t64 on 13; libprotobuf-c1): what collectd-core
#     suggests;
#   - the clang runtime (libclang-rt-14-dev on 12, libclang-rt-19-dev on
#     13): libclang-rt-N-dev for the clang-N that the `clang` package
#     depends on.
# They come from the installed package when there is one (dpkg), else from
# the candidate apt would install (apt-cache).
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libconfuse-dev libcmocka-dev          # the library's schema, unit tests
  libssl-dev openssl                    # TLS to doveadm (OpenSSL 3, as Dovecot links); test certificates
  collectd-core collectd-dev collectd-utils  # the daemon, its headers, collectdctl
  dovecot-core dovecot-imapd            # a real Dovecot for integration tests
  python3 valgrind procps iproute2
  man-db                                # the .deb test renders the installed manual pages
  mandoc                                # lints the generated manual pages (doc.man_lint)
  dpkg-dev file                         # cpack -G DEB: dpkg-shlibdeps computes Depends
  prometheus                            # test_e2e_prometheus runs the dashboard's queries
  rrdtool                               # the .deb test reads what stock collectd wrote;
                                        # the demo draws its graphs (rrdtool graph)
  clang                                 # scripts/fuzz.sh: libFuzzer ships with clang
  mmdebstrap                            # scripts/debian-root.sh: Debian roots for the tests
)

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=""
apt_update() {
  [ -n "$updated" ] && return 0
  $sudo apt-get update -qq
  updated=1
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# The FIELD (default Depends) of PACKAGE: the installed one's, else apt's
# candidate's (after an apt-get update when apt knows no candidate yet).
depends_of() {
  local field=${2:-Depends}
  if installed "$1"; then
    dpkg-query -W -f="\${$field}\n" "$1"
    return
  fi
  local d
  d=$(apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$field: //p" | head -n 1)
  if [ -z "$d" ]; then
    apt_update
    d=$(apt-cache show --no-all-versions "$1" 2>/dev/null | sed -n "s/^$field: //p" | head -n 1)
  fi
  [ -n "$d" ] || { echo "install-deps.sh: apt knows no package $1 (or its $field)" >&2; exit 1; }
  echo "$d"
}

# The first package of a Depends field whose name matches the ERE.
first_dep() {
  tr ',|' '\n\n' | sed 's/^[[:space:]]*//; s/[[:space:](].*//' | grep -E -m 1 "^($1)\$" || true
}

# collectd-core's rrdtool.so needs the rrd library (a Recommends only of
# collectd-core): the one rrdtool itself depends on.
rrdlib=$(depends_of rrdtool | first_dep 'librrd[0-9]+[a-z0-9]*')
# libFuzzer's runtime (and the sanitizers') is in libclang-rt-N-dev, which
# clang-N only recommends (through libclang-common-N-dev).
clang_n=$(depends_of clang | first_dep 'clang-[0-9]+')
if [ -z "$rrdlib" ] || [ -z "$clang_n" ]; then
  echo "install-deps.sh: cannot tell the rrd library (${rrdlib:-?}) or clang's version (${clang_n:-?})" >&2
  exit 1
fi
packages+=("$rrdlib" "libclang-rt-${clang_n#clang-}-dev")
# collectd-core's write_prometheus.so (the Prometheus recipe and its test,
# doc/recipes.md) links libmicrohttpd and libprotobuf-c, which collectd-core
# only suggests.
suggests=$(depends_of collectd-core Suggests)
httpdlib=$(echo "$suggests" | first_dep 'libmicrohttpd[0-9]+[a-z0-9]*')
protolib=$(echo "$suggests" | first_dep 'libprotobuf-c[0-9]+[a-z0-9]*')
if [ -z "$httpdlib" ] || [ -z "$protolib" ]; then
  echo "install-deps.sh: cannot tell write_prometheus's libraries (${httpdlib:-?}, ${protolib:-?})" >&2
  exit 1
fi
packages+=("$httpdlib" "$protolib")

missing=()
for p in "${packages[@]}"; do
  installed "$p" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
apt_update
# Packages must not start their system services (a system Dovecot or
# collectd is not what the tests talk to); keep a policy that says so.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

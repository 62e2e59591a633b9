#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds (once) and prints the path of a cached Debian root made with
# mmdebstrap, in which the tests run a real Dovecot of another Debian
# release: Debian 13 (trixie) ships Dovecot 2.4, Debian 12 (bookworm) 2.3.
#
#   scripts/debian-root.sh SUITE [PROFILE]
#
# PROFILE names the package set:
#   dovecot  (default) the server the integration tests start;
#   build    also the compiler, collectd, the libraries and the test tools:
#            the project builds and runs its tests inside it
#            (scripts/test-in-root.sh);
#   server   a clean mail server as an administrator has it: Dovecot and
#            collectd-core only, nothing of this project's build; its apt
#            package lists are kept, so `apt-get install ./x.deb` in a
#            throwaway copy resolves the package's dependencies
#            (tests/integration/test_deb_trixie.py).
#
# The root is kept in $DVA_ROOT_CACHE (default /var/cache/collectd-dovecot)
# as SUITE-PROFILE, and rebuilt only when its package list changes. It uses
# the Debian mirror that this machine's apt already uses. Needs root.
set -euo pipefail

suite=${1:?usage: scripts/debian-root.sh SUITE [dovecot|build|server]}
profile=${2:-dovecot}
cache=${DVA_ROOT_CACHE:-/var/cache/collectd-dovecot}

packages=(dovecot-core dovecot-imapd)
skip=()
if [ "$profile" = build ]; then
  # rrdtool (which pulls in the rrd library collectd's rrdtool plugin
  # loads), valgrind and iproute2 (ip) are for the integration tests.
  packages+=(build-essential cmake pkg-config libconfuse-dev libcmocka-dev
             libssl-dev openssl collectd-core collectd-dev collectd-utils
             python3 procps file dpkg-dev mandoc rrdtool valgrind iproute2)
elif [ "$profile" = server ]; then
  packages+=(collectd-core)
  skip=(--skip=cleanup/apt/lists)
elif [ "$profile" != dovecot ]; then
  echo "debian-root.sh: unknown profile \"$profile\" (dovecot, build or server)" >&2
  exit 2
fi

# A minbase root may lack /etc/hosts (seen: bookworm's, built on Debian 13),
# and then "localhost" does not resolve there; tests connect to it.
ensure_hosts() {
  [ -s "$1/etc/hosts" ] || printf '127.0.0.1\tlocalhost\n::1\t\tlocalhost ip6-localhost ip6-loopback\n' \
    >"$1/etc/hosts"
}

dir="$cache/$suite-$profile"
stamp="$suite ${packages[*]}"
if [ -f "$dir/.dva-root" ] && [ "$(cat "$dir/.dva-root")" = "$stamp" ]; then
  ensure_hosts "$dir"
  echo "$dir"
  exit 0
fi

# The mirror apt uses here: the first URIs (deb822) or deb line (classic);
# either file may be missing (|| true: no match is not an error).
mirror=$(sed -n 's/^URIs:[[:space:]]*\([^[:space:]]*\).*/\1/p' \
           /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n 1) || true
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]*\).*/\2/p' \
             /etc/apt/sources.list 2>/dev/null | grep -v security | head -n 1) || true
fi
mirror=${mirror:-http://deb.debian.org/debian}

if ! command -v mmdebstrap >/dev/null; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    mmdebstrap >&2
fi

mkdir -p "$cache"
# One builder at a time (parallel tests may ask at once); the others wait
# and then find the finished root.
exec 9>"$cache/.$suite-$profile.lock"
flock 9
if [ -f "$dir/.dva-root" ] && [ "$(cat "$dir/.dva-root")" = "$stamp" ]; then
  ensure_hosts "$dir"
  echo "$dir"
  exit 0
fi
tmp="$dir.new"
rm -rf "$tmp" "$dir"
include=$(IFS=,; echo "${packages[*]}")
echo "debian-root.sh: building a Debian $suite root ($profile) in $dir from $mirror" >&2
# Services in the root must not start: policy-rc.d says so to every
# package's maintainer script.
mmdebstrap --variant=minbase --include="$include" ${skip[@]+"${skip[@]}"} \
  --customize-hook='printf "#!/bin/sh\nexit 101\n" > "$1/usr/sbin/policy-rc.d"; chmod +x "$1/usr/sbin/policy-rc.d"' \
  "$suite" "$tmp" "deb $mirror $suite main" >&2
ensure_hosts "$tmp"
echo "$stamp" > "$tmp/.dva-root"
mv "$tmp" "$dir"
echo "$dir"

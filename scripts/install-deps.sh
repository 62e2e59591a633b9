#!/usr/bin/env bash
# Installs the Debian 12 packages that building, testing and the demo need.
# Runs apt only when something is missing; needs root (or sudo) then.
set -euo pipefail

packages=(
  build-essential cmake pkg-config clang-format
  libconfuse-dev libcmocka-dev          # the library's schema, unit tests
  libssl-dev openssl                    # TLS to doveadm (OpenSSL 3, as Dovecot links); test certificates
  collectd-core collectd-dev collectd-utils  # the daemon, its headers, collectdctl
  dovecot-core dovecot-imapd            # a real Dovecot for integration tests
  librrd8                               # collectd-core's rrdtool.so needs it (a Recommends only)
  python3 valgrind procps
  mandoc                                # lints the generated manual pages (doc.man_lint)
  dpkg-dev file                         # cpack -G DEB: dpkg-shlibdeps computes Depends
  rrdtool                               # the .deb test reads what stock collectd wrote;
                                        # the demo draws its graphs (rrdtool graph)
  # scripts/fuzz.sh: libFuzzer ships with clang; its runtime (and the
  # sanitizers') is in libclang-rt-14-dev, which clang only recommends
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
echo "Installing: ${missing[*]}"
$sudo apt-get update -qq
# Packages must not start their system services (a system Dovecot or
# collectd is not what the tests talk to); keep a policy that says so.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
  $sudo chmod +x /usr/sbin/policy-rc.d
  trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
fi
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"

#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Runs a command inside a Debian root (made by scripts/debian-root.sh, or
# any directory holding one) without leaving anything behind:
#
#   scripts/in-root.sh [--ro-bind HOSTDIR:PATH]... [--bind HOSTDIR:PATH]... ROOT CMD [ARG...]
#
# The command runs chrooted in ROOT, in a private mount namespace and a
# private PID namespace (unshare --mount --pid --fork): ROOT/proc is that
# namespace's /proc, ROOT/sys is sysfs, ROOT/dev the host's /dev, ROOT/tmp
# a fresh tmpfs; each --ro-bind / --bind shows HOSTDIR at PATH in the root
# (read-only / writable; a PATH under /tmp is created in the tmpfs, any
# other PATH must exist in ROOT). All of it lives only in that namespace:
# when the command ends, every process still running in the root is killed
# by the kernel and every mount is gone. The exit status is the command's.
# Needs root.
set -euo pipefail

binds=()
while [ $# -gt 0 ]; do
  case $1 in
  --ro-bind | --bind)
    [ $# -ge 2 ] || { echo "in-root.sh: $1 needs HOSTDIR:PATH" >&2; exit 2; }
    case $2 in
    *:/*) ;;
    *) echo "in-root.sh: $1 $2: want HOSTDIR:/PATH" >&2; exit 2 ;;
    esac
    binds+=("$1" "$2")
    shift 2
    ;;
  --) shift; break ;;
  -*) echo "in-root.sh: unknown option $1" >&2; exit 2 ;;
  *) break ;;
  esac
done
[ $# -ge 2 ] || { echo "usage: scripts/in-root.sh [--ro-bind|--bind HOSTDIR:PATH]... ROOT CMD [ARG...]" >&2; exit 2; }
root=$(cd "$1" && pwd)
shift
[ -x "$root/bin/sh" ] || { echo "in-root.sh: $root is not a Debian root" >&2; exit 2; }

# bash is PID 1 of the new namespace: it reaps the processes that daemons
# leave orphaned (waitpid(-1) on SIGCHLD) and passes TERM/INT on to the
# command. --kill-child: should unshare itself be killed, so is bash, and
# with it the whole namespace. The command reads this script's stdin (a
# caller can keep a session alive with `cat` and end it by closing it).
# shellcheck disable=SC2016 # expanded by the inner bash
exec unshare --mount --pid --fork --kill-child --propagation private bash -c '
set -euo pipefail
root=$1; nbinds=$2; shift 2
# The root a mount point of its own, so that a command in it can unshare
# again (unshare --propagation fails with EINVAL when / is no mount point).
mount --bind "$root" "$root"
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs -o mode=1777 tmpfs "$root/tmp"
while [ "$nbinds" -gt 0 ]; do
  kind=$1 spec=$2; shift 2; nbinds=$((nbinds - 1))
  src=${spec%%:/*} dst=/${spec#*:/}
  case $dst in
  /tmp/*)
    if [ -d "$src" ]; then mkdir -p "$root$dst"
    else mkdir -p "$(dirname "$root$dst")"; : >"$root$dst"; fi ;;
  esac
  mount --bind "$src" "$root$dst"
  [ "$kind" = --bind ] || mount -o remount,bind,ro "$root$dst"
done
# (An asynchronous command would read /dev/null: give it our stdin.)
exec 3<&0
chroot "$root" "$@" <&3 3<&- &
child=$!
trap "kill -TERM $child 2>/dev/null || true" TERM INT
rc=0
wait "$child" || rc=$?
# A trapped signal ends the first wait early: wait for the command itself.
while kill -0 "$child" 2>/dev/null; do wait "$child" || rc=$?; done
exit "$rc"
' in-root "$root" $((${#binds[@]} / 2)) ${binds[@]+"${binds[@]}"} "$@"

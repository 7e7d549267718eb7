#!/bin/bash
# Runs a command in a fake host: a private mount namespace where the fake driver built by
# test/fake/driver.ts is laid over the machine's real default paths, so nvct's code runs
# unchanged against them. Everything is mounted inside the namespace and vanishes with it.
#
#   fakehost.sh [--driver-root] DIR -- COMMAND [ARG...]
#
# Default: the driver's libraries, binaries and firmware appear in /usr/lib and /usr/bin (an
# overlay), /etc/ld.so.cache is regenerated to include them. --driver-root: the driver stays
# under /run/nvidia/driver, as GPU operators lay it out, and the host's files are untouched.
# Both: /dev gains the driver's nodes, /proc/driver and /proc/devices show the fake driver.
set -euo pipefail
mode=host
if [ "${1:-}" = "--driver-root" ]; then mode=root; shift; fi
dir=$(realpath "${1:?usage: fakehost.sh [--driver-root] DIR -- COMMAND...}")
shift
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "fakehost.sh: no command" >&2; exit 2; }
[ -f "$dir/devnodes" ] || { echo "fakehost.sh: $dir is not a fake driver (no devnodes)" >&2; exit 2; }

exec unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
mode=$1 dir=$2; shift 2
# The scratch tmpfs is mounted on a directory inside the fake driver: nothing is made on the host.
scratch="$dir/.scratch"
mkdir -p "$scratch"
mount -t tmpfs nvct-fakehost "$scratch"
mkdir -p "$scratch/hostdev" "$scratch/devup" "$scratch/devwork"
# /dev: an overlay keeps every host node and adds the driver ones; its submounts come back on top.
mount --rbind /dev "$scratch/hostdev"
mount -t overlay nvct-dev -o "lowerdir=/dev,upperdir=$scratch/devup,workdir=$scratch/devwork" /dev
for sub in pts shm mqueue hugepages; do
  if mountpoint -q "$scratch/hostdev/$sub"; then mount --rbind "$scratch/hostdev/$sub" "/dev/$sub"; fi
done
# Each line: PATH TYPE MAJOR MINOR [MODE [GID]] (default 666 and the group of root).
while read -r path type major minor nodemode nodegid; do
  mkdir -p "/dev/$(dirname "$path")"
  rm -f "/dev/$path"
  mknod -m "${nodemode:-666}" "/dev/$path" "$type" "$major" "$minor"
  if [ -n "${nodegid:-}" ]; then chgrp "$nodegid" "/dev/$path"; fi
done < "$dir/devnodes"
mount --bind "$dir/proc-driver" /proc/driver
mount --bind "$dir/proc-devices" /proc/devices
# A fresh /run: what nvct and the engines keep there (caches, state) stays in this namespace.
# The daemons of the driver listen there (/var/run links to /run, as on every distribution now).
mount -t tmpfs nvct-run /run
if [ -f "$dir/sockets" ]; then
  while read -r sock; do
    [ -n "$sock" ] || continue
    mkdir -p "/run/$(dirname "$sock")"
    "$dir/mksock" "/run/$sock"
  done < "$dir/sockets"
fi
if [ -f "$dir/run-dirs" ]; then
  while read -r d; do [ -n "$d" ] && mkdir -p "/run/$d"; done < "$dir/run-dirs"
fi
# Host files a feature brings (/etc/cufile.json): laid over /etc, before the ld cache is.
if [ -d "$dir/host-etc" ]; then
  mount -t overlay nvct-etc -o "lowerdir=$dir/host-etc:/etc" /etc
fi
# Host facts under /sys/devices (/sys/devices/soc0/family of a Tegra): laid over it, read-only.
if [ -d "$dir/host-sys" ]; then
  mount -t overlay nvct-sys -o "lowerdir=$dir/host-sys:/sys/devices" /sys/devices
fi
if [ "$mode" = host ]; then
  mount -t overlay nvct-lib -o "lowerdir=$dir/root/usr/lib:/usr/lib" /usr/lib
  mount -t overlay nvct-bin -o "lowerdir=$dir/root/usr/bin:/usr/bin" /usr/bin
  ldconfig -X -C "$scratch/ld.so.cache" /usr/lib/i386-linux-gnu 2>/dev/null
  mount --bind "$scratch/ld.so.cache" /etc/ld.so.cache
else
  mkdir -p /run/nvidia/driver
  mount --bind "$dir/root" /run/nvidia/driver
fi
umount -l "$scratch/hostdev"
cd "$OLDPWD"
exec "$@"
' fakehost "$mode" "$dir" "$@"

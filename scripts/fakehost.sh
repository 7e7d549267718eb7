#!/bin/bash
# Runs a command in a fake host: a private mount namespace where the fake driver built by
# test/fake/driver.ts is laid over the machine's real default paths, so nvct's code runs
# unchanged against them. Everything is mounted inside the namespace and vanishes with it.
#
#   fakehost.sh [--driver-root] [--writable] [--cgroup2] DIR -- COMMAND [ARG...]
#
# Default: the driver's libraries, binaries and firmware appear in /usr/lib and /usr/bin (an
# overlay), /etc/ld.so.cache is regenerated to include them. --driver-root: the driver stays
# under /run/nvidia/driver, as GPU operators lay it out, and the host's files are untouched.
# Both: /dev gains the driver's nodes (and links), /proc/driver and /proc/devices show the fake
# driver, and a graphics host's PCI devices show their DRM nodes in /sys/bus/pci/devices.
# --writable: /usr, /etc and /var are writable overlays whose changes stay in the namespace's
# scratch tmpfs, so that a package installed there (files, dpkg's database) vanishes with it;
# a mount under /usr, /etc or /var on the machine is not seen through them. The overlays' upper
# directories, where every change is, are $FAKEHOST_UPPER/{etc,usr,var}-up.
# --cgroup2: the unified hierarchy is mounted on /sys/fs/cgroup, as on a cgroup v2 host, so that
# runc (which decides from the filesystem there) puts containers in v2 cgroups with its eBPF
# device program. The kernel still lists the v1 hierarchies in /proc/PID/cgroup.
set -euo pipefail
mode=host
writable=0
cgroup2=no
while :; do
  case "${1:-}" in
    --driver-root) mode=root; shift ;;
    --writable) writable=1; shift ;;
    --cgroup2) cgroup2=yes; shift ;;
    *) break ;;
  esac
done
dir=$(realpath "${1:?usage: fakehost.sh [--driver-root] [--writable] [--cgroup2] DIR -- COMMAND...}")
shift
[ "${1:-}" = "--" ] && shift
[ $# -gt 0 ] || { echo "fakehost.sh: no command" >&2; exit 2; }
[ -f "$dir/devnodes" ] || { echo "fakehost.sh: $dir is not a fake driver (no devnodes)" >&2; exit 2; }

exec unshare --mount --propagation private -- /bin/bash -euo pipefail -c '
mode=$1 writable=$2 cgroup2=$3 dir=$4; shift 4
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
# Links under /dev (/dev/dri/by-path), and the sysfs view of the PCI devices of a graphics host.
if [ -f "$dir/devlinks" ]; then
  while read -r link target; do
    mkdir -p "/dev/$(dirname "$link")"
    ln -sfn "$target" "/dev/$link"
  done < "$dir/devlinks"
fi
if [ -d "$dir/sys-pci" ]; then mount --bind "$dir/sys-pci" /sys/bus/pci/devices; fi
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
etc=/etc
[ -d "$dir/host-etc" ] && etc="$dir/host-etc:/etc"
if [ "$writable" = 1 ]; then
  usr=/usr
  [ "$mode" = host ] && usr="$dir/root/usr:/usr"
  for d in etc usr var; do mkdir -p "$scratch/$d-up" "$scratch/$d-work"; done
  mount -t overlay nvct-etc -o "lowerdir=$etc,upperdir=$scratch/etc-up,workdir=$scratch/etc-work" /etc
  mount -t overlay nvct-usr -o "lowerdir=$usr,upperdir=$scratch/usr-up,workdir=$scratch/usr-work" /usr
  mount -t overlay nvct-var -o "lowerdir=/var,upperdir=$scratch/var-up,workdir=$scratch/var-work" /var
  # What changed on the machine, for the command to inspect: $FAKEHOST_UPPER/{etc,usr,var}-up.
  export FAKEHOST_UPPER="$scratch"
elif [ "$etc" != /etc ]; then
  mount -t overlay nvct-etc -o "lowerdir=$etc" /etc
fi
# Host facts under /sys/devices (/sys/devices/soc0/family of a Tegra): laid over it, read-only.
if [ -d "$dir/host-sys" ]; then
  mount -t overlay nvct-sys -o "lowerdir=$dir/host-sys:/sys/devices" /sys/devices
fi
if [ "$mode" = host ]; then
  if [ "$writable" = 0 ]; then
    mount -t overlay nvct-lib -o "lowerdir=$dir/root/usr/lib:/usr/lib" /usr/lib
    mount -t overlay nvct-bin -o "lowerdir=$dir/root/usr/bin:/usr/bin" /usr/bin
    if [ -d "$dir/root/usr/share" ]; then mount -t overlay nvct-share -o "lowerdir=$dir/root/usr/share:/usr/share" /usr/share; fi
  fi
  ldconfig -X -C "$scratch/ld.so.cache" /usr/lib/i386-linux-gnu 2>/dev/null
  mount --bind "$scratch/ld.so.cache" /etc/ld.so.cache
else
  mkdir -p /run/nvidia/driver
  mount --bind "$dir/root" /run/nvidia/driver
fi
umount -l "$scratch/hostdev"
if [ "$cgroup2" = yes ]; then mount -t cgroup2 nvct-cgroup2 /sys/fs/cgroup; fi
cd "$OLDPWD"
exec "$@"
' fakehost "$mode" "$writable" "$cgroup2" "$dir" "$@"

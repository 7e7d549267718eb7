#!/bin/bash
# Runs inside the fake host: generates nvct's CDI spec into /run/cdi (a tmpfs of this
# namespace), imports ROOTFS into podman storage under DIR, and runs SCRIPT in a container with
# `--device DEVICE` for each remaining argument. Debian's podman, with runc (crun and this VM's
# hybrid cgroups do not agree) and the ulimits this VM needs.
#   podman.sh DIR ROOTFS SCRIPT DEVICE...
set -euo pipefail
dir=$1 rootfs=$2 script=$3
shift 3
mount -t tmpfs nvct-podman-run /run
# podman keeps a blob cache in /var/lib/containers whatever --root says: it lands in an overlay.
mkdir -p "$dir/varlib-up" "$dir/varlib-work"
mount -t overlay nvct-podman-varlib -o "lowerdir=/var/lib,upperdir=$dir/varlib-up,workdir=$dir/varlib-work" /var/lib
mkdir -p /run/cdi "$dir/tmp"
export TMPDIR="$dir/tmp"
"$NVCT_BIN/nvidia-ctk" cdi generate --output /run/cdi/nvidia.yaml --nvidia-cdi-hook-path "$NVCT_BIN/nvidia-cdi-hook"
P=(podman --root "$dir/storage" --runroot "$dir/runroot" --runtime runc --cgroup-manager cgroupfs --events-backend file --storage-driver vfs)
tar -C "$rootfs" -c . | "${P[@]}" import - nvct-test >/dev/null 2>&1
for dev in "$@"; do
  echo "=== --device $dev"
  "${P[@]}" run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --device "$dev" nvct-test /bin/sh -c "$script" 2>&1 || echo "exit: $?"
done

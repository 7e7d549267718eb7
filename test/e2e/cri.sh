#!/bin/bash
# Runs inside the fake host: a GPU node's containerd (Debian's, with its CRI plugin) configured as an
# operator configures it for nvct, with its own root, state, socket and plugin directories under
# DIR (its writes to /run and /etc land in this namespace's tmpfs and overlay). Then it imports
# the test's images and waits, while the test drives the CRI over DIR/containerd.sock, until its
# stdin closes; then it stops containerd and prints what is left of it.
#   cri.sh DIR MODE PAUSE_TAR IMAGE_TAR      MODE: legacy | cdi
set -euo pipefail
dir=$1 mode=$2 pause=$3 image=$4
sock="$dir/containerd.sock"
mkdir -p "$dir/etc-up" "$dir/etc-work"
# The overlay sees /etc's filesystem, not the fake host's ld.so.cache mounted on it: carry it over.
cp /etc/ld.so.cache "$dir/ld.so.cache"
mount -t overlay nvct-cri-etc -o "lowerdir=/etc,upperdir=$dir/etc-up,workdir=$dir/etc-work" /etc
mount --bind "$dir/ld.so.cache" /etc/ld.so.cache
export PATH="$NVCT_BIN:$PATH"

# nvct's config.toml: the runtime's mode, and its log for the test's failures.
nvidia-ctk config --set "nvidia-container-runtime.mode=$mode" \
  --set "nvidia-container-runtime.debug=$dir/nvidia-container-runtime.log" --set nvidia-container-runtime.log-level=debug -i

# containerd's own settings: everything it writes under DIR, no CNI (the pod has host
# networking), the pause image the test imports.
cat >"$dir/config.toml" <<EOF
version = 2
root = "$dir/root"
state = "$dir/state"

[grpc]
  address = "$sock"

[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "nvct.local/pause:1"
    # On an AppArmor host it would load its profile into the kernel, which outlives the test.
    disable_apparmor = true
    # This machine may not lower oom_score_adj (no CAP_SYS_RESOURCE): the sandbox gets containerd's.
    restrict_oom_score_adj = true
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "$dir/cni/bin"
      conf_dir = "$dir/cni/net.d"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
  [plugins."io.containerd.internal.v1.opt"]
    path = "$dir/opt"
EOF
if [ "$mode" = cdi ]; then
  # containerd 1.6 has no CDI of its own: the nvidia runtime resolves the device plugin's
  # cdi.k8s.io/ annotations, which the CRI plugin passes into the OCI spec only when the runtime
  # lists them (the line the GPU operator's toolkit installer writes; nvidia-ctk keeps it).
  cat >>"$dir/config.toml" <<EOF
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]
        container_annotations = ["cdi.k8s.io/*"]
EOF
  # The spec where the CDI refresh service writes it; its hooks are nvct's (here not in /usr/bin).
  nvidia-ctk cdi generate --output=/var/run/cdi/nvidia.yaml --nvidia-cdi-hook-path="$NVCT_BIN/nvidia-cdi-hook" 2>"$dir/cdi-generate.log"
  cdi=(--enable-cdi)
else
  cdi=()
fi
nvidia-ctk runtime configure --runtime=containerd --config="$dir/config.toml" \
  --drop-in-config="$dir/conf.d/99-nvidia.toml" --nvidia-runtime-path="$NVCT_BIN/nvidia-container-runtime" "${cdi[@]}" 2>"$dir/configure.log"

containerd --config "$dir/config.toml" >"$dir/containerd.log" 2>&1 &
daemon=$!
stop() {
  kill "$daemon" 2>/dev/null || true
  wait "$daemon" 2>/dev/null || true
}
trap stop EXIT
for _ in $(seq 150); do ctr --address "$sock" version >/dev/null 2>&1 && break; sleep 0.1; done
for tar in "$pause" "$image"; do ctr --address "$sock" -n k8s.io images import --snapshotter overlayfs "$tar" >/dev/null; done
touch "$dir/ready"

cat >/dev/null   # until the test is done with the CRI

# What the test's CRI calls left in containerd: none of either, when stop and remove worked.
ctr=(ctr --address "$sock" -n k8s.io)
tasks=$("${ctr[@]}" tasks ls -q || echo "(ctr-failed)")
containers=$("${ctr[@]}" containers ls -q || echo "(ctr-failed)")
echo "left-tasks:" $tasks
echo "left-containers:" $containers
# Whatever is left is removed, so that no pause process outlives the test.
for t in $tasks; do "${ctr[@]}" tasks kill -s SIGKILL "$t" >/dev/null 2>&1 || true; done
for t in $tasks; do "${ctr[@]}" tasks delete -f "$t" >/dev/null 2>&1 || true; done
for c in $containers; do "${ctr[@]}" containers delete "$c" >/dev/null 2>&1 || true; done
stop
trap - EXIT
# What containerd left once stopped: mounts (its snapshots, the pod's shm, a container's rootfs)
# and processes (its shims) naming its socket or directory; those are ended too.
echo "left-mounts:" $(awk -v d="$dir/" '{ if (index($5, d) == 1 || index($5, "/run/containerd") == 1) print $5 }' /proc/self/mountinfo)
procs=()
for p in /proc/[0-9]*; do
  cmd=$(tr '\0' ' ' 2>/dev/null <"$p/cmdline") || continue
  if [[ $cmd == *"$dir/"* ]]; then procs+=("${p#/proc/}:${cmd:0:80}"); fi
done
echo "left-procs:" "${procs[@]}"
for p in "${procs[@]}"; do kill -9 "${p%%:*}" 2>/dev/null || true; done

#!/bin/bash
# Runs inside the fake host: starts Debian's dockerd with its own data root, exec root and
# socket under DIR (its writes to /run and /etc land in this namespace's tmpfs and overlay),
# imports ROOTFS as an image, and runs one `docker run --gpus GPUS` per remaining argument,
# each printing the container's report on its own. nvct's hook is found on dockerd's PATH.
# The same dockerd has nvct's nvidia-container-runtime as the runtime `nvidia`; then the
# nvidia-docker wrapper's runs follow, each section headed `=== --run NAME`.
#   docker.sh DIR ROOTFS SCRIPT GPUS...
set -euo pipefail
dir=$1 rootfs=$2 script=$3
shift 3
mkdir -p "$dir/etc-up" "$dir/etc-work"
mount -t tmpfs nvct-docker-run /run
# The overlay sees /etc's filesystem, not the fake host's ld.so.cache mounted on it: carry it over.
cp /etc/ld.so.cache "$dir/ld.so.cache"
mount -t overlay nvct-docker-etc -o "lowerdir=/etc,upperdir=$dir/etc-up,workdir=$dir/etc-work" /etc
mount --bind "$dir/ld.so.cache" /etc/ld.so.cache
export PATH="$NVCT_BIN:$PATH"
sock="unix://$dir/docker.sock"
dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "$sock" --pidfile "$dir/docker.pid" \
  --add-runtime "nvidia=$NVCT_BIN/nvidia-container-runtime" \
  --iptables=false --ip-forward=false --ip-masq=false --bridge=none --storage-driver=vfs >"$dir/dockerd.log" 2>&1 &
daemon=$!
trap 'kill $daemon 2>/dev/null; wait $daemon 2>/dev/null || true' EXIT
for _ in $(seq 150); do docker -H "$sock" info >/dev/null 2>&1 && break; sleep 0.2; done
tar -C "$rootfs" -c . | docker -H "$sock" import - nvct-test:latest >/dev/null
for gpus in "$@"; do
  echo "=== --gpus $gpus"
  docker -H "$sock" run --rm --network none --gpus "$gpus" nvct-test /bin/sh -c "$script" 2>&1 || echo "exit: $?"
done

# nvidia-docker: NV_GPU picks the GPUs of a container run on the runtime it adds.
echo "=== --run NV_GPU=1 nvidia-docker run"
NV_GPU=1 nvidia-docker -H "$sock" run --rm --network none nvct-test /bin/sh -c "$script" 2>&1 || echo "exit: $?"
# What `create` gave the container, read back from docker: its runtime and environment.
inspect() {
  local id
  id=$("$@" --network none nvct-test true) || { echo "exit: $?"; return; }
  docker -H "$sock" inspect -f 'runtime: {{.HostConfig.Runtime}}{{println}}env: {{join .Config.Env " "}}' "$id"
  docker -H "$sock" rm "$id" >/dev/null
}
echo "=== --run NV_GPU=0,1 nvidia-docker container create"
NV_GPU=0,1 inspect nvidia-docker -H "$sock" container create 2>&1
echo "=== --run nvidia-docker create --runtime=runc"
inspect nvidia-docker --host "$sock" create --runtime=runc 2>&1
# Other commands pass through: the same output as docker's (`images` without its relative times).
both() {
  echo "=== --run nvidia-docker $1"
  nvidia-docker -H "$sock" "$@" 2>&1 || echo "exit: $?"
  echo "=== --run docker $1"
  docker -H "$sock" "$@" 2>&1 || echo "exit: $?"
}
both images --format '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}'
both version

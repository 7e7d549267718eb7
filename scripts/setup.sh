#!/bin/bash
# Everything nvct's build, demo and tests need on a fresh Debian machine, as root: the Debian
# packages (runc and busybox for containers, gcc for the fake driver, docker.io, podman and
# containerd for their tests, rpm for `npm run package`'s rpmbuild) when missing, then the npm
# toolchain (bun, AssemblyScript, jco; gRPC for the CRI test) from package-lock.json.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v gcc >/dev/null || need+=(gcc libc6-dev)
command -v runc >/dev/null || need+=(runc)
[ -x /bin/busybox ] || need+=(busybox-static)
command -v unshare >/dev/null || need+=(util-linux)
command -v dockerd >/dev/null || need+=(docker.io)   # the `docker run --gpus` end-to-end test
command -v podman >/dev/null || need+=(podman)      # the podman CDI end-to-end test
command -v containerd >/dev/null || need+=(containerd)  # the CRI (kubelet's path) end-to-end test
command -v rpmbuild >/dev/null || need+=(rpm)       # npm run package's .rpm (dpkg-deb is dpkg's)
command -v systemd-analyze >/dev/null || need+=(systemd)  # the package test checks the units
if [ ${#need[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # Twice: a mirror's hiccup should not cost a CI run.
  for attempt in 1 2; do
    if apt-get update -qq && apt-get install -y -qq "${need[@]}" >/dev/null; then break; fi
    [ "$attempt" = 2 ] && exit 1
    sleep 5
  done
fi
if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

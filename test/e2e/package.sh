#!/bin/bash
# Runs inside a writable fake host (scripts/fakehost.sh --writable): installs nvct's packages on
# this machine's Debian, where /usr, /etc and /var are overlays that vanish with the namespace,
# and takes them through what operators do. Prints `=== STEP` before each step's output and
# `exit: N` after each command whose status matters. $TOOLS: the tool names; $REPORT: the
# script a podman container runs (test/e2e/bundle.ts's).
#   package.sh fresh DEB1 DEB2 BUNDLE REQBUNDLE ROOTFS   install, GPU containers through the
#                                                 installed hook (runc; podman with the image
#                                                 ROOTFS), upgrade over a changed config, remove,
#                                                 purge
#   package.sh replace DEB BUNDLE REFDEB...       install over the NVIDIA Container Toolkit's packages
#   package.sh rpm RPM1 RPM2 BUNDLE               rpm: install, upgrade, erase (a private rpm database)
set -uo pipefail
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export DEBIAN_FRONTEND=noninteractive
CONF=/etc/nvidia-container-runtime/config.toml

step() { echo "=== $1"; }
n=0
# A container of the bundle under runc (its state kept in the bundle).
container() {
  n=$((n + 1))
  runc --root "$1/runc-state" run --bundle "$1" "nvct-pkg-$$-$n" 2>&1
  echo "exit: $?"
}
# Each tool: a symbolic link to nvct, or a hard link to it (the same inode).
links() {
  for t in $TOOLS; do
    if [ -L "/usr/bin/$t" ]; then echo "$t -> $(readlink "/usr/bin/$t")"
    elif [ -e "/usr/bin/$t" ] && [ "$(stat -c %i "/usr/bin/$t")" = "$(stat -c %i /usr/bin/nvct 2>/dev/null)" ]; then echo "$t = nvct"
    elif [ -e "/usr/bin/$t" ]; then echo "$t: $(head -c 60 "/usr/bin/$t" | tr '\n' ' ')"
    else echo "$t: missing"; fi
  done
}
# podman (Debian's) runs the prestart hook its hooks.d names for every container: the image is
# a rootfs no container ran in (a mount's target made there stays in the image), its storage and cgroup parent are the run's own (a cgroup parent shared
# with other runs may carry their device rules), removed after.
podman_runs() {
  local rootfs=$1 dir parent=nvct-pkg-$$
  dir=$(mktemp -d /run/nvct-podman.XXXXXX)
  mkdir -p "$dir/tmp"
  local P=(podman --root "$dir/storage" --runroot "$dir/runroot" --tmpdir "$dir/tmp" --runtime runc --cgroup-manager cgroupfs --events-backend file --storage-driver vfs)
  tar -C "$rootfs" -c . | TMPDIR="$dir/tmp" "${P[@]}" import - nvct-pkg >/dev/null 2>&1
  for env in NVIDIA_VISIBLE_DEVICES=all NVCT_NO_GPU=1; do
    echo "--- $env"
    TMPDIR="$dir/tmp" "${P[@]}" run --rm --network none --cgroup-parent "/$parent" --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 -e "$env" nvct-pkg /bin/sh -c "$REPORT" 2>&1
    echo "exit: $?"
  done
  find /sys/fs/cgroup/*/"$parent" -depth -type d -exec rmdir {} + 2>/dev/null
  rm -rf "$dir"
}
# What is on the machine now that was not before: every file, link or whiteout in the overlays'
# upper directories, less dpkg's and apt's own records and logs, and podman's locks and caches.
leftovers() {
  (cd "$FAKEHOST_UPPER" && find etc-up usr-up var-up ! -type d 2>/dev/null) |
    sed -E 's#^(etc|usr|var)-up#/\1#' |
    { grep -vE '^/var/(lib/dpkg|log|cache/(apt|debconf|ldconfig)|lib/apt)/|^/(var/lib/containers/|var/cache/containers/|etc/cni/net\.d/cni\.lock$|etc/containers/networks/netavark\.lock$)' || true; } | sort
}
enabled() {
  ls /etc/systemd/system/multi-user.target.wants 2>/dev/null | grep nvidia-cdi-refresh
  for u in nvidia-cdi-refresh.path nvidia-cdi-refresh.service; do
    [ "$(readlink "/etc/systemd/system/$u" 2>/dev/null)" = /dev/null ] && echo "$u masked"
  done
  true
}
# Runs the refresh service's commands as systemd would (its env, its env file, %v, a leading `-`
# ignoring a failure): this machine runs no systemd in the fake host.
refresh() {
  local unit=$1 line cmd
  (
    while IFS= read -r line; do
      case "$line" in
        Environment=*) export "${line#Environment=}" ;;
        EnvironmentFile=*) f=${line#EnvironmentFile=}; f=${f#-}; [ -f "$f" ] && { set -a; . "$f"; set +a; } ;;
      esac
    done <"$unit"
    grep '^ExecStart=' "$unit" | while IFS= read -r line; do
      cmd=${line#ExecStart=}
      cmd=${cmd//%v/$(uname -r)}
      case "$cmd" in -*) eval "${cmd#-}" || true ;; *) eval "$cmd" || { echo "failed: $cmd"; exit 1; } ;; esac
    done
  ) 2>&1
  echo "exit: $?"
}

mode=$1
shift
case "$mode" in
fresh)
  deb1=$1 deb2=$2 bundle=$3 reqbundle=$4 image=$5
  step install; dpkg -i "$deb1" 2>&1; echo "exit: $?"
  step status; dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' nvct
  step files; dpkg -L nvct | sort
  step links; links
  step conffiles; dpkg-query -W -f='${Conffiles}\n' nvct | awk 'NF {print $1}'
  step config; cat "$CONF"
  step verify; dpkg --verify nvct; echo "exit: $?"
  step units; systemd-analyze verify /lib/systemd/system/nvidia-cdi-refresh.path /lib/systemd/system/nvidia-cdi-refresh.service 2>&1; echo "exit: $?"
  step enabled; enabled
  step hooks; cat /usr/share/containers/oci/hooks.d/oci-nvidia-hook.json
  step refresh; refresh /lib/systemd/system/nvidia-cdi-refresh.service; nvidia-ctk cdi list 2>&1
  step container; container "$bundle"
  step podman; podman_runs "$image"
  step require; container "$reqbundle"
  step edit; sed -i 's/^disable-require = false$/disable-require = true/' "$CONF"; grep '^disable-require' "$CONF"
  step upgrade; dpkg -i "$deb2" 2>&1; echo "exit: $?"; dpkg-query -W -f='${db:Status-Abbrev} ${Version}\n' nvct
  step kept; grep '^disable-require' "$CONF"; ls /etc/nvidia-container-runtime
  step require-after; container "$reqbundle"
  step remove; dpkg -r nvct 2>&1; echo "exit: $?"; dpkg-query -W -f='${db:Status-Abbrev}\n' nvct
  step after-remove; leftovers
  step purge; dpkg -P nvct 2>&1; echo "exit: $?"; dpkg-query -W -f='${db:Status-Abbrev}\n' nvct 2>&1
  step after-purge; leftovers
  ;;
replace)
  deb=$1 bundle=$2
  shift 2
  step reference; dpkg -i "$@" >/dev/null 2>&1; echo "exit: $?"; links; enabled
  step install; dpkg -i "$deb" 2>&1; echo "exit: $?"
  step packages; dpkg-query -W -f='${Package} ${db:Status-Abbrev}\n' 2>/dev/null | grep -E '^(nvct|nvidia-|libnvidia-)' | sort
  step links; links
  step config; cat "$CONF"; ls -a /etc/nvidia-container-runtime
  step enabled; enabled
  step verify; dpkg --verify nvct; echo "exit: $?"
  step container; container "$bundle"
  # The toolkit's leftovers purged afterwards, as `apt-get autoremove --purge` or `apt-get
  # install --purge` do: their postrm scripts run now.
  step purge-reference; dpkg -P nvidia-container-toolkit nvidia-container-toolkit-base 2>&1; echo "exit: $?"
  step links-after; links
  step enabled-after; enabled
  step container-after; container "$bundle"
  ;;
rpm)
  rpm1=$1 rpm2=$2 bundle=$3
  db=$(mktemp -d /run/nvct-rpmdb.XXXXXX)
  r() { rpm --dbpath "$db" "$@"; }
  step install; r -i --nodeps "$rpm1" 2>&1; echo "exit: $?"
  step query; r -q nvct; r -V --nodeps nvct; echo "exit: $?"
  step links; links
  step config; cat "$CONF"
  step enabled; enabled
  step container; container "$bundle"
  step edit; sed -i 's/^disable-require = false$/disable-require = true/' "$CONF"
  step upgrade; r -U --nodeps "$rpm2" 2>&1; echo "exit: $?"; r -q nvct
  step kept; grep '^disable-require' "$CONF"; ls /etc/nvidia-container-runtime
  step erase; r -e nvct 2>&1; echo "exit: $?"; r -q nvct 2>&1
  step after-erase; leftovers
  ;;
*)
  echo "package.sh: unknown mode $mode" >&2
  exit 2
  ;;
esac
exit 0

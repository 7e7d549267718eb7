#!/bin/bash
# faults.sh LIST: runs inside the fake host (scripts/fakehost.sh). For each case directory
# (one a line in LIST; a bundle whose config.json runs the hook under a fault, and config.next.json the plain hook;
# with a file `warmup`, started once with the plain hook first; then `prepare CASE_DIR` when there):
# the host's state before and after the faulty start (test/e2e/snapshot.sh: mount table, /dev,
# the host's ld.so.cache, the watched paths), the rootfs and the cache directory before and after,
# runc's status and output, what is left running or registered, then the next start of the same
# bundle with the plain hook. Everything lands in files of the case directory for the test to read.
# WATCH: the host paths to watch (space separated).
here=$(dirname "$(realpath "$0")")
cd /
# The rootfs and the cache as the fault could have changed them (no times: undo makes new inodes).
tree() { [ -e "$1" ] && find "$1" -printf '%P %y %m %s %l\n' 2>/dev/null | sort; }
# Temporary files nvct writes: the container's ld.so.cache's, moved-aside files, the cache's.
temps() { find "$1/rootfs" "$1/cache" \( -name '.ld.so.cache.nvct*' -o -name '.*.nvct-*' -o -path "$1/cache/.*" \) -printf '%P\n' 2>/dev/null | sort; }
left() {
  # Processes of this case: any whose arguments or working directory name the bundle (the
  # pattern's [/] keeps grep from finding itself).
  local re
  re="$(printf %s "$1" | sed 's/[]\\.[*^$]/\\&/g')[/]"
  grep -alsE "$re" /proc/[0-9]*/cmdline | sed 's#^/proc/\([0-9]*\)/cmdline#process \1#'
  find /proc/[0-9]*/cwd -maxdepth 0 -lname "$1*" 2>/dev/null | sed 's/^/cwd /'
  runc --root "$1/runc-state" list -q 2>/dev/null </dev/null | sed 's/^/container /'
  find /sys/fs/cgroup -maxdepth 3 -name "$2" 2>/dev/null | sed 's/^/cgroup /'
}
while read -r c <&3; do
  id=$(cat "$c/id")
  if [ -f "$c/warmup" ]; then
    # A warm cache made in this session (the driver's fingerprint holds this fake host's inodes),
    # then the entry the fault is at named in the hook's arguments.
    cp "$c/config.json" "$c/config.fault.json"
    cp "$c/config.next.json" "$c/config.json"
    runc --root "$c/runc-state" run --bundle "$c" "$id-warm" >"$c/warm.out" 2>&1 </dev/null
    kind=$(cat "$c/warmup")
    entry=$(find "$c/cache" -name "$kind*" | head -1)
    sed "s#@ENTRY@#$entry#" "$c/config.fault.json" >"$c/config.json"
  fi
  # A hostile cache (or anything else) laid out by the case itself, once the warm-up made it.
  if [ -x "$c/prepare" ]; then "$c/prepare" "$c" >"$c/prepare.out" 2>&1 </dev/null; fi
  tree "$c/rootfs" >"$c/rootfs.before"
  tree "$c/cache" >"$c/cache.before"
  # shellcheck disable=SC2086
  t0=$(date +%s%N)
  timeout 60 "$here/snapshot.sh" "$c/host" $WATCH -- runc --root "$c/runc-state" run --bundle "$c" "$id" >"$c/fail.out" 2>"$c/fail.err" </dev/null
  echo $? >"$c/fail.rc"
  echo $((($(date +%s%N) - t0) / 1000000)) >"$c/fail.ms"
  tree "$c/rootfs" >"$c/rootfs.after"
  tree "$c/cache" >"$c/cache.after"
  temps "$c" >"$c/temps.after"
  left "$c" "$id" >"$c/left"
  cp "$c/config.next.json" "$c/config.json"
  timeout 60 runc --root "$c/runc-state" run --bundle "$c" "$id-next" >"$c/next.out" 2>"$c/next.err" </dev/null
  echo $? >"$c/next.rc"
  temps "$c" >"$c/temps.next"
  left "$c" "$id-next" >"$c/left.next"
done 3<"$1"

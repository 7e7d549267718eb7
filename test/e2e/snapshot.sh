#!/bin/bash
# snapshot.sh OUT WATCH... -- COMMAND...: the host's state before and after a command, taken in
# the mount namespace the command runs in (the fake host's): its mount table, /dev, the ld
# cache, and each watched path (entries: type, mode, size, device, inode, mtime, link target; a
# file written, replaced or mounted over changes one of them). Writes OUT.before and
# OUT.after; exits with the command's status.
out=$1
shift
watch=()
while [ "$1" != "--" ]; do watch+=("$1"); shift; done
shift
snap() {
  awk '{print $4, $5, $9, $10}' /proc/self/mountinfo | sort
  ls -1a /dev | sort
  sha256sum /etc/ld.so.cache
  for w in "${watch[@]}"; do
    find "$w" -printf '%p %y %m %s %D %i %T@ %l\n' 2>/dev/null | sort
  done
}
snap >"$out.before"
"$@"
rc=$?
snap >"$out.after"
exit $rc

#!/bin/sh
# What containerd's `ctr run --gpus` hook does (ctr oci-hook): read the OCI state on stdin, put the
# container's pid where the arguments say {{pid}}, and run nvidia-container-cli with them.
state=$(cat)
pid=$(printf '%s' "$state" | grep -o '"pid": *[0-9]*' | grep -o '[0-9]*$')
cli=$1
shift
for a in "$@"; do
  set -- "$@" "$(printf '%s' "$a" | sed "s/{{pid}}/$pid/")"
  shift
done
exec "$cli" "$@"

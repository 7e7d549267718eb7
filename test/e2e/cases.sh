#!/bin/bash
# cases.sh DIR: runs each case of DIR (one directory per case, in order) where this script runs,
# the fake host's namespace for the tests: its `argv` (NUL-separated, the program first), with
# `stdin` on standard input (else /dev/null), the variables of `env` (NUL-separated) and no
# others but PATH, in `cwd` (else the case's directory), under a 10 s timeout. `@PID@` in argv or
# stdin is this script's pid (a live process whose namespaces vanish with the fake host).
# Writes rc, out, err and ms (wall milliseconds) into the case's directory, and DIR/mounts.before
# and DIR/mounts.after: the namespace's mount table around the whole run.
set -u
dir=$1
mounts() { awk '{print $4, $5, $9, $10}' /proc/self/mountinfo | sort; }
mounts >"$dir/mounts.before"
for c in "$dir"/*/; do
  c=${c%/}
  [ -f "$c/argv" ] || continue
  mapfile -d '' argv <"$c/argv"
  for i in "${!argv[@]}"; do argv[$i]=${argv[$i]//@PID@/$$}; done
  envs=()
  [ -f "$c/env" ] && mapfile -d '' envs <"$c/env"
  input=/dev/null
  if [ -f "$c/stdin" ]; then
    sed "s/@PID@/$$/g" "$c/stdin" >"$c/.stdin"
    input=$c/.stdin
  fi
  cwd=$c
  [ -f "$c/cwd" ] && cwd=$(cat "$c/cwd")
  start=$(date +%s%N)
  (cd "$cwd" && exec env -i PATH="$PATH" "${envs[@]}" timeout -k 2 10 "${argv[@]}") <"$input" >"$c/out" 2>"$c/err"
  echo $? >"$c/rc"
  echo $((($(date +%s%N) - start) / 1000000)) >"$c/ms"
  rm -f "$c/.stdin"
done
mounts >"$dir/mounts.after"

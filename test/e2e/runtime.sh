#!/bin/sh
# As docker and containerd drive a runtime: `create` through the shim (nvct's, or plain runc),
# then runc start, wait for the container to stop, delete. Prints the container's output, then
# the shim's exit status. Runs inside the fake host.
#   runtime.sh SHIM STATE BUNDLE ID [--log FILE --log-format json]
shim=$1 state=$2 bundle=$3 id=$4
shift 4
"$shim" --root "$state" "$@" create --bundle "$bundle" "$id" >"$bundle/out" 2>"$bundle/err" </dev/null
rc=$?
if [ $rc -eq 0 ]; then
  runc --root "$state" start "$id"
  for _ in $(seq 100); do runc --root "$state" state "$id" | grep -q '"status": "stopped"' && break; sleep 0.05; done
  runc --root "$state" delete "$id"
fi
cat "$bundle/out"
cat "$bundle/err" >&2
echo "shim-exit: $rc"

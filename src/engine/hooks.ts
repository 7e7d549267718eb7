// nvidia-cdi-hook's hooks: what each found in the container and the host, the core's decision,
// applied inside the container's root (createContainer hooks run in its mount namespace already,
// before pivot_root). Nothing from the image is run; ldconfig neither.
import type { HookInput } from "../core";
import { listIn, parseState, readIn, readSpec, rootfsOf } from "../discover/container";
import { procParams, statNode } from "../discover/driver";
import { apply } from "../inject/apply";
import type { Libc } from "../sys/libc";
import { Decisions } from "./memo";

export type HookArgs = Omit<HookInput, "params" | "compatFiles" | "compatFolders" | "gpuMinors" | "unique">;

/**
 * Runs one hook for the container whose state is on stdin; its decisions and the ld.so.cache it
 * writes are kept in the decision cache at `cacheDir` ("" = none).
 */
export function runCdiHook(args: HookArgs, stdin: () => string, sys: Libc, log: (msg: string, data?: unknown) => void, cacheDir = ""): void {
  const decisions = new Decisions(cacheDir, log);
  // The arguments first, alone: a malformed one is named before anything is read.
  const blank = (): HookInput => ({ ...args, params: "", compatFiles: [], compatFolders: [], gpuMinors: [], unique: "" });
  decisions.hook(blank());
  const state = parseState(stdin());
  const rootfs = rootfsOf(state.bundle, readSpec(state.bundle));
  const input = blank();
  if (args.name === "disable-device-node-modification") {
    input.params = procParams();
  } else if (args.name === "enable-cuda-compat") {
    if (!args.hostDriverVersion && !args.hostCudaVersion) return;
    input.compatFiles = listIn(rootfs, args.compatRoot || "/usr/local/cuda/compat", "file");
    // The file it may make gets a name no other container's has.
    if (input.compatFiles.length) input.unique = crypto.randomUUID();
  } else if (args.name === "update-ldcache") {
    for (const conf of listIn(rootfs, "/etc/ld.so.conf.d", "file")) {
      if (!/^00-compat-.*\.conf$/.test(conf)) continue;
      for (const line of (readIn(rootfs, `/etc/ld.so.conf.d/${conf}`, 1 << 16) ?? "").split("\n")) if (line.trim()) input.compatFolders.push(line.trim());
    }
  } else if (args.name === "update-application-profile") {
    for (const n of listIn(rootfs, "/dev", "any")) {
      if (!/^nvidia\d+$/.test(n)) continue;
      const node = statNode(`${rootfs}/dev/${n}`);
      if (node) input.gpuMinors.push(node.minor);
    }
  }
  const ops = decisions.hook(input);
  if (ops.length === 0) return;
  apply(
    { ops, cgroup: { rules: [], prologue: new Uint8Array() } },
    { pid: null, rootfs, cgroup: null, ldcache: (old, add, candidates) => decisions.ldcache(old, add, candidates, process.arch), log },
    sys,
  );
}

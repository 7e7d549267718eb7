// CDI edits written into an OCI spec, as the CDI library applies them: env by name, device nodes
// (what the edit leaves out filled in from the host's node) with their device cgroup rules,
// mounts (replacing the spec's own at the same path), hooks, additional groups.
import { statSync } from "node:fs";
import type { CdiEdits } from "../core";
import type { Spec } from "../discover/container";
import { NvctError } from "../errors";
import { major, minor } from "../discover/driver";

type Oci = Spec & { process?: { env?: string[]; user?: { uid?: number; gid?: number; additionalGids?: number[] } }; linux?: { devices?: any[]; resources?: { devices?: any[] } } };

function hostNode(path: string): { major: number; minor: number; type: string; fileMode: number } {
  let st;
  try {
    st = statSync(path);
  } catch (e) {
    throw new NvctError("config", `CDI device node \`${path}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new NvctError("config", `CDI device node \`${path}\` is not a device`);
  return {
    major: major(st.rdev),
    minor: minor(st.rdev),
    type: st.isBlockDevice() ? "b" : "c",
    fileMode: st.mode & 0o777,
  };
}

/** Writes the edits into the spec (in place). */
export function applyEdits(spec: Spec, e: CdiEdits): void {
  const oci = spec as Oci;
  const proc = (oci.process ??= {});
  for (const v of e.env) {
    const key = v.split("=")[0];
    proc.env = [...(proc.env ?? []).filter((x) => x.split("=")[0] !== key), v];
  }
  const linux = (oci.linux ??= {});
  for (const d of e.deviceNodes) {
    let { major, minor, kind: type, fileMode } = d;
    if (major === undefined || minor === undefined || fileMode === undefined || type === undefined) {
      const h = hostNode(d.hostPath ?? d.path);
      major ??= h.major;
      minor ??= h.minor;
      type ??= h.type;
      fileMode ??= h.fileMode;
    }
    linux.devices = (linux.devices ?? []).filter((x: any) => x.path !== d.path);
    linux.devices.push({ path: d.path, type, major, minor, fileMode, uid: d.uid ?? proc.user?.uid ?? 0, gid: d.gid ?? proc.user?.gid ?? 0 });
    // A FIFO has no device cgroup rule.
    if (type !== "p") ((linux.resources ??= {}).devices ??= []).push({ allow: true, type: type === "u" ? "c" : type, major, minor, access: d.permissions ?? "rwm" });
  }
  for (const m of e.mounts) {
    oci.mounts = (oci.mounts ?? []).filter((x) => x.destination !== m.containerPath);
    oci.mounts.push({ destination: m.containerPath, source: m.hostPath, type: m.kind ?? "bind", options: m.options.length ? m.options : ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
  }
  for (const h of e.hooks) {
    const hooks = (oci.hooks ??= {}) as Record<string, unknown[]>;
    (hooks[h.hookName] ??= []).push({ path: h.path, ...(h.args.length ? { args: h.args } : {}), ...(h.env.length ? { env: h.env } : {}), ...(h.timeout !== undefined ? { timeout: h.timeout } : {}) });
  }
  for (const g of e.additionalGids) {
    const user = (proc.user ??= { uid: 0, gid: 0 });
    if (!(user.additionalGids ??= []).includes(g)) user.additionalGids.push(g);
  }
}

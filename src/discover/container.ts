// Facts about the container being started: the OCI state, its spec, its layout on disk.
import { readFileSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { NvctError } from "../errors";
import { resolveIn } from "./paths";

export interface OciState {
  pid: number;
  bundle: string;
}

export interface Spec {
  process?: { env?: string[]; capabilities?: { bounding?: string[] } };
  root?: { path?: string };
  mounts?: { destination: string; source?: string; type?: string; options?: string[] }[];
  hooks?: Record<string, unknown>;
  linux?: { cgroupsPath?: string };
  annotations?: Record<string, string>;
}

/** Parses the OCI state JSON a runtime writes on a hook's stdin (`bundle`, or the older `bundlePath`). */
export function parseState(text: string): OciState {
  let s: any;
  try {
    s = JSON.parse(text);
  } catch (e) {
    throw new NvctError("state", `invalid OCI state on stdin: ${(e as Error).message}`, e);
  }
  const bundle = s?.bundle ?? s?.bundlePath;
  if (typeof bundle !== "string" || bundle === "") throw new NvctError("state", "invalid OCI state on stdin: no `bundle`");
  if (!Number.isInteger(s.pid) || s.pid <= 0) throw new NvctError("state", `invalid OCI state on stdin: bad \`pid\` ${JSON.stringify(s.pid)}`);
  return { pid: s.pid, bundle };
}

export function readSpec(bundle: string): Spec {
  const file = join(bundle, "config.json");
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    throw new NvctError("spec", `failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  try {
    const spec = JSON.parse(text);
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("not an object");
    return spec as Spec;
  } catch (e) {
    throw new NvctError("spec", `invalid OCI spec \`${file}\`: ${(e as Error).message}`, e);
  }
}

/** The rootfs as a host path: `root.path`, relative to the bundle unless absolute. */
export function rootfsOf(bundle: string, spec: Spec): string {
  const p = spec.root?.path;
  if (typeof p !== "string" || p === "") throw new NvctError("spec", `invalid OCI spec in \`${bundle}\`: no root.path`);
  const rootfs = isAbsolute(p) ? p : join(bundle, p);
  if (rootfs.replace(/\/+$/, "") === "") throw new NvctError("spec", `invalid OCI spec in \`${bundle}\`: root.path is /`);
  return rootfs;
}

export function isPrivileged(spec: Spec): boolean {
  return spec.process?.capabilities?.bounding?.includes("CAP_SYS_ADMIN") ?? false;
}

export interface Layout {
  lib64: string;
  lib32: string;
}

function isDirIn(root: string, p: string): boolean {
  const r = resolveIn(root, p);
  if (!r) return false;
  try {
    return statSync(join(root, r)).isDirectory();
  } catch {
    return false;
  }
}

/** Where the container keeps libraries: Debian's multiarch dirs, else lib64 and lib32 (or lib). */
export function layoutOf(rootfs: string): Layout {
  if (resolveIn(rootfs, "/etc/debian_version")) {
    return { lib64: "/usr/lib/x86_64-linux-gnu", lib32: "/usr/lib/i386-linux-gnu" };
  }
  return { lib64: "/usr/lib64", lib32: isDirIn(rootfs, "/usr/lib32") ? "/usr/lib32" : "/usr/lib" };
}

export interface DeviceCgroup {
  /** 1: the v1 devices controller (devices.allow); 2: an eBPF device program on the v2 cgroup. */
  version: 1 | 2;
  dir: string;
}

/** Mount points of cgroup filesystems: v1 by controller, and the v2 one. */
function cgroupMounts(): { v1: Map<string, string>; v2?: string } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = m.split(" ");
    const sep = f.indexOf("-");
    if (sep < 0) continue;
    if (f[sep + 1] === "cgroup2") v2 ??= f[4];
    else if (f[sep + 1] === "cgroup") for (const c of f[sep + 3].split(",")) v1.set(c, f[4]);
  }
  return { v1, v2 };
}

/** The container's device cgroup: v1 when the devices controller is mounted as v1, else v2. */
export function deviceCgroup(pid: number): DeviceCgroup | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch (e) {
    throw new NvctError("cgroup", `failed to read \`/proc/${pid}/cgroup\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  const mounts = cgroupMounts();
  let unified: string | undefined;
  for (const line of text.split("\n")) {
    const [id, controllers, path] = line.split(":");
    if (controllers?.split(",").includes("devices") && mounts.v1.has("devices")) return { version: 1, dir: join(mounts.v1.get("devices")!, path) };
    if (id === "0" && controllers === "") unified = path;
  }
  if (unified !== undefined && mounts.v2) return { version: 2, dir: join(mounts.v2, unified) };
  return null;
}

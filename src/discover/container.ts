// Facts about the container being started: the OCI state, its spec, its root filesystem, its
// device cgroup. Reads only.
import { lstatSync, readdirSync, readFileSync, statfsSync, statSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import type { ContainerSpec, Policy, RootfsFacts } from "../core";
import { NvctError } from "../errors";
import { readRegularText } from "../files";
import { resolveIn } from "./paths";

export interface OciState {
  pid: number;
  bundle: string;
}

export interface Spec {
  process?: { env?: string[]; capabilities?: { bounding?: string[] }; user?: { uid?: number; gid?: number; additionalGids?: number[] } };
  root?: { path?: string };
  mounts?: { destination: string; source?: string; type?: string; options?: string[] }[];
  hooks?: Record<string, unknown>;
  linux?: { cgroupsPath?: string; devices?: unknown[]; resources?: { devices?: unknown[] } };
  annotations?: Record<string, string>;
}

const MAX_STATE = 1 << 20;

/** Parses the OCI state JSON a runtime writes on a hook's stdin (`bundle`, or the older `bundlePath`). */
export function parseState(text: string): OciState {
  if (text.length > MAX_STATE) throw new NvctError("state", `invalid OCI state on stdin: larger than ${MAX_STATE} bytes`);
  let s: any;
  try {
    s = JSON.parse(text);
  } catch (e) {
    throw new NvctError("state", `invalid OCI state on stdin: ${text.trim() === "" ? "empty" : (e as Error).message}`, e);
  }
  if (typeof s !== "object" || s === null || Array.isArray(s)) throw new NvctError("state", "invalid OCI state on stdin: not a JSON object");
  const bundle = s.bundle ?? s.bundlePath;
  if (typeof bundle !== "string" || bundle === "") throw new NvctError("state", "invalid OCI state on stdin: no `bundle`");
  if (!Number.isInteger(s.pid) || s.pid <= 0) throw new NvctError("state", `invalid OCI state on stdin: bad \`pid\` ${JSON.stringify(s.pid) ?? "(none)"}`);
  return { pid: s.pid, bundle };
}

const MAX_SPEC = 64 << 20;

/** The bundle's config.json, its fields a request is read from checked for their types. */
export function readSpec(bundle: string): Spec {
  const file = join(bundle, "config.json");
  let text: string;
  try {
    text = readRegularText(file, MAX_SPEC);
  } catch (e) {
    throw new NvctError("spec", `failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  let spec: unknown;
  try {
    spec = JSON.parse(text);
  } catch (e) {
    throw new NvctError("spec", `invalid OCI spec \`${file}\`: ${(e as Error).message}`, e);
  }
  const bad = checkSpec(spec);
  if (bad) throw new NvctError("spec", `invalid OCI spec \`${file}\`: ${bad}`);
  return spec as Spec;
}

const obj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);
/** Absent: missing or null (Go reads a JSON null as the zero value). */
const absent = (v: unknown) => v === undefined || v === null;
const strings = (v: unknown) => Array.isArray(v) && v.every((e) => typeof e === "string");

/**
 * What is wrong with the parts of a spec nvct reads or edits (process, its env and bounding
 * capabilities, root, mounts, annotations, hooks, linux), as runc would refuse them; null when
 * nothing is.
 */
export function checkSpec(spec: unknown): string | null {
  if (!obj(spec)) return "not a JSON object";
  const p = spec.process;
  if (!absent(p) && !obj(p)) return "`process` is not an object";
  if (obj(p)) {
    if (!absent(p.env) && !strings(p.env)) return "`process.env` is not a list of strings";
    const caps = p.capabilities;
    if (!absent(caps) && !obj(caps)) return "`process.capabilities` is not an object";
    if (obj(caps) && !absent(caps.bounding) && !strings(caps.bounding)) return "`process.capabilities.bounding` is not a list of strings";
  }
  if (!absent(spec.root) && !obj(spec.root)) return "`root` is not an object";
  if (obj(spec.root) && !absent(spec.root.path) && typeof spec.root.path !== "string") return "`root.path` is not a string";
  const mounts = spec.mounts;
  if (!absent(mounts) && !(Array.isArray(mounts) && mounts.every((m) => obj(m) && typeof m.destination === "string" && (absent(m.source) || typeof m.source === "string")))) return "`mounts` is not a list of mounts";
  if (!absent(spec.annotations) && !(obj(spec.annotations) && Object.values(spec.annotations).every((v) => typeof v === "string"))) return "`annotations` is not a map of strings";
  const hooks = spec.hooks;
  if (!absent(hooks) && !obj(hooks)) return "`hooks` is not an object";
  if (obj(hooks)) {
    for (const [k, list] of Object.entries(hooks)) {
      if (!absent(list) && !(Array.isArray(list) && list.every((h) => obj(h) && typeof h.path === "string"))) return `\`hooks.${k}\` is not a list of hooks`;
    }
  }
  if (!absent(spec.linux) && !obj(spec.linux)) return "`linux` is not an object";
  return null;
}

/** The rootfs as a host path: `root.path`, relative to the bundle unless absolute. */
export function rootfsOf(bundle: string, spec: Spec): string {
  const p = spec.root?.path;
  if (typeof p !== "string" || p === "") throw new NvctError("spec", `invalid OCI spec in \`${bundle}\`: no root.path`);
  const rootfs = isAbsolute(p) ? p : join(bundle, p);
  if (rootfs.replace(/\/+$/, "") === "") throw new NvctError("spec", `invalid OCI spec in \`${bundle}\`: root.path is /`);
  return rootfs;
}

/** A `NAME=value` entry's name; "" for an entry without `=` (not a variable, as Go's os/exec reads it). */
export const envName = (e: string) => {
  const eq = e.indexOf("=");
  return eq < 0 ? "" : e.slice(0, eq);
};

/**
 * The spec's parts a request is read from, and only those (the core's vocabulary names them):
 * the variables it reads, the mounts that may name devices, the annotations of the prefixes.
 * What else a container carries (HOSTNAME, its own variables) does not change the decision.
 */
export function containerSpec(spec: Spec, policy: Pick<Policy, "swarmResource" | "annotationPrefixes">): ContainerSpec {
  const names = new Set(policy.swarmResource);
  const env = (spec.process?.env ?? []).filter((e) => VOCABULARY.requestEnv.some((p) => e.startsWith(p)) || names.has(envName(e)));
  return {
    env,
    mounts: (spec.mounts ?? []).filter((m) => m.destination.startsWith(VOCABULARY.volumePrefix)).map((m) => ({ destination: m.destination, source: typeof m.source === "string" ? m.source : "" })),
    privileged: spec.process?.capabilities?.bounding?.includes("CAP_SYS_ADMIN") ?? false,
    annotations: Object.entries(spec.annotations ?? {}).filter(([k]) => policy.annotationPrefixes.some((p) => k.startsWith(p))).map(([key, value]) => ({ key, value })),
  };
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

/** What decides the container's library directories (read through its symlinks, inside it). */
export function rootfsFacts(rootfs: string): RootfsFacts {
  return { debian: resolveIn(rootfs, "/etc/debian_version") !== null, lib32: isDirIn(rootfs, "/usr/lib32") };
}

/** The container's device cgroup: v1 (its devices controller directory) or v2 (its cgroup). */
export interface DeviceCgroup {
  version: 1 | 2;
  dir: string;
}

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Where the v1 devices controller is mounted (mountinfo's last such mount); undefined when it is not. */
export function v1DevicesMount(): string | undefined {
  let at: string | undefined;
  for (const m of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const f = m.split(" ");
    const sep = f.indexOf("-");
    if (sep >= 0 && f[sep + 1] === "cgroup" && f[sep + 3].split(",").includes("devices")) at = f[4];
  }
  return at;
}

/** The cgroup version runc uses on this host: 2 when /sys/fs/cgroup is a cgroup2 mount. */
export function hostCgroupVersion(): 1 | 2 {
  try {
    return statfsSync("/sys/fs/cgroup").type === CGROUP2_SUPER_MAGIC ? 2 : 1;
  } catch {
    return 1;
  }
}

/** The container's device cgroup, or an error saying how to run without one. */
export function requireCgroup(pid: number): DeviceCgroup {
  const cg = deviceCgroup(pid);
  if (!cg) throw new NvctError("cgroup", `no device cgroup found for pid ${pid} (set nvidia-container-cli.no-cgroups = true to write no device rules)`);
  return cg;
}

/**
 * The container's device cgroup, decided as runc decides: cgroup v2 when cgroup2 is what is
 * mounted on /sys/fs/cgroup (the unified hierarchy), else the v1 devices controller. The kernel
 * lists v1 hierarchies in /proc/PID/cgroup either way, so that file does not decide.
 */
export function deviceCgroup(pid: number): DeviceCgroup | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/cgroup`, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new NvctError("state", `no process ${pid}: the container's process (the OCI state's \`pid\`) is not running`, e);
    throw new NvctError("cgroup", `failed to read \`/proc/${pid}/cgroup\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  const unified = hostCgroupVersion() === 2;
  // mountinfo is read only where it decides: a v2 host has no devices controller to find.
  const devices = unified ? undefined : v1DevicesMount();
  for (const line of text.split("\n")) {
    const [id, controllers, path] = line.split(":");
    if (unified && id === "0" && controllers === "" && path !== undefined) return { version: 2, dir: join("/sys/fs/cgroup", path) };
    if (!unified && controllers?.split(",").includes("devices") && devices !== undefined) return { version: 1, dir: join(devices, path) };
  }
  return null;
}

/** Entries of a container directory, read through its symlinks inside it; files only with "file". */
export function listIn(rootfs: string, path: string, kind: "file" | "any"): string[] {
  const r = resolveIn(rootfs, path);
  if (!r) return [];
  let names: string[];
  try {
    names = readdirSync(join(rootfs, r)).sort();
  } catch {
    return [];
  }
  if (kind === "any") return names;
  return names.filter((n) => {
    try {
      return lstatSync(join(rootfs, r, n)).isFile();
    } catch {
      return false;
    }
  });
}

/** A container file's text when it is a regular file of at most max bytes, read inside the root. */
export function readIn(rootfs: string, path: string, max: number): string | null {
  const r = resolveIn(rootfs, path);
  if (!r) return null;
  try {
    const st = lstatSync(join(rootfs, r));
    if (!st.isFile() || st.size > max) return null;
    return readFileSync(join(rootfs, r), "utf8");
  } catch {
    return null;
  }
}

// CDI mode: find the requested devices in the spec directories and apply their edits to an OCI
// spec. Every name must resolve; edits are applied once each (a mount or node twice is once).
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import type { Spec } from "../discover/container";
import { NvctError } from "../errors";
import { parseQualified, type CdiSpec, type ContainerEdits } from "./spec";

/** Every spec in the directories (later directories win for the same kind and device). */
export function loadSpecs(dirs: string[], skipped?: (why: string) => void): { file: string; spec: CdiSpec }[] {
  const out: { file: string; spec: CdiSpec }[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue; // a missing spec directory holds no specs
    }
    for (const n of names) {
      if (!/\.(json|ya?ml)$/.test(n)) continue;
      const file = join(dir, n);
      // A broken spec (another vendor's, perhaps) is skipped and reported, as CDI's cache does:
      // it must not stop every other device from resolving.
      let spec: CdiSpec;
      try {
        const text = readFileSync(file, "utf8");
        spec = (n.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text)) as CdiSpec;
        if (typeof spec?.kind !== "string" || !Array.isArray(spec.devices)) throw new Error("no kind or devices");
      } catch (e) {
        skipped?.(`invalid CDI spec \`${file}\` skipped: ${(e as Error).message}`);
        continue;
      }
      out.push({ file, spec });
    }
  }
  return out;
}

type Oci = Spec & {
  process?: { env?: string[]; user?: { additionalGids?: number[] } };
  linux?: { devices?: any[]; resources?: { devices?: any[] } };
};

const HOOK_NAMES = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

function applyEdits(oci: Oci, e: ContainerEdits, seen: Set<string>): void {
  const proc = (oci.process ??= {});
  for (const v of e.env ?? []) {
    const key = v.split("=")[0];
    proc.env = [...(proc.env ?? []).filter((x) => x.split("=")[0] !== key), v];
  }
  const linux = ((oci as any).linux ??= {});
  for (const d of e.deviceNodes ?? []) {
    if (seen.has(`dev:${d.path}`)) continue;
    seen.add(`dev:${d.path}`);
    // As CDI fills in a node: what the spec leaves out comes from the host's node.
    let { major, minor, type, fileMode } = d;
    if (major === undefined || minor === undefined || fileMode === undefined || type === undefined) {
      const host = d.hostPath ?? d.path;
      let st;
      try {
        st = statSync(host);
      } catch (e) {
        throw new NvctError("cdi", `CDI device node \`${host}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
      }
      if (!st.isCharacterDevice() && !st.isBlockDevice()) throw new NvctError("cdi", `CDI device node \`${host}\` is not a device`);
      major ??= Math.floor(st.rdev / 256) & 0xfff;
      minor ??= (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00);
      type ??= st.isBlockDevice() ? "b" : "c";
      fileMode ??= st.mode & 0o777;
    }
    if (!["c", "b", "u", "p"].includes(type)) throw new NvctError("cdi", `CDI device node \`${d.path}\`: invalid type \`${type}\``);
    const user = (proc as any).user ?? {};
    linux.devices = (linux.devices ?? []).filter((x: any) => x.path !== d.path);
    linux.devices.push({ path: d.path, type, major, minor, fileMode, uid: d.uid ?? user.uid ?? 0, gid: d.gid ?? user.gid ?? 0 });
    // A FIFO has no device cgroup rule.
    if (type !== "p") {
      const res = (linux.resources ??= {});
      (res.devices ??= []).push({ allow: true, type: type === "u" ? "c" : type, major, minor, access: d.permissions ?? "rwm" });
    }
  }
  for (const m of e.mounts ?? []) {
    if (seen.has(`mount:${m.containerPath}`)) continue;
    seen.add(`mount:${m.containerPath}`);
    // A CDI mount replaces the spec's own mount at that path.
    oci.mounts = (oci.mounts ?? []).filter((x) => x.destination !== m.containerPath);
    oci.mounts.push({ destination: m.containerPath, source: m.hostPath, type: m.type ?? "bind", options: m.options ?? ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
  }
  for (const h of e.hooks ?? []) {
    const key = `hook:${h.hookName}:${h.path}:${(h.args ?? []).join(" ")}`;
    if (seen.has(key)) continue;
    seen.add(key);
    if (!HOOK_NAMES.includes(h.hookName)) throw new NvctError("cdi", `CDI hook with unknown hookName \`${h.hookName}\``);
    const hooks = (oci.hooks ??= {}) as Record<string, unknown[]>;
    (hooks[h.hookName] ??= []).push({ path: h.path, ...(h.args ? { args: h.args } : {}), ...(h.env ? { env: h.env } : {}), ...(h.timeout ? { timeout: h.timeout } : {}) });
  }
  for (const g of e.additionalGids ?? []) {
    const user = ((proc as any).user ??= { uid: 0, gid: 0 });
    if (!(user.additionalGids ??= []).includes(g)) user.additionalGids.push(g);
  }
}

/** Applies the edits of every named device (qualified names) from the specs in `dirs`. */
export function injectCdi(oci: Spec, names: string[], dirs: string[], log?: (m: string) => void): void {
  const specs = loadSpecs(dirs, log);
  const seen = new Set<string>();
  const specsUsed = new Set<CdiSpec>();
  for (const name of names) {
    const q = parseQualified(name);
    if (!q) throw new NvctError("cdi", `invalid CDI device name \`${name}\`: want vendor.com/class=name`);
    let found: { spec: CdiSpec; edits: ContainerEdits } | undefined;
    for (const { spec } of specs) {
      if (spec.kind !== q.kind) continue;
      const d = spec.devices.find((x) => x.name === q.device);
      if (d) found = { spec, edits: d.containerEdits };
    }
    if (!found) throw new NvctError("cdi", `unresolvable CDI device \`${name}\` (spec dirs: ${dirs.join(", ")})`);
    if (!specsUsed.has(found.spec)) {
      specsUsed.add(found.spec);
      if (found.spec.containerEdits) applyEdits(oci as Oci, found.spec.containerEdits, seen);
    }
    applyEdits(oci as Oci, found.edits, seen);
  }
}

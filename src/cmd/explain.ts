// `explain --bundle DIR [--json]`, of the hook and of the runtime: what nvct would do for a
// container, for people (text, one line per decision) or for tools (the same as JSON).
import type { Op } from "../core";
import type { Explanation } from "../engine/explain";

const flags = (f: string[]) => (f.length ? f.join(",") : "rw");

/** One line per step of a plan, its kind first. */
export function planLines(ops: Op[]): string[] {
  return ops.map((o) => {
    switch (o.tag) {
      case "device":
        return `node     ${o.val.path} (${o.val.major}:${o.val.minor})${o.val.bind ? ` from ${o.val.host} ${flags(o.val.mountFlags)}` : ", allowed only (not mounted)"}`;
      case "bind":
        return `${o.val.kind.padEnd(8)} ${o.val.path}${o.val.host !== o.val.path ? ` from ${o.val.host}` : ""} ${flags(o.val.mountFlags)}`;
      case "symlink":
        return `link     ${o.val.dir}/${o.val.name} -> ${o.val.target}`;
      case "procfs":
      case "tmpfs": {
        const files = o.val.files.map((f) => f.path + (f.content !== undefined ? ` (${f.content.includes("ModifyDeviceFiles") ? "ModifyDeviceFiles: 0" : "written"})` : ""));
        const dirs = o.val.dirs.length ? `; directories ${o.val.dirs.join(", ")}` : "";
        return `${o.tag.padEnd(8)} ${o.val.path}: a tmpfs ${flags(o.val.mountFlags)} holding ${files.join(", ") || "nothing"}${dirs}`;
      }
      case "ldcache":
        return `ldcache  ${o.val.entries.map((e) => `${e.name} (${e.path})`).join(", ")}${o.val.folders.length ? `; the libraries of ${o.val.folders.join(", ")}` : ""}`;
      case "chmod":
        return `chmod    ${o.val.path} ${o.val.mode.toString(8)}`;
      case "file":
        return `file     ${o.val.path} (new, mode ${o.val.mode.toString(8)})`;
      case "mask":
        return `mask     ${o.val.path} ${flags(o.val.mountFlags)}`;
    }
  });
}

/** The text answer: the request and where it came from, the GPUs, the cgroup rules, the plan, the outcome. */
export function renderExplanation(x: Explanation): string {
  const r = x.request;
  const out = [`bundle   ${x.bundle} (rootfs ${x.rootfs})`];
  if (!r.gpu) {
    out.push(`result   not a GPU container: ${r.reason}; the hook does nothing`);
    return out.join("\n") + "\n";
  }
  const devices = r.devices.length === 0 ? "none (the driver only)" : r.devices.join(",");
  out.push(`request  devices ${devices}, from ${r.source}${r.legacyImage ? " (a CUDA image: CUDA_VERSION is set)" : ""}`);
  out.push(`         capabilities ${r.caps.join(", ")}`);
  if (r.requires.length) out.push(`         requires ${r.requires.join("; ")}`);
  if (r.migConfig) out.push(`         MIG config devices ${r.migConfig}`);
  if (r.migMonitor) out.push(`         MIG monitor devices ${r.migMonitor}`);
  if (r.imex.length) out.push(`         IMEX channels ${r.imex.join(",")}`);
  if (x.failure) {
    out.push(`result   the hook would fail: ${x.failure.message}`);
    return out.join("\n") + "\n";
  }
  const p = x.plan!;
  for (const g of x.gpus) out.push(`gpu      ${g.index}  ${g.uuid}  ${g.busId}  ${g.model}  /dev/nvidia${g.minor}`);
  if (x.cgroup === "v1") out.push(`cgroup   v1 devices.allow: ${p.cgroup.rules.join(", ")}`);
  else if (x.cgroup === "v2") out.push(`cgroup   v2: an eBPF program allowing ${p.cgroup.rules.join(", ")} before runc's own rules`);
  else out.push("cgroup   none (no-cgroups = true)");
  for (const l of planLines(p.ops)) out.push(`plan     ${l}`);
  for (const w of p.warnings) out.push(`warning  ${w}`);
  out.push(`result   the hook would give this container ${x.gpus.length ? `GPU${x.gpus.length > 1 ? "s" : ""} ${x.gpus.map((g) => g.index).join(", ")}` : "the driver and no GPU"}`);
  return out.join("\n") + "\n";
}

/** The JSON answer: the explanation with the eBPF prologue's bytes as a number list. */
export function explanationJson(x: Explanation | RuntimeExplanation): string {
  return JSON.stringify(x, (_k, v) => (v instanceof Uint8Array ? [...v] : v), 2) + "\n";
}

type AnySpec = Record<string, any>;

/** What the runtime added to or took from a spec: one line each, `+` or `-` first. */
export function specChanges(before: AnySpec, after: AnySpec): string[] {
  const out: string[] = [];
  const added = <T>(a: T[] = [], b: T[] = []) => {
    const had = new Set(a.map((x) => JSON.stringify(x)));
    return b.filter((x) => !had.has(JSON.stringify(x)));
  };
  for (const e of added<string>(before.process?.env, after.process?.env)) out.push(`+ env ${e}`);
  for (const m of added<AnySpec>(before.mounts, after.mounts)) out.push(`+ mount ${m.destination} from ${m.source} (${(m.options ?? []).join(",")})`);
  for (const d of added<AnySpec>(before.linux?.devices, after.linux?.devices)) out.push(`+ device ${d.path} (${d.type} ${d.major}:${d.minor})`);
  for (const r of added<AnySpec>(before.linux?.resources?.devices, after.linux?.resources?.devices)) out.push(`+ cgroup rule ${r.allow ? "allow" : "deny"} ${r.type} ${r.major}:${r.minor} ${r.access}`);
  const stages = new Set([...Object.keys(before.hooks ?? {}), ...Object.keys(after.hooks ?? {})]);
  for (const s of stages) {
    const hook = (h: AnySpec) => `${s} ${h.path}${(h.args ?? []).length > 1 ? " " + h.args.slice(1).join(" ") : ""}`;
    for (const h of added<AnySpec>(before.hooks?.[s], after.hooks?.[s])) out.push(`+ hook ${hook(h)}`);
    for (const h of added<AnySpec>(after.hooks?.[s], before.hooks?.[s])) out.push(`- hook ${hook(h)}`);
  }
  return out;
}

export interface RuntimeExplanation {
  bundle: string;
  mode: string;
  /** The configured mode (auto, legacy, ...), which `mode` was decided from. */
  configured: string;
  changes: string[];
  /** In legacy mode, what the hook the runtime adds would then do. */
  hook: Explanation | null;
}

/** The runtime's answer as text: its mode, the spec's changes, then the hook's part. */
export function renderRuntimeExplanation(x: RuntimeExplanation): string {
  const out = [`bundle   ${x.bundle}`, `mode     ${x.mode}${x.configured !== x.mode ? ` (nvidia-container-runtime.mode = ${x.configured})` : ""}`];
  if (x.changes.length === 0) out.push("spec     unchanged: the runtime passes the container to runc as it is");
  for (const c of x.changes) out.push(`spec     ${c}`);
  let text = out.join("\n") + "\n";
  if (x.hook) text += "then, in the prestart hook:\n" + renderExplanation(x.hook).replace(/^bundle .*\n/, "");
  return text;
}

// A CDI spec from the driver: the same facts and the same core plan as the hook's injection,
// written as CDI edits (nodes, mounts, createContainer hooks) instead of being executed.
import { posix } from "node:path";
import type { PlanOp } from "../core";
import { migMinors } from "../discover/driver";
import { loadLdCache, type DriverRoot } from "../discover/files";
import { resolveIn } from "../discover/paths";
import { planFor } from "../inject/engine";
import type { CdiHook, CdiSpec, ContainerEdits } from "./spec";

export type NameStrategy = "index" | "uuid" | "type-index";

export interface GenerateOptions {
  driver: DriverRoot;
  /** Where the device nodes are on the host (default /). */
  devRoot: string;
  vendor: string;
  class: string;
  strategy: NameStrategy;
  /** The nvidia-cdi-hook the spec's hooks run. */
  hookPath: string;
}

const ALL_CAPS = ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"];
/** Hooks nvct writes carry this environment and no other: an image's LD_PRELOAD never reaches them. */
export const HOOK_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"];

/**
 * The smallest cdiVersion that allows what the spec uses: 0.7.0 additionalGids; 0.6.0
 * annotations, a class with a dot; 0.5.0 a device name starting with a digit, a device node's
 * hostPath; 0.4.0 a mount's type; else 0.3.0.
 */
export function minimumVersion(spec: CdiSpec): string {
  const edits = [spec.containerEdits, ...spec.devices.map((d) => d.containerEdits)].filter(Boolean) as ContainerEdits[];
  if (edits.some((e) => e.additionalGids?.length)) return "0.7.0";
  if (spec.annotations || spec.devices.some((d) => d.annotations) || spec.kind.split("/")[1]?.includes(".")) return "0.6.0";
  if (spec.devices.some((d) => /^[0-9]/.test(d.name)) || edits.some((e) => e.deviceNodes?.some((n) => n.hostPath))) return "0.5.0";
  if (edits.some((e) => e.mounts?.some((m) => m.type))) return "0.4.0";
  return "0.3.0";
}

/** Builds the spec: a device per GPU, per MIG device, and `all`; common edits for the driver. */
export function generateSpec(o: GenerateOptions): CdiSpec {
  // The libraries stay where the host keeps them (the driver root aside), as the reference does:
  // the directory the driver's first library of each width resolves to.
  const entries = loadLdCache(o.driver);
  const dirOf = (bits: 32 | 64) => {
    const e = entries.find((x) => x.bits === bits);
    const resolved = e && resolveIn(o.driver.root, e.path);
    return resolved ? posix.dirname(resolved) : bits === 64 ? "/usr/lib/x86_64-linux-gnu" : "/usr/lib/i386-linux-gnu";
  };
  const { ops, inventory } = planFor({
    pid: 0,
    rootfs: "/",
    devices: "none",
    caps: ALL_CAPS,
    requires: [],
    migConfig: "",
    migMonitor: "",
    imex: [],
    driver: o.driver,
    cgroup: null,
    devRoot: o.devRoot,
    layout: { lib64: dirOf(64), lib32: dirOf(32) },
  });
  const common = editsFrom(ops, o.hookPath);
  common.env = ["NVIDIA_VISIBLE_DEVICES=void"];

  const node = (minor: number) => ({ path: `/dev/nvidia${minor}`, ...(o.devRoot !== "/" ? { hostPath: posix.join(o.devRoot, `/dev/nvidia${minor}`) } : {}) });
  const capNode = (minor: number) => ({ path: `/dev/nvidia-caps/nvidia-cap${minor}`, ...(o.devRoot !== "/" ? { hostPath: posix.join(o.devRoot, `/dev/nvidia-caps/nvidia-cap${minor}`) } : {}) });
  const minors = migMinors();
  const devices: CdiSpec["devices"] = [];
  const allNodes: ReturnType<typeof node>[] = [];
  for (const g of inventory.gpus) {
    const name = o.strategy === "uuid" ? g.uuid : o.strategy === "type-index" ? `gpu${g.index}` : String(g.index);
    devices.push({ name, containerEdits: { deviceNodes: [node(g.minor)] } });
    allNodes.push(node(g.minor));
    for (const m of g.migs) {
      const mname = o.strategy === "uuid" ? m.uuid : o.strategy === "type-index" ? `mig${g.index}:${m.index}` : `${g.index}:${m.index}`;
      const caps = [`gpu${g.minor}/gi${m.gi}/access`, `gpu${g.minor}/gi${m.gi}/ci${m.ci}/access`].map((k) => minors.get(k)).filter((x): x is number => x !== undefined).map(capNode);
      devices.push({ name: mname, containerEdits: { deviceNodes: [node(g.minor), ...caps] } });
      allNodes.push(...caps);
    }
  }
  devices.push({ name: "all", containerEdits: { deviceNodes: allNodes } });
  const spec: CdiSpec = { cdiVersion: "", kind: `${o.vendor}/${o.class}`, devices, containerEdits: common };
  spec.cdiVersion = minimumVersion(spec);
  return { cdiVersion: spec.cdiVersion, kind: spec.kind, devices: spec.devices, containerEdits: spec.containerEdits };
}

/** The plan's operations as CDI container edits (procfs has no CDI form and is left out). */
function editsFrom(ops: PlanOp[], hookPath: string): ContainerEdits {
  const e: ContainerEdits = { deviceNodes: [], mounts: [], hooks: [] };
  const links: string[] = [];
  const folders = new Set<string>();
  for (const op of ops) {
    if (op.op === "device") e.deviceNodes!.push({ path: op.dst, ...(op.src !== op.dst ? { hostPath: op.src } : {}) });
    else if (op.op === "bind") e.mounts!.push({ hostPath: op.src, containerPath: op.dst, options: ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
    else if (op.op === "symlink") links.push("--link", `${op.target}::${posix.join(op.dir, op.name)}`);
    else if (op.op === "ldcache") for (const [, p] of op.entries) folders.add(posix.dirname(p));
  }
  const hook = (args: string[]): CdiHook => ({ hookName: "createContainer", path: hookPath, args: ["nvidia-cdi-hook", ...args], env: [...HOOK_ENV] });
  if (links.length) e.hooks!.push(hook(["create-symlinks", ...links]));
  if (folders.size) e.hooks!.push(hook(["update-ldcache", ...[...folders].flatMap((f) => ["--folder", f])]));
  return e;
}

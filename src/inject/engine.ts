// The injection engine shared by the hook and `nvidia-container-cli configure`: discover, decide
// (core), then apply. Facts in, plan out: this module gathers facts and hands them to the core.
import { readFileSync } from "node:fs";
import { checkRequirement, makePlan, selectDevices, type PlanOp } from "../core";
import { layoutOf, type DeviceCgroup, type Layout } from "../discover/container";
import { migMinors } from "../discover/driver";
import { cachedInventory } from "../discover/inventory";
import { controlNodes, findBinaries, findFirmware, findIpcs, findLibraries, loadLdCache, procDevices, statNode, type DriverRoot } from "../discover/files";
import { NVIDIA_MAJOR } from "../discover/tables";
import { NvctError } from "../errors";
import type { Libc } from "../sys/libc";
import type { NvmlGpu, NvmlInventory } from "../sys/nvml";
import { mark } from "../trace";
import { apply } from "./apply";

export interface ConfigureRequest {
  pid: number;
  rootfs: string;
  devices: string;
  caps: string[];
  requires: string[];
  migConfig: string;
  migMonitor: string;
  imex: string[];
  driver: DriverRoot;
  /** The container's device cgroup; null = write no device rules (--no-cgroups). */
  cgroup: DeviceCgroup | null;
  env?: Record<string, string | undefined>;
  /** Where the libraries go; default: from the rootfs (Debian multiarch, else lib64/lib32). */
  layout?: Layout;
  /** Where the device nodes are (`nvidia-ctk cdi generate --dev-root`); default /. */
  devRoot?: string;
  /** Where NVML's answer is cached (see discover/inventory.ts); "" = always ask NVML. */
  inventoryCache?: string;
  /** configure's --no-devbind, --no-persistenced, --no-fabricmanager. */
  skip?: { devbind?: boolean; persistenced?: boolean; fabricmanager?: boolean };
  log?: (msg: string, data?: unknown) => void;
}

const CAPS_DIR = "/proc/driver/nvidia/capabilities";

/** Checks a node's rdev against the expected one; a mismatch is refused, a missing node skipped. */
function node(path: string, major: number, minor: number, need: string, required: boolean): string[] | null {
  const n = statNode(path);
  if (!n) {
    if (required) throw new NvctError("device", `device error: \`${path}\` is missing`);
    return null;
  }
  if (n.major !== major || n.minor !== minor) {
    throw new NvctError("device", `device error: \`${path}\` is ${n.major}:${n.minor}, expected ${major}:${minor}`);
  }
  return ["node", path, path, String(major), String(minor), need];
}

/** Gathers the facts for the core's plan and returns it (no side effects). */
export function planFor(req: ConfigureRequest): { ops: PlanOp[]; procContents: Map<string, Uint8Array>; inventory: NvmlInventory } {
  const entries = loadLdCache(req.driver);
  mark("ldcache");
  let inv;
  try {
    inv = cachedInventory(req.driver, entries, req.inventoryCache ?? "", (m) => req.log?.(m));
  } catch (e) {
    throw new NvctError("init", `initialization error: ${(e as Error).message}`, e);
  }
  mark("nvml inventory");
  let sel;
  try {
    sel = selectDevices(req.devices, inv.gpus);
  } catch (e) {
    throw new NvctError("device", `device error: ${(e as Error).message}`, e);
  }
  const gpus: NvmlGpu[] = inv.gpus.filter((g) => sel.gpus.includes(g.index));
  const migs = sel.migs.map(([g, m]) => ({ gpu: inv.gpus[g], mig: inv.gpus[g].migs.find((x) => x.index === m)! }));

  for (const expr of req.requires) {
    const checked = new Set<number>();
    for (const g of [...gpus, ...migs.map((m) => m.gpu)]) {
      if (checked.has(g.index)) continue;
      checked.add(g.index);
      try {
        checkRequirement(expr, { cuda: inv.cuda, driver: inv.driver, arch: g.arch, brand: g.brand.toLowerCase() });
      } catch (e) {
        const m = (e as Error).message;
        throw new NvctError("requirement", `requirement error: ${m}${(e as NvctError).code === "unsatisfied" ? ", please update your driver to a newer version, or use an earlier cuda container" : ""}`, e);
      }
    }
  }

  mark("select+require");
  const layout = req.layout ?? layoutOf(req.rootfs);
  const facts: string[][] = [["layout", layout.lib64, layout.lib32], ["caps", req.caps.join(",")]];
  const majors = procDevices();
  for (const c of controlNodes(req.devRoot ?? "/")) {
    const need = c.path.includes("uvm") ? "compute" : c.path.endsWith("modeset") ? "display" : "always";
    if (c.path.includes("uvm") && c.major !== majors.get("nvidia-uvm")) {
      throw new NvctError("device", `device error: \`${c.path}\` is ${c.major}:${c.minor}, but nvidia-uvm is major ${majors.get("nvidia-uvm")}`);
    }
    const inContainer = !req.devRoot || req.devRoot === "/" ? c.path : c.path.slice(req.devRoot.replace(/\/+$/, "").length);
    facts.push(["node", c.path, inContainer, String(c.major), String(c.minor), need]);
  }
  const gpuNodes = new Set<number>();
  for (const g of [...gpus, ...migs.map((m) => m.gpu)]) {
    if (gpuNodes.has(g.minor)) continue;
    gpuNodes.add(g.minor);
    facts.push(node(`/dev/nvidia${g.minor}`, NVIDIA_MAJOR, g.minor, "always", true)!);
  }
  const procFiles: [string, string][] = [];
  const minors = migMinors();
  const capsMajor = majors.get("nvidia-caps");
  const capNode = (key: string) => {
    const minor = minors.get(key);
    if (minor === undefined || capsMajor === undefined) throw new NvctError("device", `device error: no MIG capability \`${key}\` in /proc/driver/nvidia-caps/mig-minors`);
    facts.push(node(`/dev/nvidia-caps/nvidia-cap${minor}`, capsMajor, minor, "always", true)!);
  };
  for (const { gpu, mig } of migs) {
    for (const sub of [`gi${mig.gi}`, `gi${mig.gi}/ci${mig.ci}`]) {
      capNode(`gpu${gpu.minor}/${sub}/access`);
      procFiles.push([`capabilities/gpu${gpu.minor}/mig/${sub}/access`, `${CAPS_DIR}/gpu${gpu.minor}/mig/${sub}/access`]);
    }
  }
  for (const [value, file] of [[req.migConfig, "config"], [req.migMonitor, "monitor"]]) {
    if (!value) continue;
    if (value !== "all") throw new NvctError("device", `device error: invalid MIG ${file} devices \`${value}\`: only \`all\` is supported`);
    capNode(file);
    procFiles.push([`capabilities/mig/${file}`, `${CAPS_DIR}/mig/${file}`]);
  }
  const imexMajor = majors.get("nvidia-caps-imex-channels");
  for (const ch of req.imex) {
    if (ch === "all") throw new NvctError("device", "device error: IMEX channel `all` is not supported; name the channels");
    if (imexMajor === undefined) throw new NvctError("device", `device error: IMEX channel \`${ch}\` requested but the driver has no nvidia-caps-imex-channels`);
    facts.push(node(`/dev/nvidia-caps-imex-channels/channel${ch}`, imexMajor, Number(ch), "always", true)!);
  }

  for (const l of findLibraries(req.driver, entries, inv.driver)) facts.push(["lib", l.group, String(l.bits), l.path, l.soname]);
  for (const b of findBinaries(req.driver)) facts.push(["bin", b.group, b.path]);
  const strip = (p: string) => (req.driver.root === "/" ? p : p.slice(req.driver.root.length));
  for (const f of findFirmware(req.driver, inv.driver)) facts.push(["fw", f, strip(f)]);
  for (const i of findIpcs(req.driver, req.env)) {
    if (req.skip?.persistenced && i.path.includes("nvidia-persistenced")) continue;
    if (req.skip?.fabricmanager && i.path.includes("nvidia-fabricmanager")) continue;
    facts.push(["ipc", i.group, i.path, strip(i.path), i.path.endsWith("socket") ? "socket" : "dir"]);
  }

  for (const f of ["version", "params", "registry"]) procFiles.push([f, `/proc/driver/nvidia/${f}`]);
  // The procfs entry of every GPU whose node the container gets, MIG parents included.
  const shown = new Set<string>();
  for (const g of [...gpus, ...migs.map((m) => m.gpu)]) {
    if (shown.has(g.busId)) continue;
    shown.add(g.busId);
    procFiles.push([`gpus/${g.busId}/information`, `/proc/driver/nvidia/gpus/${g.busId}/information`]);
  }
  const procContents = new Map<string, Uint8Array>();
  for (const [relPath, host] of procFiles) {
    let data: Uint8Array;
    try {
      data = readFileSync(host);
    } catch {
      continue; // the driver does not have it: the container does not get it
    }
    // The container must not recreate device files itself.
    if (relPath === "params") data = Buffer.from(data.toString().replace(/^ModifyDeviceFiles: \d+$/m, "ModifyDeviceFiles: 0"));
    procContents.set(host, data);
    facts.push(["procfile", relPath, host]);
  }
  mark("facts");
  let ops = makePlan(facts);
  mark("plan");
  // --no-devbind: the cgroup still allows the nodes; the container makes them itself.
  if (req.skip?.devbind) ops = ops.map((o) => (o.op === "device" ? { ...o, bind: false } : o));
  return { ops, procContents, inventory: inv };
}

/** Discovers, plans and applies: the container gets its GPUs or nothing at all. */
export function configure(req: ConfigureRequest, sys: Libc): PlanOp[] {
  const { ops, procContents } = planFor(req);
  req.log?.("plan", ops);
  apply(ops, { pid: req.pid, rootfs: req.rootfs, cgroup: req.cgroup, procContents, log: req.log }, sys);
  return ops;
}

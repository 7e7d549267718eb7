// The driver's facts, gathered in one pass into one value for the core: its libraries (from the
// driver root's ld.so.cache), binaries, firmware, IPC paths, device nodes, procfs, and the
// inventory. What an earlier container gathered is used again while the driver's fingerprint
// (src/discover/fingerprint.ts) is the same; NVML is asked again only when procfs or
// libnvidia-ml change.
import { readJson, writeEntry } from "../cache/store";
import { core, type DriverFacts, type LdEntry } from "../core";
import {
  binaryFacts, fileFacts, firmwareFacts, ipcFacts, ldcacheBytes, libraryFacts, migMinors, nodeFacts, procDevices, procfsFiles, procParams,
  type DriverRoot,
} from "../discover/driver";
import { driverFingerprint, type FingerprintInput } from "../discover/fingerprint";
import { drmFacts, graphicsFacts, sysfsBusId } from "../discover/graphics";
import { agreesWithProcfs, inventoryKey, isInventory, nvmlPath, readInventory } from "../discover/inventory";
import { ldcacheFile } from "../discover/paths";
import { NvctError } from "../errors";
import type { NvmlInventory } from "../sys/nvml";
import { mark } from "../trace";
import { BUILD } from "../version";

export interface FactOptions {
  driver: DriverRoot;
  /** Where the device nodes are (`nvidia-ctk cdi generate --dev-root`); default /. */
  devRoot?: string;
  /** The decision cache's directory; "" = gather everything, ask NVML, every time. */
  cacheDir?: string;
  /** $CUDA_MPS_PIPE_DIRECTORY of the caller, looked for as an IPC path too. */
  mpsPipeDir?: string;
  log?: (msg: string, data?: unknown) => void;
}

/** The driver's libraries in the driver root's ld.so.cache (a bad cache named). */
export function driverEntries(driver: DriverRoot): LdEntry[] {
  const { file, bytes } = ldcacheBytes(driver);
  try {
    return core().ldcacheread(bytes, false);
  } catch (e) {
    if (e instanceof NvctError) throw new NvctError(e.code, `\`${file}\`: ${e.message}`, e);
    throw e;
  }
}

function inventory(o: FactOptions, nvml: string, procfs: string[]): NvmlInventory {
  const dir = o.cacheDir ?? "";
  const key = dir ? inventoryKey(o.driver.root, nvml, procfs) : null;
  if (key) {
    const cached = readJson(dir, "inventory", `${BUILD}\n${key}`, isInventory);
    // Every GPU it names is one procfs shows, and none is missing.
    if (cached && agreesWithProcfs(cached)) {
      o.log?.("inventory from cache");
      return cached;
    }
  }
  const inv = readInventory(nvml);
  // A GPU NVML could not read is never remembered: the next container asks NVML again.
  if (key && !inv.failed) writeEntry(dir, "inventory", `${BUILD}\n${key}`, JSON.stringify(inv), (m) => o.log?.(m));
  for (const f of inv.failed ?? []) o.log?.("warning", `NVML could not read GPU ${f.index}: ${f.message}`);
  return inv;
}

/** Everything the core decides from about the driver, gathered now. */
function gather(o: FactOptions): { facts: DriverFacts; inputs: FingerprintInput } {
  const root = o.driver.root;
  const entries = driverEntries(o.driver);
  mark("ldcache");
  const procfs = procfsFiles();
  const nvml = nvmlPath(root, entries);
  const inv = inventory(o, nvml, procfs);
  mark("inventory");
  const libraries = libraryFacts(o.driver, entries);
  const facts: DriverFacts = {
    root,
    devRoot: o.devRoot ?? "/",
    inventory: inv,
    libraries,
    binaries: binaryFacts(o.driver),
    firmware: firmwareFacts(o.driver, inv.driver),
    ipcs: ipcFacts(o.driver, o.mpsPipeDir ? [o.mpsPipeDir] : []),
    nodes: nodeFacts(o.devRoot ?? "/"),
    files: fileFacts(o.driver),
    majors: procDevices(),
    // The table lists 32 GPUs; only those of this inventory can be asked for.
    migMinors: migMinors().filter((m) => !m.name.startsWith("gpu") || inv.gpus.some((g) => g.migCapable && m.name.startsWith(`gpu${g.minor}/`))),
    procfs,
    params: procParams(),
    graphics: [],
    drm: drmFacts(o.devRoot ?? "/", inv.gpus),
  };
  const dirs = new Set<string>();
  for (const l of libraries) for (const p of [l.path, l.resolved]) if (p) dirs.add(p.slice(0, p.lastIndexOf("/")) || "/");
  // Xorg modules are looked for beside the driver's libraries where they really are (links resolved).
  const realDirs = new Set(libraries.filter((l) => l.resolved).map((l) => l.resolved.slice(0, l.resolved.lastIndexOf("/")) || "/"));
  facts.graphics = graphicsFacts(o.driver, [...realDirs].sort(), inv.driver);
  dirs.add(`/lib/firmware/nvidia/${inv.driver}`);
  const inputs: FingerprintInput = {
    root,
    devRoot: o.devRoot ?? "/",
    ldcache: ldcacheFile(o.driver),
    libDirs: [...dirs].sort(),
    nvml,
    extraIpcs: o.mpsPipeDir ? [o.mpsPipeDir] : [],
    drmDirs: inv.gpus.map((g) => `/sys/bus/pci/devices/${sysfsBusId(g.busId)}/drm`),
  };
  mark("facts");
  return { facts, inputs };
}

interface Index {
  inputs: FingerprintInput;
  fingerprint: string;
}

const isIndex = (v: any): v is Index => typeof v?.fingerprint === "string" && typeof v.inputs?.root === "string" && Array.isArray(v.inputs.libDirs) && Array.isArray(v.inputs.extraIpcs) && Array.isArray(v.inputs.drmDirs);
/** Facts as gather() makes them, whose GPUs are the ones the driver's procfs shows now. */
const isFacts = (v: any): v is DriverFacts =>
  isInventory(v?.inventory) && Array.isArray(v.libraries) && Array.isArray(v.nodes) && Array.isArray(v.migMinors) && Array.isArray(v.graphics) && Array.isArray(v.drm) && agreesWithProcfs(v.inventory);

/**
 * The driver's fingerprint, and its facts when asked for: from the cache while the fingerprint
 * the cached facts were gathered under is still the driver's, else gathered (and cached). The
 * index (what the fingerprint is made of) and the facts are separate entries, so that a decision
 * cached under the fingerprint is found without reading the facts at all.
 */
export function factsAndFingerprint(o: FactOptions): { facts: () => DriverFacts; fingerprint: string } {
  const dir = o.cacheDir ?? "";
  const slot = `${BUILD}\nroot ${o.driver.root}\nldcache ${o.driver.ldcache ?? ""}\ndev ${o.devRoot ?? "/"}\nmps ${o.mpsPipeDir ?? ""}`;
  if (dir) {
    const index = readJson(dir, "index", slot, isIndex);
    if (index) {
      const fingerprint = driverFingerprint(index.inputs);
      mark("fingerprint");
      if (fingerprint === index.fingerprint) {
        let facts: DriverFacts | null = null;
        return {
          fingerprint,
          facts: () => {
            facts ??= readJson(dir, "facts", `${BUILD}\n${fingerprint}`, isFacts);
            if (facts) o.log?.("driver facts from cache");
            return (facts ??= gatherAndCache(o, dir, slot).facts);
          },
        };
      }
    }
  }
  const g = gatherAndCache(o, dir, slot);
  return { facts: () => g.facts, fingerprint: g.fingerprint };
}

function gatherAndCache(o: FactOptions, dir: string, slot: string): { facts: DriverFacts; fingerprint: string } {
  const { facts, inputs } = gather(o);
  const fingerprint = driverFingerprint(inputs);
  if (dir && !(facts.inventory as NvmlInventory).failed) {
    writeEntry(dir, "facts", `${BUILD}\n${fingerprint}`, JSON.stringify(facts), (m) => o.log?.(m));
    writeEntry(dir, "index", slot, JSON.stringify({ inputs, fingerprint }), (m) => o.log?.(m));
  }
  return { facts, fingerprint };
}

/** A bus id's domain, bus, device and function as numbers ("" when it is not one). */
function busKey(id: string): string {
  const m = /^(?:([0-9a-f]{1,8}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(id.trim());
  return m ? [m[1] ?? "0", m[2], m[3], m[4]].map((x) => parseInt(x, 16)).join(":") : "";
}

/**
 * Refuses a request that may name a GPU NVML could not read (its error kept, never cached):
 * `all`, its index or a MIG pair on it, or a UUID or bus id that none of the GPUs NVML read has.
 * A request for other GPUs (or none) goes on: a GPU lost does not stop containers that do not
 * use it. libnvidia-container fails every container while one GPU cannot be read.
 */
export function refuseFailedGpus(devices: string[], f: DriverFacts): void {
  const failed = (f.inventory as NvmlInventory).failed ?? [];
  if (!failed.length) return;
  const error = (xs: typeof failed, why = "") => new NvctError("nvml", `nvml error: ${xs.map((x) => `GPU ${x.index}: ${x.message}`).join("; ")}${why}`);
  const gpus = f.inventory.gpus;
  for (const raw of devices) {
    const id = raw.trim();
    if (id === "all") throw error(failed);
    const index = /^(\d+)(?::\d+)?$/.exec(id);
    if (index) {
      const x = failed.find((x) => String(x.index) === String(Number(index[1])));
      if (x) throw error([x]);
      continue;
    }
    const lower = id.toLowerCase();
    const bus = busKey(id);
    const readable = gpus.some((g) => g.uuid.toLowerCase() === lower || g.migs.some((m) => m.uuid.toLowerCase() === lower) || (bus !== "" && busKey(g.busId) === bus));
    if (!readable) throw error(failed, ` (\`${id}\` is none of the GPUs NVML could read)`);
  }
}

/** Everything the core decides from about the driver. */
export function driverFacts(o: FactOptions): DriverFacts {
  return factsAndFingerprint(o).facts();
}

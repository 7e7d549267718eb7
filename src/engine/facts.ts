// The driver's facts, gathered in one pass into one value for the core: its libraries (from the
// driver root's ld.so.cache), binaries, firmware, IPC paths, device nodes, procfs, and the
// inventory (from the cache an earlier container left while it still holds, else from NVML,
// which is then cached).
import { writeInventoryCache } from "../cache/inventory";
import { core, type DriverFacts, type LdEntry } from "../core";
import {
  binaryFacts, fileFacts, firmwareFacts, ipcFacts, ldcacheBytes, libraryFacts, migMinors, nodeFacts, procDevices, procfsFiles, procParams,
  type DriverRoot,
} from "../discover/driver";
import { inventoryKey, nvmlPath, readCachedInventory, readInventory } from "../discover/inventory";
import { NvctError } from "../errors";
import type { NvmlInventory } from "../sys/nvml";
import { mark } from "../trace";

export interface FactOptions {
  driver: DriverRoot;
  /** Where the device nodes are (`nvidia-ctk cdi generate --dev-root`); default /. */
  devRoot?: string;
  /** Where NVML's answer is cached; "" = always ask NVML. */
  inventoryCache?: string;
  /** $CUDA_MPS_PIPE_DIRECTORY of the caller, looked for as an IPC path too. */
  mpsPipeDir?: string;
  log?: (msg: string, data?: unknown) => void;
}

function inventory(o: FactOptions, nvml: string, procfs: string[]): NvmlInventory {
  const cache = o.inventoryCache ?? "";
  const key = cache ? inventoryKey(o.driver.root, nvml, procfs) : null;
  const gpuDirs = procfs.filter((f) => f.startsWith("gpus/") && f.endsWith("/information")).length;
  if (key) {
    const cached = readCachedInventory(cache, key);
    if (cached && cached.gpus.length === gpuDirs) {
      o.log?.("inventory from cache");
      return cached;
    }
  }
  let inv: NvmlInventory;
  try {
    inv = readInventory(nvml);
  } catch (e) {
    throw e instanceof NvctError ? e : new NvctError("nvml", (e as Error).message, e);
  }
  if (key) writeInventoryCache(cache, key, inv, (m) => o.log?.(m));
  return inv;
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

/** Everything the core decides from about the driver. */
export function driverFacts(o: FactOptions): DriverFacts {
  const root = o.driver.root;
  const entries = driverEntries(o.driver);
  mark("ldcache");
  const procfs = procfsFiles();
  const inv = inventory(o, nvmlPath(root, entries), procfs);
  mark("inventory");
  const facts: DriverFacts = {
    root,
    devRoot: o.devRoot ?? "/",
    inventory: inv,
    libraries: libraryFacts(o.driver, entries),
    binaries: binaryFacts(o.driver),
    firmware: firmwareFacts(o.driver, inv.driver),
    ipcs: ipcFacts(o.driver, o.mpsPipeDir ? [o.mpsPipeDir] : []),
    nodes: nodeFacts(o.devRoot ?? "/"),
    files: fileFacts(o.driver),
    majors: procDevices(),
    migMinors: migMinors(),
    procfs,
    params: procParams(),
  };
  mark("facts");
  return facts;
}

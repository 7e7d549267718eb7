// The inventory without NVML on the hot path: NVML's answer is kept in a cache file, valid while
// the driver's procfs says the same things it said then (driver version, each GPU's information
// file: model, UUID, minor, bus; the MIG capability tree) and libnvidia-ml is the same file.
// NVML initialisation takes from tens to hundreds of milliseconds on real machines.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { writeAtomic } from "../atomic";
import type { LdCacheEntry } from "../core";
import type { NvmlInventory } from "../sys/nvml";
import { nvmlPath, readInventory } from "./driver";
import type { DriverRoot } from "./files";

const PROC = "/proc/driver/nvidia";

function tree(dir: string, depth: number, out: string[]): void {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const n of names) {
    out.push(`${dir}/${n}`);
    if (depth > 0) tree(`${dir}/${n}`, depth - 1, out);
  }
}

/**
 * What the cached inventory depends on, verbatim (a few KB; compared whole, no hash: node:crypto
 * would be one more module loaded at every start); null when procfs has no driver to go by.
 */
export function inventoryKey(r: DriverRoot, nvml: string): string | null {
  const parts: string[] = [];
  try {
    parts.push(readFileSync(`${PROC}/version`, "utf8"));
    for (const bus of readdirSync(`${PROC}/gpus`).sort()) parts.push(bus, readFileSync(`${PROC}/gpus/${bus}/information`, "utf8"));
    const st = statSync(nvml);
    parts.push(`${r.root}\n${nvml}\n${st.ino}:${st.size}:${st.mtimeMs}`);
  } catch {
    return null;
  }
  tree(`${PROC}/capabilities`, 4, parts);
  return parts.join("\n");
}

/**
 * The inventory, from `cacheFile` when its key still holds, else from NVML (and the cache is
 * rewritten). An empty cacheFile disables the cache. A cache that cannot be written is no error.
 */
export function cachedInventory(r: DriverRoot, entries: LdCacheEntry[], cacheFile: string, log?: (m: string) => void): NvmlInventory {
  const key = cacheFile ? inventoryKey(r, nvmlPath(r, entries)) : null;
  if (key) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, "utf8"));
      if (c?.key === key && Array.isArray(c.inventory?.gpus)) {
        log?.("inventory from cache");
        return c.inventory as NvmlInventory;
      }
    } catch {}
  }
  const inv = readInventory(r, entries);
  if (key) {
    try {
      writeAtomic(cacheFile, JSON.stringify({ key, inventory: inv }));
    } catch (e) {
      log?.(`inventory cache not written: ${(e as Error).message}`);
    }
  }
  return inv;
}

// Writes the inventory cache that discover/inventory.ts reads: whole or not at all, never through
// a symlink, and only into a directory of root's.
import { writeAtomic } from "../atomic";
import type { NvmlInventory } from "../sys/nvml";

/** Writes the cache; a cache that cannot be written is no error (the next start asks NVML). */
export function writeInventoryCache(file: string, key: string, inventory: NvmlInventory, log?: (m: string) => void): void {
  try {
    writeAtomic(file, JSON.stringify({ key, inventory }), "driver", { mode: 0o644, followLink: false });
  } catch (e) {
    log?.(`inventory cache not written: ${(e as Error).message}`);
  }
}

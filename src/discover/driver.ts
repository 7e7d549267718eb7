// The driver inventory: GPUs, MIG devices and versions, read through NVML under the driver root.
import { readFileSync } from "node:fs";
import { NvctError } from "../errors";
import { Nvml, type NvmlInventory } from "../sys/nvml";
import { type DriverRoot, loadLdCache } from "./files";
import { resolveIn, under } from "./paths";
import type { LdCacheEntry } from "../core";

export const NVML_SONAME = "libnvidia-ml.so.1";

/** Host path of libnvidia-ml.so.1 as the driver root's ld cache knows it. */
export function nvmlPath(r: DriverRoot, entries: LdCacheEntry[]): string {
  const e = entries.find((x) => x.bits === 64 && x.name === NVML_SONAME);
  const resolved = e && resolveIn(r.root, e.path);
  if (!resolved) {
    throw new NvctError("nvml-load", `load library failed: ${NVML_SONAME}: cannot open shared object file: no such file or directory`);
  }
  return under(r.root, resolved);
}

/** Opens NVML under the driver root, reads the whole inventory, and shuts NVML down. */
export function readInventory(r: DriverRoot, entries = loadLdCache(r)): NvmlInventory {
  const nvml = new Nvml(nvmlPath(r, entries));
  try {
    return nvml.inventory();
  } finally {
    nvml.shutdown();
  }
}

/** `gpuM/giG[/ciC]/access` -> minor, from /proc/driver/nvidia-caps/mig-minors. */
export function migMinors(text?: string): Map<string, number> {
  const out = new Map<string, number>();
  try {
    text ??= readFileSync("/proc/driver/nvidia-caps/mig-minors", "utf8");
  } catch {
    return out;
  }
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) out.set(k, Number(v));
  }
  return out;
}

// The driver's inventory: GPUs, MIG devices and versions, from NVML under the driver root, or
// from the cache an earlier container left, when it still describes this driver. Reads only.
import { readdirSync, readFileSync, statSync } from "node:fs";
import type { LdEntry } from "../core";
import { NvctError } from "../errors";
import { Nvml, type NvmlInventory } from "../sys/nvml";
import { PROC } from "./driver";
import { resolveIn, under } from "./paths";

export const NVML_SONAME = "libnvidia-ml.so.1";

/** Host path of libnvidia-ml.so.1 as the driver root's ld cache knows it. */
export function nvmlPath(root: string, entries: LdEntry[]): string {
  const e = entries.find((x) => x.bits === 64 && x.name === NVML_SONAME);
  const resolved = e && resolveIn(root, e.path);
  if (!resolved) throw new NvctError("nvml", `load library failed: ${NVML_SONAME}: cannot open shared object file: no such file or directory`);
  return under(root, resolved);
}

/** Opens NVML, reads the whole inventory, and shuts NVML down. */
export function readInventory(nvml: string): NvmlInventory {
  const n = new Nvml(nvml);
  try {
    return n.inventory();
  } finally {
    n.shutdown();
  }
}

/**
 * What a cached inventory depends on, verbatim (a few KB, compared whole): the driver's version
 * file, each GPU's information file, the MIG capability files, and libnvidia-ml's identity. Null
 * when procfs has no driver to go by.
 */
export function inventoryKey(root: string, nvml: string, procfs: string[]): string | null {
  const parts: string[] = [];
  try {
    parts.push(readFileSync(`${PROC}/version`, "utf8"));
    for (const f of procfs) if (f.startsWith("gpus/") && f.endsWith("/information")) parts.push(f, readFileSync(`${PROC}/${f}`, "utf8"));
    const st = statSync(nvml);
    parts.push(`${root}\n${nvml}\n${st.ino}:${st.size}:${st.mtimeMs}`);
  } catch {
    return null;
  }
  for (const f of procfs) if (f.startsWith("capabilities/")) parts.push(f);
  return parts.join("\n");
}

/** Each GPU as the driver's procfs describes it: its UUID, minor number and bus location. */
function procfsGpus(): { uuid: string; minor: number; bus: string }[] | null {
  try {
    return readdirSync(`${PROC}/gpus`).map((d) => {
      const t = readFileSync(`${PROC}/gpus/${d}/information`, "utf8");
      const field = (name: string) => new RegExp(`^${name}:\\s*(\\S+)`, "m").exec(t)?.[1] ?? "";
      return { uuid: field("GPU UUID"), minor: Number(field("Device Minor")), bus: field("Bus Location").toLowerCase() };
    });
  } catch {
    return null;
  }
}

/** A bus id without its domain's leading zeros (NVML: 32-bit domain; procfs: 16-bit). */
const bus = (b: string) => b.toLowerCase().replace(/^0+(?=[0-9a-f]{4}:)/, "");

/**
 * Whether an inventory (from the cache) names exactly the GPUs the driver's procfs shows: as
 * many, each with the UUID, minor number and bus location of one of them. An entry forged with
 * another host's GPUs, or with two GPUs' minors swapped, is refused however its key reads.
 */
export function agreesWithProcfs(inv: NvmlInventory): boolean {
  const gpus = procfsGpus();
  if (!gpus || gpus.length !== inv.gpus.length) return false;
  return inv.gpus.every((g) => gpus.some((p) => p.uuid === g.uuid && p.minor === g.minor && bus(p.bus) === bus(g.busId)));
}

/** An inventory as NVML's reading gives it (a cached one is checked against this). */
export function isInventory(v: any): v is NvmlInventory {
  return (
    typeof v?.driver === "string" &&
    typeof v.cuda === "string" &&
    Array.isArray(v.gpus) &&
    v.gpus.every(
      (g: any) =>
        Number.isInteger(g?.index) && Number.isInteger(g.minor) && typeof g.uuid === "string" && typeof g.busId === "string" &&
        typeof g.model === "string" && typeof g.brand === "string" && typeof g.arch === "string" && typeof g.migCapable === "boolean" &&
        typeof g.migEnabled === "boolean" && Array.isArray(g.migs) &&
        g.migs.every((m: any) => Number.isInteger(m?.index) && Number.isInteger(m.gi) && Number.isInteger(m.ci) && typeof m.uuid === "string"),
    )
  );
}

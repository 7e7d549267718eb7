// The graphics facts: the driver's graphics files where the host keeps them, and each GPU's DRM
// nodes as the kernel lists them in sysfs. Reads only; where each goes is the core's decision.
import { readdirSync, readlinkSync } from "node:fs";
import { posix } from "node:path";
import type { DrmFact, GpuFact, LinkFact, NodeFact, PathFact } from "../core";
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import { isFileIn, statNode, type DriverRoot } from "./driver";
import { under } from "./paths";

/**
 * Each graphics config, the first found under the config roots; each Xorg module, the first
 * found under the driver's library directories' Xorg subdirectories, then the X server's own.
 */
export function graphicsFacts(r: DriverRoot, libDirs: string[], version: string): PathFact[] {
  const out: PathFact[] = [];
  for (const name of VOCABULARY.graphicsConfigs) {
    for (const root of VOCABULARY.configRoots) {
      const path = `${root}/${name}`;
      const resolved = isFileIn(r.root, path);
      if (resolved) {
        out.push({ path, resolved });
        break;
      }
    }
  }
  const dirs = [...new Set([...libDirs.flatMap((l) => VOCABULARY.xorgLibSubdirs.map((s) => posix.join(l, s))), ...VOCABULARY.xorgDirs])];
  for (const m of VOCABULARY.xorgModules) {
    const name = m.replace("{version}", version);
    for (const dir of dirs) {
      const path = `${dir}/${name}`;
      const resolved = isFileIn(r.root, path);
      if (resolved) {
        out.push({ path, resolved });
        break;
      }
    }
  }
  return out;
}

/** The kernel's name of a PCI device (sysfs, /dev/dri/by-path): NVML's bus id with a 16-bit domain, lower case. */
export function sysfsBusId(nvmlBusId: string): string {
  const id = nvmlBusId.toLowerCase();
  return /^0000[0-9a-f]{4}:/.test(id) ? id.slice(4) : id;
}

/**
 * Each GPU's DRM nodes: the entries of the host's /sys/bus/pci/devices/<bus>/drm that are
 * character devices under the dev root's /dev/dri, and its /dev/dri/by-path card and render links.
 */
export function drmFacts(devRoot: string, gpus: GpuFact[], sysfs = "/sys/bus/pci/devices"): DrmFact[] {
  const out: DrmFact[] = [];
  for (const g of gpus) {
    const bus = sysfsBusId(g.busId);
    let names: string[] = [];
    try {
      names = readdirSync(`${sysfs}/${bus}/drm`).sort();
    } catch {
      continue;
    }
    const nodes: NodeFact[] = [];
    for (const n of names) {
      const node = statNode(under(devRoot, `/dev/dri/${n}`));
      if (node) nodes.push(node);
    }
    const links: LinkFact[] = [];
    for (const kind of ["card", "render"]) {
      const path = under(devRoot, `/dev/dri/by-path/pci-${bus}-${kind}`);
      try {
        links.push({ path, target: readlinkSync(path) });
      } catch {}
    }
    if (nodes.length) out.push({ busId: g.busId, nodes, links });
  }
  return out;
}

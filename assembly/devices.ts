// The device-id grammar of NVIDIA_VISIBLE_DEVICES and `--device`, and selection against the
// driver's inventory.
import { Code, Inventory, Outcome, ok } from "../build/out/gen/types";
import { fail } from "./outcome";
import { allDigits, hexPad, parseHex, parseUint } from "./text";

/** A selection: GPUs and MIG devices, as positions in the inventory, in request order. */
export class Selection {
  gpus: i32[] = [];
  /** [gpu position, mig position] pairs. */
  migs: i32[][] = [];
}

/** `%08x:%02x:%02x.%x` of a PCI bus id `[domain:]bus:device.function`, or "" when malformed. */
export function normalizeBusId(s: string): string {
  const dot = s.lastIndexOf(".");
  if (dot < 0) return "";
  const fn = parseHex(s.substring(dot + 1));
  const head = s.substring(0, dot).split(":");
  if (fn < 0 || fn > 7 || head.length < 2 || head.length > 3) return "";
  const dom = head.length == 3 ? parseHex(head[0]) : 0;
  const bus = parseHex(head[head.length - 2]);
  const dev = parseHex(head[head.length - 1]);
  if (dom < 0 || bus < 0 || bus > 0xff || dev < 0 || dev > 0x1f) return "";
  return hexPad(<u32>dom, 8) + ":" + hexPad(<u32>bus, 2) + ":" + hexPad(<u32>dev, 2) + "." + hexPad(<u32>fn, 1);
}

/**
 * select(ids, inventory). Grammar of an id (trimmed, non-empty): `all` (every GPU and every MIG
 * device), an index `0`, `GPU-<uuid>`, `MIG-<uuid>` (case-insensitive), a `gpu:mig` index pair
 * `0:1`, or a PCI bus id `[dddddddd:]bb:dd.f`. An empty list selects no device (the driver
 * alone). Each id selects one GPU or MIG device, in request order, without duplicates.
 * Failures: `bad-device-id` (malformed), `unknown-device` (no such device).
 */
export function select(ids: string[], inv: Inventory): Outcome<Selection> {
  const sel = new Selection();
  if (ids.includes("all")) {
    for (let g = 0; g < inv.gpus.length; g++) {
      sel.gpus.push(g);
      for (let m = 0; m < inv.gpus[g].migs.length; m++) sel.migs.push([g, m]);
    }
    return ok<Selection>(sel);
  }
  // Lookups by every spelling once: a request may name thousands of ids.
  const byKey = new Map<string, i32>();
  for (let g = 0; g < inv.gpus.length; g++) {
    const gpu = inv.gpus[g];
    byKey.set("i" + gpu.index.toString(), g);
    byKey.set("u" + gpu.uuid.toLowerCase(), g);
    const bus = normalizeBusId(gpu.busId);
    if (bus.length > 0) byKey.set("p" + bus, g);
    for (let m = 0; m < gpu.migs.length; m++) {
      // A MIG device's value: its GPU and MIG positions, marked by bit 30.
      const v = (g << 16) | m | 0x40000000;
      byKey.set("m" + gpu.migs[m].uuid.toLowerCase(), v);
      byKey.set("x" + gpu.index.toString() + ":" + gpu.migs[m].index.toString(), v);
    }
  }
  const seenGpu = new Set<i32>();
  const seenMig = new Set<i32>();
  for (let i = 0; i < ids.length; i++) {
    const t = ids[i];
    // `none` is the hook's word for "the driver alone"; to a device list it names no device.
    if (t == "none") return fail<Selection>(Code.UnknownDevice, "unknown device `none`");
    let k = "";
    if (allDigits(t)) {
      const v = parseUint(t);
      if (v < 0) return fail<Selection>(Code.BadDeviceId, "invalid device id `" + t + "`");
      k = "i" + v.toString();
    } else {
      const upper = t.toUpperCase();
      if (upper.startsWith("GPU-") && t.length > 4) k = "u" + t.toLowerCase();
      else if (upper.startsWith("MIG-") && t.length > 4) k = "m" + t.toLowerCase();
      else {
        const colon = t.indexOf(":");
        if (colon > 0 && t.indexOf(".") < 0) {
          const g = parseUint(t.substring(0, colon));
          const m = parseUint(t.substring(colon + 1));
          if (g < 0 || m < 0) return fail<Selection>(Code.BadDeviceId, "invalid device id `" + t + "`");
          k = "x" + g.toString() + ":" + m.toString();
        } else {
          const bus = normalizeBusId(t);
          if (bus.length == 0) return fail<Selection>(Code.BadDeviceId, "invalid device id `" + t + "`");
          k = "p" + bus;
        }
      }
    }
    if (!byKey.has(k)) return fail<Selection>(Code.UnknownDevice, "unknown device `" + t + "`");
    const v = byKey.get(k);
    if ((v & 0x40000000) != 0) {
      const code = v & 0x3fffffff;
      if (seenMig.has(code)) continue;
      seenMig.add(code);
      sel.migs.push([code >> 16, code & 0xffff]);
    } else {
      if (seenGpu.has(v)) continue;
      seenGpu.add(v);
      sel.gpus.push(v);
    }
  }
  return ok<Selection>(sel);
}

// The device-id grammar of NVIDIA_VISIBLE_DEVICES / `--device`, and selection against an inventory.
import { Outcome } from "./abi";
import { allDigits, hexPad, joinJson, lines, parseHex, parseUint, q } from "./text";

class Gpu {
  constructor(public index: i32, public minor: i32, public uuid: string, public bus: string) {}
}

class Mig {
  constructor(public gpu: i32, public index: i32, public uuid: string) {}
}

/** One parsed id: type is index, gpu-uuid, mig-uuid, mig-index or pci. */
class Id {
  constructor(public type: string, public text: string, public a: i32, public b: i32, public norm: string) {}
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

function parseId(t: string): Id | null {
  if (allDigits(t)) {
    const v = parseUint(t);
    return v < 0 ? null : new Id("index", t, <i32>v, -1, "");
  }
  const upper = t.toUpperCase();
  if (upper.startsWith("GPU-") && t.length > 4) return new Id("gpu-uuid", t, -1, -1, t.toLowerCase());
  if (upper.startsWith("MIG-") && t.length > 4) return new Id("mig-uuid", t, -1, -1, t.toLowerCase());
  const colon = t.indexOf(":");
  if (colon > 0 && t.indexOf(".") < 0) {
    const g = parseUint(t.substring(0, colon));
    const m = parseUint(t.substring(colon + 1));
    if (g < 0 || m < 0) return null;
    return new Id("mig-index", t, <i32>g, <i32>m, "");
  }
  const bus = normalizeBusId(t);
  if (bus.length > 0) return new Id("pci", t, -1, -1, bus);
  return null;
}

function idJson(id: Id): string {
  return '{"type":' + q(id.type) + ',"id":' + q(id.text) + "}";
}

function reply(kind: string, ids: Id[], gpus: i32[], migs: string[]): Outcome {
  const idj = new Array<string>();
  for (let i = 0; i < ids.length; i++) idj.push(idJson(ids[i]));
  const gj = new Array<string>();
  for (let i = 0; i < gpus.length; i++) gj.push(gpus[i].toString());
  return Outcome.success(
    '{"kind":' + q(kind) + ',"ids":' + joinJson(idj) + ',"gpus":' + joinJson(gj) + ',"migs":' + joinJson(migs) + "}",
  );
}

/**
 * devices(input). Grammar of input: line 1 is the request, a comma list whose trimmed items are
 * `void`, `none`, `all`, an index (`0`), `GPU-<uuid>`, `MIG-<uuid>`, a `gpu:mig` index pair (`0:1`)
 * or a PCI bus id (`[dddddddd:]bb:dd.f`). Further lines are the inventory, tab-separated:
 * `gpu <index> <minor> <uuid> <busid>` and `mig <gpu-index> <mig-index> <uuid>`.
 * Rules: an empty request or `void` anywhere selects nothing (kind `void`); otherwise the first of
 * `all`/`none` wins (every GPU / no GPU but the driver); otherwise each id selects one GPU or MIG
 * device, in request order, without duplicates.
 * Result: `{"kind":"void|none|all|list","ids":[...],"gpus":[index...],"migs":[[gpu,mig]...]}`.
 * Failures: `bad-device-id` (malformed id), `unknown-device` (no such device), `bad-inventory`.
 */
export function devices(input: string): Outcome {
  const ls = lines(input);
  const request = ls.length > 0 ? ls[0] : "";
  const gpus = new Array<Gpu>();
  const migs = new Array<Mig>();
  for (let i = 1; i < ls.length; i++) {
    const f = ls[i].split("\t");
    if (f.length == 5 && f[0] == "gpu" && allDigits(f[1]) && allDigits(f[2])) {
      gpus.push(new Gpu(<i32>parseUint(f[1]), <i32>parseUint(f[2]), f[3].toLowerCase(), normalizeBusId(f[4])));
    } else if (f.length == 4 && f[0] == "mig" && allDigits(f[1]) && allDigits(f[2])) {
      migs.push(new Mig(<i32>parseUint(f[1]), <i32>parseUint(f[2]), f[3].toLowerCase()));
    } else {
      return Outcome.failure("bad-inventory", "invalid inventory line `" + ls[i] + "`");
    }
  }

  const items = request.split(",");
  const ids = new Array<Id>();
  let special = "";
  let empty = true;
  for (let i = 0; i < items.length; i++) {
    const t = items[i].trim();
    if (t.length == 0) continue;
    empty = false;
    if (t == "void") return reply("void", [], [], []);
    if (t == "all" || t == "none") {
      if (special.length == 0) special = t;
      continue;
    }
    const id = parseId(t);
    if (id == null) return Outcome.failure("bad-device-id", "invalid device id `" + t + "`");
    ids.push(changetype<Id>(id));
  }
  if (empty) return reply("void", [], [], []);
  if (special == "none") return reply("none", ids, [], []);
  if (special == "all") {
    const all = new Array<i32>();
    for (let i = 0; i < gpus.length; i++) all.push(gpus[i].index);
    return reply("all", ids, all, []);
  }

  const selGpus = new Array<i32>();
  const selMigs = new Array<string>();
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    let g = -1;
    let m = -1;
    if (id.type == "mig-uuid" || id.type == "mig-index") {
      for (let k = 0; k < migs.length; k++) {
        const hit = id.type == "mig-uuid" ? migs[k].uuid == id.norm : migs[k].gpu == id.a && migs[k].index == id.b;
        if (hit) {
          g = migs[k].gpu;
          m = migs[k].index;
          break;
        }
      }
    } else {
      for (let k = 0; k < gpus.length; k++) {
        const gp = gpus[k];
        const hit = id.type == "index" ? gp.index == id.a : id.type == "gpu-uuid" ? gp.uuid == id.norm : gp.bus == id.norm;
        if (hit) {
          g = gp.index;
          break;
        }
      }
    }
    if (g < 0) return Outcome.failure("unknown-device", "unknown device `" + id.text + "`");
    if (m < 0) {
      if (!selGpus.includes(g)) selGpus.push(g);
    } else {
      const key = "[" + g.toString() + "," + m.toString() + "]";
      if (!selMigs.includes(key)) selMigs.push(key);
    }
  }
  return reply("list", ids, selGpus, selMigs);
}

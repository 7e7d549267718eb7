// The driver as the host shows it: its files under the driver root, its device nodes, its procfs.
// Facts only, read once each; what to do with them is the core's decision.
import { lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import type { IpcFact, LdEntry, LibFact, NamedNumber, NodeFact, PathFact } from "../core";
import { readRegular } from "../files";
import { NvctError } from "../errors";
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import { ldcacheFile, resolveIn, under } from "./paths";

export interface DriverRoot {
  /** The driver root (`--root`, default "/"). */
  root: string;
  /** The ld.so.cache to read, as a host path (default `<root>/etc/ld.so.cache`). */
  ldcache?: string;
}

export const PROC = "/proc/driver/nvidia";

/** The largest ld.so.cache read (a distribution's is well under 1 MiB). */
const MAX_LDCACHE = 64 << 20;

/** The driver root's ld.so.cache: where it is, and its bytes. */
export function ldcacheBytes(r: DriverRoot): { file: string; bytes: Uint8Array } {
  const file = ldcacheFile(r);
  try {
    return { file, bytes: readRegular(file, MAX_LDCACHE) };
  } catch (e) {
    throw new NvctError("driver", `failed to open \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
}

/** Each cache entry with the file it resolves to inside the root ("" when it does not). */
export function libraryFacts(r: DriverRoot, entries: LdEntry[]): LibFact[] {
  return entries.map((e) => ({ name: e.name, path: e.path, resolved: resolveIn(r.root, e.path) ?? "", bits: e.bits }));
}

export function isFileIn(root: string, p: string): string | null {
  const resolved = resolveIn(root, p);
  if (!resolved) return null;
  try {
    return statSync(under(root, resolved)).isFile() ? resolved : null;
  } catch {
    return null;
  }
}

/** The vocabulary's binaries, the first of each on the search path. */
export function binaryFacts(r: DriverRoot): PathFact[] {
  const out: PathFact[] = [];
  for (const name of VOCABULARY.binaries) {
    for (const dir of VOCABULARY.binPath) {
      const path = posix.join(dir, name);
      const resolved = isFileIn(r.root, path);
      if (resolved) {
        out.push({ path, resolved });
        break;
      }
    }
  }
  return out;
}

/** The files of the driver version's firmware directory. */
export function firmwareFacts(r: DriverRoot, version: string): PathFact[] {
  const dir = `${VOCABULARY.firmwareDir}${version}`;
  let names: string[];
  try {
    names = readdirSync(under(r.root, dir)).sort();
  } catch {
    return [];
  }
  const out: PathFact[] = [];
  for (const n of names) {
    const path = `${dir}/${n}`;
    const resolved = isFileIn(r.root, path);
    if (resolved) out.push({ path, resolved });
  }
  return out;
}

/** The IPC paths that exist (sockets, the MPS pipe directory), with where they resolve. */
export function ipcFacts(r: DriverRoot, extra: string[] = []): IpcFact[] {
  const out: IpcFact[] = [];
  for (const path of [...VOCABULARY.ipcs, ...extra]) {
    const resolved = resolveIn(r.root, path);
    if (!resolved) continue;
    try {
      out.push({ path, resolved, dir: statSync(under(r.root, resolved)).isDirectory() });
    } catch {}
  }
  return out;
}

/** The vocabulary's other host files that exist. */
export function fileFacts(r: DriverRoot): PathFact[] {
  const out: PathFact[] = [];
  for (const path of VOCABULARY.files) {
    const resolved = resolveIn(r.root, path);
    if (resolved) out.push({ path, resolved });
  }
  return out;
}

/** A device number's major and minor, as the kernel splits st_rdev (glibc's major()/minor()). */
export const major = (rdev: number) => Math.floor(rdev / 256) & 0xfff;
export const minor = (rdev: number) => (rdev & 0xff) | ((rdev >> 12) & 0xfff00);

/** A character device's rdev; null when absent or not one. */
export function statNode(path: string): NodeFact | null {
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice()) return null;
    return { path, major: major(st.rdev), minor: minor(st.rdev) };
  } catch {
    return null;
  }
}

/** The driver's character devices under the dev root: /dev entries by prefix, and the node directories. */
export function nodeFacts(devRoot: string): NodeFact[] {
  const dev = under(devRoot, "/dev");
  const out: NodeFact[] = [];
  let names: string[] = [];
  try {
    names = readdirSync(dev).sort();
  } catch {}
  for (const n of names) {
    if (!VOCABULARY.nodePrefixes.some((p) => n.startsWith(p))) continue;
    const node = statNode(`${dev}/${n}`);
    if (node) out.push(node);
  }
  for (const d of VOCABULARY.nodeDirs) {
    const dir = under(devRoot, d);
    let entries: string[] = [];
    try {
      entries = readdirSync(dir).sort();
    } catch {
      continue;
    }
    for (const n of entries) {
      const node = statNode(`${dir}/${n}`);
      if (node) out.push(node);
    }
  }
  return out;
}

/** Character device majors by name, from /proc/devices. */
export function procDevices(text = readFileSync("/proc/devices", "utf8")): NamedNumber[] {
  const out: NamedNumber[] = [];
  for (const line of text.split("\nBlock devices:")[0].split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
    if (m) out.push({ name: m[2], value: Number(m[1]) });
  }
  return out;
}

/** /proc/driver/nvidia-caps/mig-minors: `gpuM/giG[/ciC]/access`, `config`, `monitor` to minors. */
export function migMinors(text?: string): NamedNumber[] {
  try {
    text ??= readFileSync("/proc/driver/nvidia-caps/mig-minors", "utf8");
  } catch {
    return [];
  }
  const out: NamedNumber[] = [];
  for (const line of text.split("\n")) {
    const [k, v] = line.trim().split(/\s+/);
    if (k && v && /^\d+$/.test(v)) out.push({ name: k, value: Number(v) });
  }
  return out;
}

/** The files under /proc/driver/nvidia, relative: version, params, registry, gpus/*, capabilities/**. */
export function procfsFiles(base = PROC): string[] {
  const out: string[] = [];
  const walk = (rel: string, depth: number) => {
    let names: string[];
    try {
      names = readdirSync(rel ? `${base}/${rel}` : base).sort();
    } catch {
      return;
    }
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      let st;
      try {
        st = lstatSync(`${base}/${r}`);
      } catch {
        continue;
      }
      if (st.isDirectory()) {
        if (depth > 0) walk(r, depth - 1);
      } else if (st.isFile()) out.push(r);
    }
  };
  walk("", 6);
  return out;
}

/** /proc/driver/nvidia/params ("" without a driver). */
export function procParams(base = PROC): string {
  try {
    return readFileSync(`${base}/params`, "utf8");
  } catch {
    return "";
  }
}

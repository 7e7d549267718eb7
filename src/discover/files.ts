// The driver's files on the host: libraries (from the driver root's ld.so.cache), binaries,
// firmware, IPC paths and control device nodes. Facts only; what to do with them is decided later.
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { readLdCache, type LdCacheEntry } from "../core";
import { NvctError } from "../errors";
import { BIN_PATH, BINARIES, CTL_MINOR, IPCS, LIBRARIES, MODESET_MINOR, NVIDIA_MAJOR } from "./tables";
import { resolveIn, under } from "./paths";

export interface DriverRoot {
  /** The driver root (`--root`, default "/"). */
  root: string;
  /** The ld.so.cache to read, as a host path (default `<root>/etc/ld.so.cache`). */
  ldcache?: string;
}

export interface Library {
  /** The library group: utility, compute, video, graphics, ngx. */
  group: string;
  /** Host path of the versioned file (root prefix included). */
  path: string;
  bits: 32 | 64;
  /** The name the ld cache knows the file by (its SONAME). */
  soname: string;
}

/** Reads the driver root's ld cache: only the driver's libraries unless `all`. */
export function loadLdCache(r: DriverRoot, all = false): LdCacheEntry[] {
  const file = r.ldcache ?? under(r.root, "/etc/ld.so.cache");
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    throw new NvctError("ldcache", `failed to open \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  try {
    return readLdCache(bytes, all ? [] : Object.values(LIBRARIES).flat());
  } catch (e) {
    throw new NvctError("ldcache", `\`${file}\`: ${(e as Error).message}`, e);
  }
}

/** Driver libraries found in the cache: name prefix match, resolved file ending in the version. */
export function findLibraries(r: DriverRoot, entries: LdCacheEntry[], version: string): Library[] {
  const out: Library[] = [];
  const seen = new Set<string>();
  // Index by stem once: this runs cold, in the interpreter, where every loop iteration counts.
  const byStem = new Map<string, LdCacheEntry[]>();
  for (const e of entries) {
    const i = e.name.indexOf(".so.");
    // `X.so` development links are not SONAMEs: the file is found through its SONAME entry.
    if (i < 0) continue;
    const stem = e.name.slice(0, i);
    const list = byStem.get(stem);
    if (list) list.push(e);
    else byStem.set(stem, [e]);
  }
  for (const bits of [64, 32] as const) {
    for (const [group, names] of Object.entries(LIBRARIES)) {
      for (const name of names) {
        for (const e of byStem.get(name) ?? []) {
          if (e.bits !== bits) continue;
          const resolved = resolveIn(r.root, e.path);
          if (!resolved || !resolved.endsWith(`.so.${version}`)) continue;
          const path = under(r.root, resolved);
          if (seen.has(path)) continue;
          seen.add(path);
          out.push({ group, path, bits, soname: e.name });
        }
      }
    }
  }
  return out;
}

export interface Binary {
  group: string;
  path: string;
}

export function findBinaries(r: DriverRoot): Binary[] {
  const out: Binary[] = [];
  for (const [group, names] of Object.entries(BINARIES)) {
    for (const name of names) {
      for (const dir of BIN_PATH) {
        const resolved = resolveIn(r.root, posix.join(dir, name));
        if (resolved && isFile(under(r.root, resolved))) {
          out.push({ group, path: under(r.root, posix.join(dir, name)) });
          break;
        }
      }
    }
  }
  return out;
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

export function findFirmware(r: DriverRoot, version: string): string[] {
  const dir = under(r.root, `/lib/firmware/nvidia/${version}`);
  try {
    return readdirSync(dir)
      .filter((f) => f.startsWith("gsp") && f.endsWith(".bin"))
      .sort()
      .map((f) => posix.join(dir, f));
  } catch {
    return [];
  }
}

export function findIpcs(r: DriverRoot, env: Record<string, string | undefined> = {}): Binary[] {
  const out: Binary[] = [];
  for (const [group, paths] of Object.entries(IPCS)) {
    for (let p of paths) {
      if (p === "/tmp/nvidia-mps" && env.CUDA_MPS_PIPE_DIRECTORY) p = env.CUDA_MPS_PIPE_DIRECTORY;
      const host = under(r.root, p);
      if (existsSync(host)) out.push({ group, path: host });
    }
  }
  return out;
}

export interface DeviceNode {
  path: string;
  major: number;
  minor: number;
}

/** Majors of character devices by name, from /proc/devices. */
export function procDevices(text = readFileSync("/proc/devices", "utf8")): Map<string, number> {
  const out = new Map<string, number>();
  const chars = text.split("\nBlock devices:")[0];
  for (const line of chars.split("\n")) {
    const m = /^\s*(\d+)\s+(\S+)$/.exec(line);
    if (m) out.set(m[2], Number(m[1]));
  }
  return out;
}

/** Reads the rdev of a node; null when absent or not a character device. */
export function statNode(path: string): DeviceNode | null {
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice()) return null;
    return { path, major: Math.floor(st.rdev / 256) & 0xfff, minor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00) };
  } catch {
    return null;
  }
}

/** The control nodes present on the host: nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset. */
export function controlNodes(devRoot = "/"): DeviceNode[] {
  const want: [string, number | null, number | null][] = [
    ["/dev/nvidiactl", NVIDIA_MAJOR, CTL_MINOR],
    ["/dev/nvidia-uvm", null, null],
    ["/dev/nvidia-uvm-tools", null, null],
    ["/dev/nvidia-modeset", NVIDIA_MAJOR, MODESET_MINOR],
  ];
  const out: DeviceNode[] = [];
  for (const [p, major, minor] of want) {
    const n = statNode(under(devRoot, p));
    if (!n) continue;
    if (major !== null && (n.major !== major || n.minor !== minor)) continue;
    out.push(n);
  }
  return out;
}

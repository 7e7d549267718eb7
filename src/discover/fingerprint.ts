// What the driver's facts depend on, cheap to read again: the identity (inode, size, change time)
// of every file and directory they were gathered from, and the small procfs files verbatim. Two
// equal fingerprints mean the facts would be gathered the same; the decision cache keys on it.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { posix } from "node:path";
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import { PROC } from "./driver";
import { under } from "./paths";

function id(path: string): string {
  try {
    // Most of these paths are absent on any one host: an absent one answers undefined, not an
    // exception (a thrown error costs more than the stat).
    const st = statSync(path, { bigint: true, throwIfNoEntry: false });
    if (!st) return `${path} absent`;
    return `${path} ${st.dev}:${st.ino} ${st.size} ${st.mtimeNs} ${st.ctimeNs} ${st.mode}`;
  } catch (e) {
    return `${path} ${(e as NodeJS.ErrnoException).code}`;
  }
}

function text(path: string): string {
  try {
    return `${path}\n${readFileSync(path, "utf8")}`;
  } catch (e) {
    return `${path} ${(e as NodeJS.ErrnoException).code}`;
  }
}

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

export interface FingerprintInput {
  root: string;
  devRoot: string;
  /** The ld.so.cache the libraries come from. */
  ldcache: string;
  /** The directories the driver's libraries and their links are in (from the facts). */
  libDirs: string[];
  /** libnvidia-ml, whose answers the inventory is. */
  nvml: string;
  /** More IPC paths looked at ($CUDA_MPS_PIPE_DIRECTORY). */
  extraIpcs: string[];
  /** The GPUs' sysfs directories whose drm entries are the DRM nodes. */
  drmDirs: string[];
}

/**
 * The fingerprint: identities of the ld cache, the library and binary directories, the firmware,
 * IPC and feature paths and the graphics search directories (an absent one recorded as absent),
 * the device directories (with /dev/dri), the GPUs' sysfs drm directories,
 * libnvidia-ml; /proc/devices, the driver's version, params, each GPU's
 * information file and the MIG capability tree verbatim.
 */
export function driverFingerprint(i: FingerprintInput): string {
  const parts: string[] = [`root ${i.root}`, `dev ${i.devRoot}`];
  const paths = new Set<string>([i.ldcache, i.nvml, ...i.libDirs.map((d) => under(i.root, d))]);
  for (const d of VOCABULARY.binPath) paths.add(under(i.root, d));
  // Each IPC and feature path by its own identity (an absent one as ENOENT, so that one appearing
  // changes it), never its parent's: /tmp (of /tmp/nvidia-mps) and /run change all the time.
  for (const p of [...VOCABULARY.ipcs, ...VOCABULARY.files, ...i.extraIpcs]) paths.add(under(i.root, p));
  paths.add(under(i.root, VOCABULARY.firmwareDir));
  // Where graphics files are looked for: each candidate's directory, whose change time moves when
  // a file comes or goes, and which is recorded as absent until it is made (so no parent needed).
  for (const root of VOCABULARY.configRoots) for (const n of VOCABULARY.graphicsConfigs) paths.add(under(i.root, posix.dirname(`${root}/${n}`)));
  for (const l of i.libDirs) for (const sub of VOCABULARY.xorgLibSubdirs) paths.add(under(i.root, posix.join(l, sub)));
  for (const d of VOCABULARY.xorgDirs) paths.add(under(i.root, d));
  for (const d of ["/dev/dri", "/dev/dri/by-path"]) paths.add(under(i.devRoot, d));
  for (const d of i.drmDirs) paths.add(d);
  paths.add(under(i.devRoot, "/dev"));
  for (const d of VOCABULARY.nodeDirs) paths.add(under(i.devRoot, d));
  for (const p of [...paths].sort()) parts.push(id(p));
  for (const f of ["/proc/devices", `${PROC}/version`, `${PROC}/params`, "/proc/driver/nvidia-caps/mig-minors"]) parts.push(f === "/proc/driver/nvidia-caps/mig-minors" ? id(f) : text(f));
  let gpus: string[] = [];
  try {
    gpus = readdirSync(`${PROC}/gpus`).sort();
  } catch {}
  for (const g of gpus) parts.push(text(`${PROC}/gpus/${g}/information`));
  tree(`${PROC}/capabilities`, 5, parts);
  return parts.join("\n");
}

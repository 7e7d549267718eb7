// Everything `doctor` looks at on the host, gathered once into plain data: the driver's procfs,
// its device nodes, the ld cache, NVML's answers, config.toml, the toolkit's binaries, each
// container engine's config and socket, the CDI specs, the cgroup hierarchy, the decision cache.
// Reads only, and never throws: what cannot be read is a fact too (its error, named). The
// verdicts are src/engine/doctor.ts's, a pure function of this value.
import { lstatSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createConnection } from "node:net";
import { executable, lookPath } from "../discover/path";
import { specDriverVersions, specHostPaths, specProblems } from "../cdi/validate";
import { KINDS, keyHash, MAX_ENTRY, readJson } from "../cache/store";
import { configPath, defaults, loadConfig, type Config } from "../config/config";
import { inspectContainerd, inspectCrio, inspectDocker, inspectPodman, type EngineConfig } from "../engines/inspect";
import type { Env } from "../io";
import { Nvml, type NvmlProbe } from "../sys/nvml";
import { BUILD } from "../version";
import { readSpecFiles } from "../discover/cdi";
import { hostCgroupVersion, v1DevicesMount } from "../discover/container";
import { major, minor, PROC, procDevices, procfsFiles } from "../discover/driver";
import { driverFingerprint, type FingerprintInput } from "../discover/fingerprint";
import { isInventory, inventoryKey, nvmlPath } from "../discover/inventory";
import { ldcacheFile, resolveIn } from "../discover/paths";
import { driverEntries } from "./facts";

/** A device node as stat shows it (`present: false` when there is nothing at the path). */
export interface NodeStat {
  path: string;
  present: boolean;
  /** A character device (else: a file or directory where the node should be). */
  char?: boolean;
  major?: number;
  minor?: number;
  /** Permission bits (0o666). */
  mode?: number;
}

export interface LibraryFact {
  /** The SONAME looked for (libcuda.so.1). */
  name: string;
  /** The path the ld cache gives for it (64-bit), absent when the cache has none. */
  path?: string;
  /** Where it resolves inside the driver root; null when it does not (a dangling link). */
  resolved?: string | null;
}

export interface EngineFacts extends EngineConfig {
  /** The engine's binary on PATH (podman), or its daemon's (dockerd, containerd, crio). */
  installed: boolean;
  /** Its API socket: absent, present but nobody answers (a stale file), or answering. */
  socket: { path: string; state: "absent" | "stale" | "answers" };
  /** Each runtime entry's binary, as the engine would find it (null: not found). */
  found: Record<string, string | null>;
}

export interface SpecFacts {
  file: string;
  /** Unreadable, or not JSON / YAML. */
  error?: string;
  /** Schema problems (src/cdi/validate.ts). */
  problems: string[];
  kind?: string;
  devices: number;
  /** The driver versions its libraries, firmware and hooks name. */
  driverVersions: string[];
  /** Host paths it uses that do not exist (a few). */
  missing: string[];
  /** How many host paths it uses. */
  hostPaths: number;
}

export interface CacheEntryProblem {
  name: string;
  why: string;
}

export interface CacheFacts {
  /** `[nvct] cache-dir` ("" = the cache is off). */
  dir: string;
  /** The directory: missing, not one nvct trusts (why), or usable. */
  state: "off" | "absent" | "untrusted" | "ok";
  why?: string;
  /** Entries that hold a key and a value (of this build or another). */
  entries: number;
  /** Entries another build wrote (unused by this one; pruned as new ones come). */
  otherBuild: number;
  /** Entries nvct would refuse and compute again. */
  bad: CacheEntryProblem[];
  /** This build's driver index: none, or whether the driver's fingerprint is still the one cached. */
  index: "none" | "fresh" | "stale";
  /** When stale: the first path the fingerprint holds whose identity or text changed since. */
  changed?: string;
  /** This build's cached inventory for the driver now: none, or compared with NVML's answers. */
  inventory: "none" | "matches" | "differs" | "unchecked";
  /** When the inventory differs: how. */
  inventoryDiff?: string;
}

export interface HostFacts {
  /** The driver root (`nvidia-container-cli.root`). */
  root: string;
  driver: {
    /** /proc/driver/nvidia/version's first line, null when there is none. */
    text: string | null;
    /** The kernel module's version, parsed. */
    version: string | null;
    /** params' DeviceFileMode (the mode the driver gives its nodes), when it says. */
    deviceFileMode: number | null;
    /** Each GPU's directory under /proc/driver/nvidia/gpus, with its Device Minor. */
    gpus: { bus: string; minor: number | null }[];
  };
  /** Character majors of /proc/devices by name. */
  majors: Record<string, number>;
  /** The nodes the driver makes: nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset, and nvidiaN of each GPU (keyed by name). */
  nodes: Record<string, NodeStat>;
  ldcache: { file: string; error?: string; libs: LibraryFact[] };
  nvml: { library: string | null; error?: string; probe?: NvmlProbe };
  config: {
    file: string;
    present: boolean;
    error?: string;
    unknownKeys: string[];
    mode: string;
    hookPath: string;
    specDirs: string[];
    noCgroups: boolean;
  };
  toolkit: {
    /** The prestart hook at `nvidia-container-runtime-hook.path`, when it is an executable. */
    hook: string | null;
    /** nvidia-container-runtime-hook on PATH (docker's --gpus runs it from there). */
    hookOnPath: string | null;
    /** nvidia-container-runtime on PATH. */
    runtimeOnPath: string | null;
  };
  engines: { docker: EngineFacts; containerd: EngineFacts; crio: EngineFacts; podman: EngineFacts };
  cdi: { dirs: string[]; specs: SpecFacts[] };
  cgroup: { version: 1 | 2; devices: string | null };
  cache: CacheFacts;
}

export const LIBRARIES = ["libcuda.so.1", "libnvidia-ml.so.1"];
export const CONTROL_NODES = ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset"];

const code = (e: unknown) => (e as NodeJS.ErrnoException).code ?? (e as Error).message;

function nodeStat(path: string): NodeStat {
  try {
    const st = statSync(path);
    if (!st.isCharacterDevice()) return { path, present: true, char: false, mode: st.mode & 0o7777 };
    return { path, present: true, char: true, major: major(st.rdev), minor: minor(st.rdev), mode: st.mode & 0o7777 };
  } catch {
    return { path, present: false };
  }
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

/** The version in /proc/driver/nvidia/version ("... Kernel Module  550.54.14  ..."; the open module says "Open Kernel Module for x86_64"). */
export function parseDriverVersion(text: string): string | null {
  return /Kernel Module(?:\s+for\s+\S+)?\s+(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1] ?? null;
}

function driverFacts(): HostFacts["driver"] {
  const text = readText(`${PROC}/version`);
  const mode = /^DeviceFileMode:\s*(\d+)/m.exec(readText(`${PROC}/params`) ?? "");
  const gpus: HostFacts["driver"]["gpus"] = [];
  let dirs: string[] = [];
  try {
    dirs = readdirSync(`${PROC}/gpus`).sort();
  } catch {}
  for (const bus of dirs) {
    const m = /^Device Minor:\s*(\d+)/m.exec(readText(`${PROC}/gpus/${bus}/information`) ?? "");
    gpus.push({ bus, minor: m ? Number(m[1]) : null });
  }
  return { text: text?.split("\n")[0] ?? null, version: text ? parseDriverVersion(text) : null, deviceFileMode: mode ? Number(mode[1]) : null, gpus };
}

/** Whether something answers on a Unix socket (a connect, at most `ms`). */
function socketState(path: string, ms = 1000): Promise<EngineFacts["socket"]["state"]> {
  try {
    if (!lstatSync(path).isSocket()) return Promise.resolve("absent");
  } catch {
    return Promise.resolve("absent");
  }
  return new Promise((resolve) => {
    const s = createConnection({ path });
    const done = (state: "stale" | "answers") => {
      clearTimeout(timer);
      s.destroy();
      resolve(state);
    };
    const timer = setTimeout(() => done("stale"), ms);
    s.once("connect", () => done("answers"));
    s.once("error", () => done("stale"));
  });
}

interface EngineProbe {
  config: () => EngineConfig;
  binary: string;
  socket: string;
}

const ENGINES: Record<keyof HostFacts["engines"], EngineProbe> = {
  docker: { config: () => inspectDocker(), binary: "dockerd", socket: "/run/docker.sock" },
  containerd: { config: () => inspectContainerd(), binary: "containerd", socket: "/run/containerd/containerd.sock" },
  crio: { config: () => inspectCrio(), binary: "crio", socket: "/run/crio/crio.sock" },
  podman: { config: () => inspectPodman(), binary: "podman", socket: "/run/podman/podman.sock" },
};

async function engineFacts(p: EngineProbe, env: Env): Promise<EngineFacts> {
  const cfg = p.config();
  const found: Record<string, string | null> = {};
  // An entry without a binary is the engine's lookup of its name (CRI-O, containerd's runc).
  for (const r of cfg.runtimes) found[r.name] = lookPath(r.path || r.name, env);
  for (const h of cfg.hooks ?? []) found[h.file] = executable(h.path);
  return { ...cfg, installed: lookPath(p.binary, env) !== null, socket: { path: p.socket, state: await socketState(p.socket) }, found };
}

function ldcacheFacts(root: string, ldcache: string | undefined): { facts: HostFacts["ldcache"]; nvml: string | null } {
  const file = ldcacheFile({ root, ldcache });
  try {
    const entries = driverEntries({ root, ldcache });
    const libs = LIBRARIES.map((name): LibraryFact => {
      const e = entries.find((x) => x.bits === 64 && x.name === name);
      return e ? { name, path: e.path, resolved: resolveIn(root, e.path) } : { name };
    });
    let nvml: string | null = null;
    try {
      nvml = nvmlPath(root, entries);
    } catch {}
    return { facts: { file, libs }, nvml };
  } catch (e) {
    return { facts: { file, error: (e as Error).message, libs: [] }, nvml: null };
  }
}

function nvmlFacts(library: string | null): HostFacts["nvml"] {
  if (!library) return { library };
  let n: Nvml;
  try {
    n = new Nvml(library);
  } catch (e) {
    return { library, error: (e as Error).message };
  }
  try {
    return { library, probe: n.probe() };
  } finally {
    n.shutdown();
  }
}

function configFacts(file: string): { facts: HostFacts["config"]; cfg: Config } {
  const unknownKeys: string[] = [];
  let cfg = defaults();
  let error: string | undefined;
  let present = true;
  try {
    lstatSync(file);
  } catch {
    present = false;
  }
  try {
    cfg = loadConfig(file, (m) => unknownKeys.push(/`([^`]+)`/.exec(m)?.[1] ?? m));
  } catch (e) {
    error = (e as Error).message;
  }
  return {
    cfg,
    facts: { file, present, error, unknownKeys, mode: cfg.runtime.mode, hookPath: cfg.hook.path, specDirs: cfg.runtime.cdi.specDirs, noCgroups: cfg.cli.noCgroups },
  };
}

function specFacts(dirs: string[]): SpecFacts[] {
  return readSpecFiles(dirs).map(({ file, raw, error }): SpecFacts => {
    if (error !== undefined) return { file, error, problems: [], devices: 0, driverVersions: [], missing: [], hostPaths: 0 };
    const paths = specHostPaths(raw);
    const missing = paths.filter((p) => {
      try {
        statSync(p);
        return false;
      } catch {
        return true;
      }
    });
    const r = raw as Record<string, any>;
    return {
      file,
      problems: specProblems(raw),
      kind: typeof r?.kind === "string" ? r.kind : undefined,
      devices: Array.isArray(r?.devices) ? r.devices.length : 0,
      driverVersions: specDriverVersions(raw),
      missing: missing.slice(0, 5),
      hostPaths: paths.length,
    };
  });
}

function cgroupFacts(): HostFacts["cgroup"] {
  const version = hostCgroupVersion();
  let devices: string | null = null;
  try {
    devices = v1DevicesMount() ?? null;
  } catch {}
  return { version, devices };
}

const ENTRY = new RegExp(`^(${KINDS.join("|")})-([0-9a-f]{16})$`);

/** One cache entry checked as the cache reads it: its kind, its key (first line: the build), its value. */
function checkEntry(dir: string, name: string, uid: number): { why?: string; build?: string; kind?: string; value?: unknown } {
  const m = ENTRY.exec(name);
  if (!m) return { why: "not an entry's name (kind-hash)" };
  let st;
  try {
    st = lstatSync(`${dir}/${name}`);
  } catch (e) {
    return { why: code(e) };
  }
  if (st.isSymbolicLink()) return { why: "a symbolic link" };
  if (!st.isFile()) return { why: "not a regular file" };
  if (st.uid !== uid) return { why: `owned by uid ${st.uid}, not ${uid}` };
  if (st.mode & 0o022) return { why: `mode ${(st.mode & 0o777).toString(8)}: others may write it` };
  if (st.size > MAX_ENTRY) return { why: `larger than ${MAX_ENTRY} bytes` };
  const buf = readFileSync(`${dir}/${name}`);
  const nl = buf.indexOf(10);
  const build = nl < 0 ? "" : buf.subarray(0, nl).toString();
  if (!/^nvct \S+ \S+$/.test(build)) return { why: "no key (not written by nvct)" };
  if (m[1] === "ldcache") return { build, kind: m[1] };
  // JSON values are one line: the key is everything before the last newline.
  const last = buf.lastIndexOf(10);
  const key = buf.subarray(0, last).toString();
  if (keyHash(key) !== m[2]) return { why: "its key does not match its name" };
  try {
    return { build, kind: m[1], value: JSON.parse(buf.subarray(last + 1).toString()) };
  } catch {
    return { why: "its value is not JSON" };
  }
}

/** The path of the first fingerprint line that differs (its lines are `path identity`, or a path then its text). */
function firstChange(was: string, now: string): string | undefined {
  const a = was.split("\n");
  const b = now.split("\n");
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  for (let j = Math.min(i, b.length - 1); j >= 0; j--) if (b[j].startsWith("/")) return b[j].split(" ")[0];
  return undefined;
}

function cacheFacts(dir: string, root: string, nvml: string | null, probe: NvmlProbe | undefined): CacheFacts {
  const out: CacheFacts = { dir, state: "ok", entries: 0, otherBuild: 0, bad: [], index: "none", inventory: "none" };
  if (!dir) return { ...out, state: "off" };
  const uid = process.getuid!();
  let st;
  try {
    st = lstatSync(dir);
  } catch {
    return { ...out, state: "absent" };
  }
  if (st.isSymbolicLink()) return { ...out, state: "untrusted", why: "a symbolic link" };
  if (!st.isDirectory()) return { ...out, state: "untrusted", why: "not a directory" };
  if (st.uid !== uid) return { ...out, state: "untrusted", why: `owned by uid ${st.uid}, not ${uid}` };
  if (st.mode & 0o022) return { ...out, state: "untrusted", why: `mode ${(st.mode & 0o777).toString(8)}: others may write it` };
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => !n.startsWith(".")).sort();
  } catch (e) {
    return { ...out, state: "untrusted", why: code(e) };
  }
  for (const name of names) {
    let e: ReturnType<typeof checkEntry>;
    try {
      e = checkEntry(dir, name, uid);
    } catch (err) {
      e = { why: code(err) };
    }
    if (e.why) {
      out.bad.push({ name, why: e.why });
      continue;
    }
    out.entries++;
    if (e.build !== BUILD) {
      out.otherBuild++;
      continue;
    }
    if (e.kind === "index") {
      const v = e.value as { inputs?: FingerprintInput; fingerprint?: string };
      if (typeof v?.fingerprint !== "string" || typeof v.inputs?.root !== "string" || !Array.isArray(v.inputs.libDirs)) {
        out.bad.push({ name, why: "an index without a fingerprint" });
        continue;
      }
      let now: string;
      try {
        now = driverFingerprint(v.inputs);
      } catch {
        out.bad.push({ name, why: "an index whose inputs do not read" });
        continue;
      }
      if (now === v.fingerprint) {
        out.index = "fresh";
        out.changed = undefined;
      } else if (out.index !== "fresh") {
        out.index = "stale";
        out.changed ??= firstChange(v.fingerprint, now);
      }
    }
  }
  // The inventory the hook would take from the cache now, against what NVML answers now.
  if (nvml) {
    const key = inventoryKey(root, nvml, procfsFiles());
    const cached = key ? readJson(dir, "inventory", `${BUILD}\n${key}`, isInventory) : null;
    if (cached) {
      if (!probe || probe.error) out.inventory = "unchecked";
      else {
        const live = probe.gpus.map((g) => ("uuid" in g ? g.uuid : "?")).join(",");
        const had = cached.gpus.map((g) => g.uuid).join(",");
        if (cached.driver !== probe.driver) [out.inventory, out.inventoryDiff] = ["differs", `driver ${cached.driver} cached, NVML says ${probe.driver}`];
        else if (had !== live) [out.inventory, out.inventoryDiff] = ["differs", `GPUs ${had || "none"} cached, NVML says ${live || "none"}`];
        else out.inventory = "matches";
      }
    }
  }
  return out;
}

export interface HostOptions {
  /** config.toml (default: the reference's search: $NVIDIA_CTK_CONFIG_FILE_PATH, $XDG_CONFIG_HOME, /etc). */
  config?: string;
  env: Env;
}

/** Every fact doctor decides from, gathered now. */
export async function hostFacts(o: HostOptions): Promise<HostFacts> {
  const { facts: config, cfg } = configFacts(configPath(o.config, o.env));
  const root = cfg.cli.root;
  const driver = driverFacts();
  let majors: Record<string, number> = {};
  try {
    majors = Object.fromEntries(procDevices().map((m) => [m.name, m.value]));
  } catch {}
  const nodes: Record<string, NodeStat> = {};
  for (const n of CONTROL_NODES) nodes[n] = nodeStat(`/dev/${n}`);
  for (const g of driver.gpus) if (g.minor !== null) nodes[`nvidia${g.minor}`] = nodeStat(`/dev/nvidia${g.minor}`);
  const ld = ldcacheFacts(root, cfg.cli.ldcache);
  const nvml = nvmlFacts(ld.nvml);
  const engines = Object.fromEntries(await Promise.all(Object.entries(ENGINES).map(async ([k, p]) => [k, await engineFacts(p, o.env)]))) as HostFacts["engines"];
  return {
    root,
    driver,
    majors,
    nodes,
    ldcache: ld.facts,
    nvml,
    config,
    toolkit: {
      hook: executable(cfg.hook.path),
      hookOnPath: lookPath("nvidia-container-runtime-hook", o.env),
      runtimeOnPath: lookPath("nvidia-container-runtime", o.env),
    },
    engines,
    cdi: { dirs: cfg.runtime.cdi.specDirs, specs: specFacts(cfg.runtime.cdi.specDirs) },
    cgroup: cgroupFacts(),
    cache: cacheFacts(cfg.nvct.cacheDir, root, ld.nvml, nvml.probe),
  };
}

// What each engine's config says about runtimes, read back with the same readers `runtime
// configure` writes through (src/engines/*.ts): the runtimes it defines (name and binary), its
// default runtime, whether CDI is on, and the files that say so. Reads only; `doctor` decides.
import { readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { readRegularText } from "../files";
import { containerd, containerdVersion, criPlugin } from "./containerd";
import { crio } from "./crio";
import { docker } from "./docker";
import { parseWith, type Table } from "./engine";
import { podman } from "./podman";

/** A runtime an engine's config defines: its name there and the binary it runs ("" = the engine's default lookup of the name). */
export interface RuntimeEntry {
  name: string;
  path: string;
}

export interface EngineConfig {
  /** The config files that exist and were read, in the order the engine reads them. */
  files: string[];
  /** The first file that cannot be read or parsed, named; the engine itself would refuse to start. */
  error?: string;
  runtimes: RuntimeEntry[];
  /** The engine's default runtime when the config names one. */
  defaultRuntime?: string;
  /** CDI enabled in the engine (undefined: the engine's own default). */
  cdi?: boolean;
  /** podman / CRI-O: the OCI hooks (hooks.d) that run the NVIDIA prestart hook: file and hook path. */
  hooks?: { file: string; path: string }[];
}

const MAX = 16 << 20;

/** The text of a config file, or null when there is none. */
function read(file: string): string | null {
  try {
    return readRegularText(file, MAX);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT" || (e as NodeJS.ErrnoException).code === "ENOTDIR") return null;
    throw Object.assign(new Error(`failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`), { named: true });
  }
}

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

/** b over a: tables merged key by key, anything else replaced. */
function merge(a: Table, b: Table): Table {
  const out: Table = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = isTable(v) && isTable(out[k]) ? merge(out[k], v) : v;
  return out;
}

const at = (t: unknown, ...path: string[]): unknown => path.reduce<unknown>((cur, p) => (isTable(cur) ? cur[p] : undefined), t);
const str = (v: unknown): string | undefined => (typeof v === "string" ? v : undefined);

/** The files of a directory matching a one-star glob in its last component (containerd's imports, CRI-O's drop-ins). */
function glob(pattern: string): string[] {
  const dir = dirname(pattern);
  const base = pattern.slice(dir.length + 1);
  if (!base.includes("*")) return [pattern];
  const re = new RegExp(`^${base.split("*").map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`);
  try {
    return readdirSync(dir).filter((n) => re.test(n)).sort().map((n) => join(dir, n));
  } catch {
    return [];
  }
}

function tomlFiles(files: string[], out: EngineConfig): Table {
  let t: Table = {};
  for (const f of files) {
    const text = read(f);
    if (text === null) continue;
    out.files.push(f);
    t = merge(t, parseWith(f, text, (x) => Bun.TOML.parse(x) as Table, {}));
  }
  return t;
}

function guarded(fn: (out: EngineConfig) => void): EngineConfig {
  const out: EngineConfig = { files: [], runtimes: [] };
  try {
    fn(out);
  } catch (e) {
    out.error = (e as Error).message;
  }
  return out;
}

/** docker's daemon.json: runtimes.<name>.path, default-runtime, features.cdi. */
export function inspectDocker(file = docker.config): EngineConfig {
  return guarded((out) => {
    const text = read(file);
    if (text === null) return;
    out.files.push(file);
    const cfg = parseWith(file, text, JSON.parse, {} as Table);
    if (!isTable(cfg)) throw new Error(`invalid \`${file}\`: not a JSON object`);
    for (const [name, r] of Object.entries(isTable(cfg.runtimes) ? cfg.runtimes : {})) out.runtimes.push({ name, path: str(at(r, "path")) ?? "" });
    out.defaultRuntime = str(cfg["default-runtime"]);
    const cdi = at(cfg, "features", "cdi");
    if (typeof cdi === "boolean") out.cdi = cdi;
  });
}

/** containerd: the main config and what it imports; the CRI plugin's runtimes for its version. */
export function inspectContainerd(file = containerd.config): EngineConfig {
  return guarded((out) => {
    const text = read(file);
    if (text === null) return;
    out.files.push(file);
    const main = parseWith(file, text, (x) => Bun.TOML.parse(x) as Table, {});
    const version = containerdVersion(main);
    const imports = (Array.isArray(main.imports) ? main.imports : []).filter((x: unknown): x is string => typeof x === "string");
    const merged = merge(main, tomlFiles(imports.flatMap((i: string) => glob(i.startsWith("/") ? i : join(dirname(file), i))), out));
    const plugin = criPlugin(version);
    // v3 moved the runtimes to the runtime plugin and kept enable_cdi there too.
    for (const [name, r] of Object.entries(at(merged, ...plugin, "containerd", "runtimes") ?? {})) {
      if (isTable(r)) out.runtimes.push({ name, path: str(at(r, "options", "BinaryName")) ?? "" });
    }
    out.defaultRuntime = str(at(merged, ...plugin, "containerd", "default_runtime_name"));
    const cdi = at(merged, ...plugin, "enable_cdi");
    if (typeof cdi === "boolean") out.cdi = cdi;
  });
}

/** CRI-O: crio.conf, then crio.conf.d/*.conf and *.toml in order; crio.runtime.runtimes.<name>.runtime_path. */
export function inspectCrio(file = crio.config): EngineConfig {
  return guarded((out) => {
    const dropDir = join(dirname(file), "crio.conf.d");
    const t = tomlFiles([file, ...glob(join(dropDir, "*")).filter((f) => /\.(conf|toml)$/.test(f))], out);
    for (const [name, r] of Object.entries(at(t, "crio", "runtime", "runtimes") ?? {})) {
      if (isTable(r)) out.runtimes.push({ name, path: str(r.runtime_path) ?? "" });
    }
    out.defaultRuntime = str(at(t, "crio", "runtime", "default_runtime"));
    out.hooks = hooksIn(out);
  });
}

/** The OCI hooks directories podman and CRI-O read, the package's first. */
export const HOOK_DIRS = [dirname(podman.config), "/etc/containers/oci/hooks.d"];

/** The hooks.d entries that run the NVIDIA prestart hook (by its file name). */
function hooksIn(out: EngineConfig, dirs = HOOK_DIRS): { file: string; path: string }[] {
  const hooks: { file: string; path: string }[] = [];
  // A file in /etc masks the one of the same name in /usr/share (oci-hooks(5)).
  const byName = new Map<string, string>();
  for (const d of dirs) for (const f of glob(join(d, "*.json"))) byName.set(f.slice(d.length + 1), f);
  for (const f of [...byName.values()]) {
    const text = read(f);
    if (text === null) continue;
    const h = parseWith(f, text, JSON.parse, {} as Table);
    const path = str(at(h, "hook", "path")) ?? "";
    if (!/\/nvidia-container-(runtime-hook|toolkit)$/.test(path)) continue;
    hooks.push({ file: f, path });
    if (!out.files.includes(f)) out.files.push(f);
  }
  return hooks;
}

/** podman: its hooks.d entries (CDI is always on in podman). */
export function inspectPodman(dirs = HOOK_DIRS): EngineConfig {
  return guarded((out) => {
    out.hooks = hooksIn(out, dirs);
    out.cdi = true;
  });
}

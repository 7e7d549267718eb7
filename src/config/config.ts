// config.toml with the reference's keys, search order and defaults (BEHAVIOUR.md).
import type { Policy } from "../core";
import { NvctError } from "../errors";
import { readRegularText, type ReadCalls } from "../files";
import { parseSimpleToml } from "./tomlfast";
import type { Env } from "../io";

export interface Config {
  disableRequire: boolean;
  swarmResource: string;
  acceptEnvvarUnprivileged: boolean;
  acceptVolumeMounts: boolean;
  supportedDriverCapabilities: string;
  cli: {
    root: string;
    path?: string;
    environment: string[];
    debug?: string;
    ldcache?: string;
    loadKmods: boolean;
    noCgroups: boolean;
    user?: string;
    ldconfig: string;
  };
  runtime: {
    debug: string;
    logLevel: string;
    runtimes: string[];
    mode: string;
    cdi: { defaultKind: string; annotationPrefixes: string[]; specDirs: string[] };
    csv: { mountSpecPath: string };
  };
  hook: { path: string; skipModeDetection: boolean };
  ctk: { path: string };
  features: Record<string, boolean>;
  /** nvct's own keys, in an `[nvct]` table the reference ignores. */
  nvct: {
    /** The decision cache (the driver's facts, the core's decisions); "" = none. */
    cacheDir: string;
  };
}

/** The largest config.toml read (the reference's default is 2 KB). */
const MAX_CONFIG = 1 << 20;

export const DEFAULT_SUPPORTED_CAPABILITIES = "compat32,compute,display,graphics,ngx,utility,video";

export function defaults(): Config {
  return {
    disableRequire: false,
    swarmResource: "",
    acceptEnvvarUnprivileged: true,
    acceptVolumeMounts: false,
    supportedDriverCapabilities: DEFAULT_SUPPORTED_CAPABILITIES,
    cli: { root: "/", environment: [], loadKmods: true, noCgroups: false, ldconfig: "@/sbin/ldconfig" },
    runtime: {
      debug: "/dev/null",
      logLevel: "info",
      runtimes: ["runc", "crun"],
      mode: "auto",
      cdi: { defaultKind: "nvidia.com/gpu", annotationPrefixes: ["cdi.k8s.io/"], specDirs: ["/etc/cdi", "/var/run/cdi"] },
      csv: { mountSpecPath: "/etc/nvidia-container-runtime/host-files-for-container.d" },
    },
    hook: { path: "/usr/bin/nvidia-container-runtime-hook", skipModeDetection: false },
    ctk: { path: "/usr/bin/nvidia-ctk" },
    features: {},
    nvct: { cacheDir: "/run/nvct" },
  };
}

/** `-config F`, else $NVIDIA_CTK_CONFIG_FILE_PATH, else ${XDG_CONFIG_HOME:-/etc}/nvidia-container-runtime/config.toml. */
export function configPath(explicit: string | undefined, env: Env): string {
  if (explicit) return explicit;
  if (env.NVIDIA_CTK_CONFIG_FILE_PATH) return env.NVIDIA_CTK_CONFIG_FILE_PATH;
  return `${env.XDG_CONFIG_HOME || "/etc"}/nvidia-container-runtime/config.toml`;
}

type Table = Record<string, unknown>;

function pick<T>(file: string, t: Table | undefined, key: string, type: "boolean" | "string" | "string[]", where: string, dflt: T): T {
  if (!t || !(key in t)) return dflt;
  const v = t[key];
  const ok = type === "string[]" ? Array.isArray(v) && v.every((x) => typeof x === "string") : typeof v === type;
  if (!ok) throw new NvctError("config", `invalid config \`${file}\`: \`${where}${key}\` must be a ${type === "string[]" ? "list of strings" : type}, got ${JSON.stringify(v)}`);
  return v as T;
}

function table(file: string, t: Table | undefined, key: string): Table | undefined {
  const v = t?.[key];
  if (v === undefined) return undefined;
  if (typeof v !== "object" || Array.isArray(v) || v === null) throw new NvctError("config", `invalid config \`${file}\`: \`${key}\` must be a table`);
  return v as Table;
}

/** The keys of config.toml: the reference's (those nvct reads, and those it accepts unread), and nvct's. */
export const KNOWN: Record<string, unknown> = {
  "disable-require": true, "swarm-resource": true, "accept-nvidia-visible-devices-envvar-when-unprivileged": true,
  "accept-nvidia-visible-devices-as-volume-mounts": true, "supported-driver-capabilities": true,
  "nvidia-container-cli": { root: true, path: true, environment: true, debug: true, ldcache: true, "load-kmods": true, "no-cgroups": true, user: true, ldconfig: true, "no-pivot": true },
  "nvidia-container-runtime": {
    debug: true, "log-level": true, runtimes: true, mode: true,
    modes: { cdi: { "default-kind": true, "annotation-prefixes": true, "spec-dirs": true }, csv: { "mount-spec-path": true }, legacy: { "cuda-compat-mode": true }, "jit-cdi": {} },
  },
  "nvidia-container-runtime-hook": { path: true, "skip-mode-detection": true },
  "nvidia-ctk": { path: true },
  /** Any boolean: the reference's feature gates come and go between versions. */
  features: "*",
  nvct: { "cache-dir": true },
};

/** The dotted names of keys the schema does not know. */
function unknownKeys(t: Table, schema: Record<string, unknown> = KNOWN, prefix = ""): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(t)) {
    const known = Object.hasOwn(schema, k) ? schema[k] : undefined;
    if (known === undefined) out.push(prefix + k);
    else if (typeof known === "object" && typeof v === "object" && v !== null && !Array.isArray(v)) out.push(...unknownKeys(v as Table, known as Record<string, unknown>, `${prefix}${k}.`));
  }
  return out;
}

/**
 * Parses config text; every key has the reference's default, every wrong type is an error naming
 * it, and every key nvct does not know is passed to `warn` (a misspelt key would otherwise be
 * silently without effect).
 */
export function parseConfig(text: string, file = "config.toml", warn?: (msg: string) => void): Config {
  let t: Table;
  try {
    t = parseSimpleToml(text) ?? (Bun.TOML.parse(text) as Table);
  } catch (e) {
    throw new NvctError("config", `invalid config \`${file}\`: ${(e as Error).message}`, e);
  }
  if (warn) for (const k of unknownKeys(t)) warn(`unknown key \`${k}\` in config \`${file}\` ignored`);
  const d = defaults();
  const cli = table(file, t, "nvidia-container-cli");
  const rt = table(file, t, "nvidia-container-runtime");
  const modes = table(file, rt, "modes");
  const cdi = table(file, modes, "cdi");
  const csv = table(file, modes, "csv");
  const hook = table(file, t, "nvidia-container-runtime-hook");
  const ctk = table(file, t, "nvidia-ctk");
  const features = table(file, t, "features") ?? {};
  const nvct = table(file, t, "nvct");
  for (const [k, v] of Object.entries(features)) {
    if (typeof v !== "boolean") throw new NvctError("config", `invalid config \`${file}\`: \`features.${k}\` must be a boolean`);
  }
  const C = "nvidia-container-cli.";
  const R = "nvidia-container-runtime.";
  return {
    disableRequire: pick(file, t, "disable-require", "boolean", "", d.disableRequire),
    swarmResource: pick(file, t, "swarm-resource", "string", "", d.swarmResource),
    acceptEnvvarUnprivileged: pick(file, t, "accept-nvidia-visible-devices-envvar-when-unprivileged", "boolean", "", d.acceptEnvvarUnprivileged),
    acceptVolumeMounts: pick(file, t, "accept-nvidia-visible-devices-as-volume-mounts", "boolean", "", d.acceptVolumeMounts),
    supportedDriverCapabilities: pick(file, t, "supported-driver-capabilities", "string", "", d.supportedDriverCapabilities),
    cli: {
      root: pick(file, cli, "root", "string", C, d.cli.root) || "/",
      path: pick(file, cli, "path", "string", C, d.cli.path),
      environment: pick(file, cli, "environment", "string[]", C, d.cli.environment),
      debug: pick(file, cli, "debug", "string", C, d.cli.debug),
      ldcache: pick(file, cli, "ldcache", "string", C, d.cli.ldcache),
      loadKmods: pick(file, cli, "load-kmods", "boolean", C, d.cli.loadKmods),
      noCgroups: pick(file, cli, "no-cgroups", "boolean", C, d.cli.noCgroups),
      user: pick(file, cli, "user", "string", C, d.cli.user),
      ldconfig: pick(file, cli, "ldconfig", "string", C, d.cli.ldconfig),
    },
    runtime: {
      debug: pick(file, rt, "debug", "string", R, d.runtime.debug),
      logLevel: pick(file, rt, "log-level", "string", R, d.runtime.logLevel),
      runtimes: pick(file, rt, "runtimes", "string[]", R, d.runtime.runtimes),
      mode: pick(file, rt, "mode", "string", R, d.runtime.mode),
      cdi: {
        defaultKind: pick(file, cdi, "default-kind", "string", R + "modes.cdi.", d.runtime.cdi.defaultKind),
        annotationPrefixes: pick(file, cdi, "annotation-prefixes", "string[]", R + "modes.cdi.", d.runtime.cdi.annotationPrefixes),
        specDirs: pick(file, cdi, "spec-dirs", "string[]", R + "modes.cdi.", d.runtime.cdi.specDirs),
      },
      csv: { mountSpecPath: pick(file, csv, "mount-spec-path", "string", R + "modes.csv.", d.runtime.csv.mountSpecPath) },
    },
    hook: {
      path: pick(file, hook, "path", "string", "nvidia-container-runtime-hook.", d.hook.path),
      skipModeDetection: pick(file, hook, "skip-mode-detection", "boolean", "nvidia-container-runtime-hook.", d.hook.skipModeDetection),
    },
    ctk: { path: pick(file, ctk, "path", "string", "nvidia-ctk.", d.ctk.path) },
    features: features as Record<string, boolean>,
    nvct: { cacheDir: pick(file, nvct, "cache-dir", "string", "nvct.", d.nvct.cacheDir) },
  };
}

/** Loads the config file; a missing file means the defaults. */
export function loadConfig(file: string, warn?: (msg: string) => void, calls?: ReadCalls): Config {
  let text: string;
  try {
    text = readRegularText(file, MAX_CONFIG, calls);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return defaults();
    throw new NvctError("config", `failed to read config \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  return parseConfig(text, file, warn);
}

/** config.toml's keys that decide a request, for the core. */
/** The core's policy for a tool: the runtime's `auto` resolves to jit-cdi, the hook's to legacy. */
export function policyOf(cfg: Config, tool: "runtime" | "hook", tegra = false): Policy {
  return {
    acceptEnvvarUnprivileged: cfg.acceptEnvvarUnprivileged,
    acceptVolumeMounts: cfg.acceptVolumeMounts,
    disableRequire: cfg.disableRequire,
    swarmResource: cfg.swarmResource.split(",").map((s) => s.trim()).filter(Boolean),
    supportedCapabilities: cfg.supportedDriverCapabilities,
    mode: cfg.runtime.mode,
    annotationPrefixes: cfg.runtime.cdi.annotationPrefixes,
    defaultKind: cfg.runtime.cdi.defaultKind,
    tegra,
    autoMode: tool === "runtime" ? "jit-cdi" : "legacy",
  };
}

// nvidia-container-runtime: the runc shim. On `create` it edits the bundle's config.json for the
// configured mode; then, whatever the command, it execs the low-level runtime in its place
// (same pid, stdio and exit status), so any other command costs only the start of this binary.
import { accessSync, constants, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { statNode } from "../discover/files";
import { writeAtomic } from "../atomic";
import { parseLossless } from "../json";
import { dirname, join } from "node:path";
import { configPath, loadConfig, type Config } from "../config/config";
import { isPrivileged, type Spec } from "../discover/container";
import { NvctError } from "../errors";
import type { Env, Io } from "../io";

const TOOL = "nvidia-container-runtime";
const HOOK = "nvidia-container-runtime-hook";

/** runc's and crun's global options that take a value (their value is not the command). */
const GLOBAL_WITH_VALUE = new Set(["--root", "--log", "--log-format", "--criu", "--rootless", "--cgroup-manager", "--log-level"]);

export interface RuntimeArgs {
  command?: string;
  bundle: string;
  log?: string;
  logFormat: "text" | "json";
}

/** Reads what the shim needs from runc's argv: the command, the bundle, runc's log options. */
export function parseRuntimeArgs(argv: string[], cwd: string): RuntimeArgs {
  const out: RuntimeArgs = { bundle: cwd, logFormat: "text" };
  for (let i = 0; i < argv.length; i++) {
    // Go's flag package takes -name and --name alike, with the value after = or as the next word.
    let a = argv[i];
    if (/^-[a-z][a-z-]+/.test(a)) a = "-" + a;
    const [name, inline] = a.startsWith("-") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (name === "-b" || name === "--bundle" || name === "--b") {
      const v = value();
      if (v === undefined) throw new NvctError("usage", `${name} needs a value`);
      out.bundle = v;
    } else if (name === "--log") out.log = value();
    else if (name === "--log-format") out.logFormat = value() === "json" ? "json" : "text";
    else if (out.command === undefined && GLOBAL_WITH_VALUE.has(name) && inline === undefined) i++;
    else if (out.command === undefined && !a.startsWith("-")) out.command = a;
  }
  return out;
}

/** Appends a line to runc's --log in its format, and to the configured debug file. */
function logger(cfg: Config, args: RuntimeArgs) {
  return (level: "info" | "warning" | "error" | "debug", msg: string) => {
    const time = new Date().toISOString();
    const line =
      args.logFormat === "json"
        ? JSON.stringify({ level, msg: `${TOOL}: ${msg}`, time }) + "\n"
        : `time="${time}" level=${level} msg=${JSON.stringify(`${TOOL}: ${msg}`)}\n`;
    for (const f of [args.log, cfg.runtime.debug]) {
      if (!f || f === "/dev/null") continue;
      try {
        writeFileSync(f, line, { flag: "a" });
      } catch {}
    }
  };
}

function lookPath(name: string, env: Env): string | null {
  if (name.includes("/")) return existsSync(name) ? name : null;
  for (const dir of (env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = join(dir || ".", name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

/** The prestart hook to add: the configured path, else beside this tool, else on PATH. */
function hookPath(cfg: Config, argv0: string, env: Env): string {
  if (existsSync(cfg.hook.path)) return cfg.hook.path;
  if (argv0.includes("/")) {
    const sibling = join(dirname(argv0), HOOK);
    if (existsSync(sibling)) return sibling;
  }
  const found = lookPath(HOOK, env);
  if (!found) throw new NvctError("runtime", `could not find ${HOOK} (config nvidia-container-runtime-hook.path = \`${cfg.hook.path}\`, nor on PATH)`);
  return found;
}

/** Legacy mode: the prestart hook, unless the spec already has it. */
export function addLegacyHook(spec: Spec, path: string): boolean {
  const hooks = (spec.hooks ??= {}) as Record<string, { path: string; args?: string[] }[]>;
  const prestart = (hooks.prestart ??= []);
  if (prestart.some((h) => h.path?.split("/").pop() === HOOK)) return false;
  prestart.push({ path, args: [path, "prestart"] });
  return true;
}

const VOLUME_PREFIX = "/var/run/nvidia-container-devices/";

/**
 * The devices a spec asks for, as CDI sees them: annotation values (qualified names only), else
 * the volume-mount list (when accepted), else NVIDIA_VISIBLE_DEVICES, which an unprivileged
 * container may use only while accept-nvidia-visible-devices-envvar-when-unprivileged holds.
 */
export function requestedDevices(spec: Spec, cfg: Config): { names: string[]; from: string } {
  const names: string[] = [];
  for (const [k, v] of Object.entries(spec.annotations ?? {})) {
    if (!cfg.runtime.cdi.annotationPrefixes.some((p) => k.startsWith(p))) continue;
    for (const n of v.split(",").map((s) => s.trim()).filter(Boolean)) {
      if (!isQualified(n)) throw new NvctError("cdi", `invalid CDI device name \`${n}\` in annotation \`${k}\`: want vendor.com/class=name`);
      names.push(n);
    }
  }
  if (names.length > 0) return { names, from: "annotations" };
  if (cfg.acceptVolumeMounts) {
    for (const m of spec.mounts ?? []) {
      if (m.source !== "/dev/null" || !m.destination?.startsWith(VOLUME_PREFIX)) continue;
      const id = m.destination.slice(VOLUME_PREFIX.length);
      const cdi = /^cdi\/([^/]+)\/([^/]+)\/(.+)$/.exec(id);
      if (cdi) names.push(`${cdi[1]}/${cdi[2]}=${cdi[3]}`);
      else if (id && !id.startsWith("imex/")) names.push(id);
    }
    if (names.length > 0) return { names, from: "volume-mounts" };
  }
  if (!isPrivileged(spec) && !cfg.acceptEnvvarUnprivileged) return { names: [], from: "NVIDIA_VISIBLE_DEVICES" };
  const env = spec.process?.env ?? [];
  let value: string | undefined;
  for (const e of env) if (e.startsWith("NVIDIA_VISIBLE_DEVICES=")) value = e.slice("NVIDIA_VISIBLE_DEVICES=".length);
  const ids = (value ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  if (ids.includes("void") || ids.includes("none")) return { names: [], from: "NVIDIA_VISIBLE_DEVICES" };
  return { names: ids, from: "NVIDIA_VISIBLE_DEVICES" };
}

/** `NVIDIA_<FEATURE>=enabled` adds these host nodes (names under /dev, by pattern). */
const FEATURE_NODES: Record<string, RegExp[]> = {
  NVIDIA_GDS: [/^nvidia-fs\d+$/],
  NVIDIA_MOFED: [/^infiniband\/(uverbs\d+|rdma_cm)$/],
  NVIDIA_NVSWITCH: [/^nvidia-nvswitch(ctl|\d+)$/],
  NVIDIA_GDRCOPY: [/^gdrdrv$/],
};

/** Adds the device nodes of the features the spec's env enables; returns the features added. */
export function addFeatureDevices(spec: Spec, devRoot = "/dev"): string[] {
  const env = new Map<string, string>();
  for (const e of spec.process?.env ?? []) env.set(e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1));
  const added: string[] = [];
  for (const [feature, patterns] of Object.entries(FEATURE_NODES)) {
    if (env.get(feature) !== "enabled") continue;
    const names: string[] = [];
    for (const dir of ["", "infiniband/"]) {
      let list: string[] = [];
      try {
        list = readdirSync(join(devRoot, dir));
      } catch {}
      for (const n of list) if (patterns.some((p) => p.test(dir + n))) names.push(dir + n);
    }
    const linux = ((spec as any).linux ??= {});
    for (const name of names.sort()) {
      const node = statNode(join(devRoot, name));
      if (!node) continue;
      (linux.devices ??= []).push({ path: `/dev/${name}`, type: "c", major: node.major, minor: node.minor, fileMode: 0o666, uid: 0, gid: 0 });
      ((linux.resources ??= {}).devices ??= []).push({ allow: true, type: "c", major: node.major, minor: node.minor, access: "rwm" });
    }
    added.push(feature);
  }
  return added;
}

const isQualified = (n: string) => /^[a-z0-9.-]+\/[a-zA-Z0-9._-]+=.+$/.test(n);

/** Rewrites <bundle>/config.json for the mode; the file is left as it was on any error. */
export async function modifyBundle(bundle: string, cfg: Config, argv0: string, env: Env, log: ReturnType<typeof logger>): Promise<void> {
  const file = join(bundle, "config.json");
  let spec: Spec;
  try {
    spec = parseLossless(readFileSync(file, "utf8"));
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("not a JSON object");
  } catch (e) {
    throw new NvctError("spec", `failed to load the OCI spec of bundle \`${bundle}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  let mode = cfg.runtime.mode;
  const req = requestedDevices(spec, cfg);
  if (mode === "auto") mode = req.names.length > 0 && req.names.every(isQualified) ? "cdi" : "legacy";
  log("info", `using ${mode} mode for bundle ${bundle}`);
  // Feature devices go only to a container that asks for GPUs, as the reference gates them.
  const features = req.names.length > 0 ? addFeatureDevices(spec) : [];
  if (features.length) log("info", `devices for ${features.join(", ")}`);
  if (mode === "legacy") {
    if (!addLegacyHook(spec, hookPath(cfg, argv0, env)) && features.length === 0) return;
  } else if (mode === "cdi") {
    if (req.names.length === 0 && features.length === 0) return;
    const { injectCdi } = await import("../cdi/inject");
    const names = req.names.map((n) => (isQualified(n) ? n : `${cfg.runtime.cdi.defaultKind}=${n}`));
    if (names.length) injectCdi(spec, names, cfg.runtime.cdi.specDirs, (m) => log("warning", m));
    // The devices are in the spec now: a hook that reads the env must not inject them again.
    if (spec.process?.env) spec.process.env = spec.process.env.map((e) => (e.startsWith("NVIDIA_VISIBLE_DEVICES=") ? "NVIDIA_VISIBLE_DEVICES=void" : e));
  } else {
    throw new NvctError("runtime", `unsupported mode \`${mode}\` (nvidia-container-runtime.mode): want auto, legacy or cdi`);
  }
  writeAtomic(file, JSON.stringify(spec), "spec");
}

export async function runtime(argv: string[], env: Env, io: Io, argv0 = TOOL): Promise<number> {
  let log: ReturnType<typeof logger> = () => {};
  try {
    const args = parseRuntimeArgs(argv, process.cwd());
    const cfg = loadConfig(configPath(undefined, env));
    log = logger(cfg, args);
    if (args.command === "create") await modifyBundle(args.bundle, cfg, argv0, env, log);
    const low = cfg.runtime.runtimes.map((r) => lookPath(r, env)).find((p) => p !== null);
    if (!low) throw new NvctError("runtime", `no low-level runtime found: tried ${cfg.runtime.runtimes.map((r) => `\`${r}\``).join(", ")} (nvidia-container-runtime.runtimes)`);
    log("debug", `exec ${low} ${argv.join(" ")}`);
    const { sys } = await import("../sys/libc");
    const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    sys.execve(low, [low, ...argv], envList);
  } catch (err) {
    // Whatever failed, runc's caller gets one line naming it, in runc's log too.
    const e = err instanceof NvctError ? err : new NvctError("runtime", (err as Error).message ?? String(err), err);
    log("error", e.message);
    io.stderr(`${TOOL}: ${e.message}\n`);
    return 1;
  }
  return 1;
}

// nvidia-container-runtime: the runc shim. On `create` it edits the bundle's config.json for the
// configured mode; then, whatever the command, it execs the low-level runtime in its place
// (same pid, stdio and exit status), so any other command costs only the start of this binary.
import { configPath, loadConfig, policyOf, type Config } from "../config/config";
import type { RuntimePaths } from "../engine/runtime";
import { asNvctError, NvctError } from "../errors";
import { appendLog, fs } from "../files";
import type { Env, Io } from "../io";
import { dumpTrace, mark, phases } from "../trace";
import { COMMIT, VERSION } from "../version";
import { lookPath } from "../discover/path";
import { logrusLine } from "./runner";

const TOOL = "nvidia-container-runtime";
const HOOK = "nvidia-container-runtime-hook";

/** runc's and crun's global options that take a value (their value is not the command). */
const GLOBAL_WITH_VALUE = new Set(["--root", "--log", "--log-format", "--criu", "--rootless", "--cgroup-manager", "--log-level"]);

export interface RuntimeArgs {
  command?: string;
  bundle: string;
  log?: string;
  logFormat: "text" | "json";
  debug: boolean;
  version: boolean;
}

// Plain comparisons, not regular expressions: the first one compiled costs a passthrough 0.1 ms.
const lower = (c: string) => c >= "a" && c <= "z";
const undashed = (a: string) => {
  let i = 0;
  while (a[i] === "-") i++;
  return a.slice(i);
};

/** Reads what the shim needs from runc's argv: the command, the bundle, runc's log options. */
export function parseRuntimeArgs(argv: string[], cwd: string): RuntimeArgs {
  const out: RuntimeArgs = { bundle: cwd, logFormat: "text", debug: false, version: false };
  for (let i = 0; i < argv.length; i++) {
    // Go's flag package takes -name and --name alike, with the value after = or as the next word.
    let a = argv[i];
    if (a.length > 2 && a[0] === "-" && lower(a[1]) && (lower(a[2]) || a[2] === "-")) a = "-" + a;
    const [name, inline] = a.startsWith("-") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
    const value = () => inline ?? argv[++i];
    if (name === "--version") out.version = true;
    if (name === "-b" || name === "--bundle" || name === "--b") {
      const v = value();
      if (v === undefined) throw new NvctError("usage", `${name} needs a value`);
      out.bundle = v;
    } else if (name === "--log") out.log = value();
    else if (name === "--log-format") out.logFormat = value() === "json" ? "json" : "text";
    else if (name === "--debug") out.debug = true;
    else if (out.command === undefined && GLOBAL_WITH_VALUE.has(name) && inline === undefined) i++;
    else if (out.command === undefined && !a.startsWith("-")) out.command = a;
  }
  return out;
}

type Level = "info" | "warning" | "error" | "debug";

/** One record a line, to runc's --log and the configured debug file, in logrus's form. */
function logger(cfg: Config | null, args: RuntimeArgs): (level: Level, msg: string) => void {
  const files = [args.log, cfg?.runtime.debug].filter((f): f is string => !!f && f !== "/dev/null");
  const threshold = args.debug ? 0 : ({ debug: 0, info: 1, warning: 2, warn: 2, error: 3 } as Record<string, number>)[cfg?.runtime.logLevel ?? "info"] ?? 1;
  const rank: Record<Level, number> = { debug: 0, info: 1, warning: 2, error: 3 };
  return (level, msg) => {
    if (rank[level] < threshold || files.length === 0) return;
    const time = new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
    const line = args.logFormat === "json" ? JSON.stringify({ level, msg, time }) + "\n" : logrusLine(level, msg);
    for (const f of files) {
      appendLog(f, line);
    }
  };
}

/** A tool of this stack: the configured path, else beside this binary, else on PATH. */
function toolPath(configured: string, name: string, argv0: string, env: Env, dflt?: string): string {
  // node:fs only here, for create: a passthrough never loads it.
  if (configured.includes("/") && fs().existsSync(configured)) return configured;
  if (argv0.includes("/")) {
    const sibling = `${argv0.slice(0, argv0.lastIndexOf("/"))}/${name}`;
    if (fs().existsSync(sibling)) return sibling;
  }
  const found = lookPath(configured.includes("/") ? name : configured || name, env) ?? lookPath(name, env);
  if (found) return found;
  if (dflt) return dflt;
  throw new NvctError("runtime", `could not find ${name} (config: \`${configured}\`, nor beside ${argv0}, nor on PATH)`);
}

async function explainBundle(bundle: string, json: boolean, cfg: Config, paths: RuntimePaths, env: Env, io: Io): Promise<number> {
  const { loadBundleSpec, modifySpec } = await import("../engine/runtime");
  const { explain } = await import("../engine/explain");
  const { explanationJson, renderRuntimeExplanation, specChanges } = await import("./explain");
  const { spec } = loadBundleSpec(bundle);
  const before = structuredClone(spec);
  const { request } = await modifySpec(spec, bundle, { ...cfg, nvct: { ...cfg.nvct, cacheDir: "" } }, paths, env, () => {});
  const hook =
    request.mode === "legacy"
      ? await explain({ bundle, policy: policyOf(cfg, "hook"), driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache }, noCgroups: cfg.cli.noCgroups, mpsPipeDir: env.CUDA_MPS_PIPE_DIRECTORY ?? "" })
      : null;
  const x = { bundle, mode: request.mode, configured: cfg.runtime.mode || "auto", changes: specChanges(before, spec), hook };
  io.stdout(json ? explanationJson(x) : renderRuntimeExplanation(x));
  return hook?.failure ? 1 : 0;
}

export async function runtime(argv: string[], env: Env, io: Io, argv0 = TOOL): Promise<number> {
  let log: (level: Level, msg: string) => void = () => {};
  try {
    const args = parseRuntimeArgs(argv, process.cwd());
    // As the reference: its own version first, then the low-level runtime's (exec'd below).
    if (argv.some((a) => undashed(a).split("=")[0] === "version")) io.stdout(`NVIDIA Container Runtime version ${VERSION}\ncommit: ${COMMIT}\nspec: 1.2.0\n\n`);
    const warnings: string[] = [];
    // A command handed to runc as it is reads its config through libc: loading node:fs would
    // cost more than everything else this process does before it becomes runc.
    const passthrough = args.command !== "create" && args.command !== "explain";
    const reads = passthrough && !args.version ? (await import("../sys/exec")).libcReads : undefined;
    const cfg = args.version ? null : loadConfig(configPath(undefined, env), (m) => warnings.push(m), reads);
    log = logger(cfg, args);
    for (const w of warnings) {
      io.stderr(`${TOOL}: warning: ${w}\n`);
      log("warning", w);
    }
    const paths = (cfg: Config) => ({
      hook: () => toolPath(cfg.hook.path, HOOK, argv0, env),
      cdiHook: () => toolPath("nvidia-cdi-hook", "nvidia-cdi-hook", argv0, env, "/usr/bin/nvidia-cdi-hook"),
    });
    if (cfg && args.command === "create") {
      const { modifyBundle } = await import("../engine/runtime");
      await modifyBundle(args.bundle, cfg, paths(cfg), env, log);
      mark("edited");
      log("debug", `phases: ${phases()}`);
    }
    // Not a runc command: what `create` would do to the bundle, changing nothing.
    if (cfg && args.command === "explain") return await explainBundle(args.bundle, argv.includes("--json"), cfg, paths(cfg), env, io);
    const runtimes = cfg?.runtime.runtimes ?? ["runc", "crun"];
    let low: string | null = null;
    for (const r of runtimes) if ((low = lookPath(r, env))) break;
    if (!low) throw new NvctError("runtime", `no low-level runtime found: tried ${runtimes.map((r) => `\`${r}\``).join(", ")} (nvidia-container-runtime.runtimes)`);
    log("debug", `Using low-level runtime ${low}`);
    const { execve } = await import("../sys/exec");
    const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    // The process becomes the low-level runtime: its trace is written now or never.
    mark("exec");
    dumpTrace(env, io.stderr);
    execve(low, [low, ...argv], envList);
  } catch (err) {
    // Whatever failed, runc's caller gets one line naming it, in runc's log too.
    const e = asNvctError(err);
    log("error", e.message);
    io.stderr(`${TOOL}: ${e.message}\n`);
    return 1;
  }
  return 1;
}

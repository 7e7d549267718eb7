// nvidia-container-runtime-hook (also nvidia-container-toolkit): the OCI prestart hook. Reads the
// state on stdin and the bundle's spec, asks the core what the container requests, and injects
// its GPUs in this process. A container that cannot be asking for a GPU costs no more than
// reading its spec.
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import { configPath, loadConfig, policyOf, type Config } from "../config/config";
import { containerSpec, envName, parseState, readSpec, requireCgroup, rootfsOf, type Spec } from "../discover/container";
import { ldcacheFile } from "../discover/paths";
import { autoIsCsv } from "../discover/tegra";
import { asNvctError, classified, NvctError } from "../errors";
import type { Op } from "../core";
import type { Env, Io } from "../io";
import { fileLogger, type Logger } from "../log";
import { mark, phases } from "../trace";
import { COMMIT, VERSION } from "../version";
import { runTool, type Context, type Tool } from "./runner";

const TOOL = "nvidia-container-runtime-hook";
/**
 * A cheap superset of "asks for a GPU", from the core's own vocabulary: false only when the spec
 * has none of the variables or mounts a request can come from.
 */
export function mayRequestDevices(spec: Spec, swarmResource: string, acceptVolumeMounts: boolean): boolean {
  const names = new Set([...VOCABULARY.triggerEnv, ...swarmResource.split(",").map((s) => s.trim()).filter(Boolean)]);
  for (const e of spec.process?.env ?? []) if (names.has(envName(e))) return true;
  return acceptVolumeMounts && (spec.mounts ?? []).some((m) => m.destination?.startsWith(VOCABULARY.volumePrefix));
}


async function prestart(c: Context): Promise<number> {
  const cfg = loadConfig(configPath(c.args.config, c.env), (m) => c.io.stderr(`${TOOL}: warning: ${m}\n`));
  const log = fileLogger(TOOL, cfg.cli.debug);
  mark("config");
  try {
    return await injectFor(c, cfg, log);
  } catch (e) {
    log.error(classified(asNvctError(e)));
    throw e;
  } finally {
    // The time of each phase, for the operator reading the debug log (computed only for one).
    if (cfg.cli.debug) log.debug(`phases: ${phases()}`);
  }
}

async function injectFor(c: Context, cfg: Config, log: Logger): Promise<number> {
  const state = parseState(c.io.stdin());
  const spec = readSpec(state.bundle);
  const rootfs = rootfsOf(state.bundle, spec);
  mark("spec");
  if (!mayRequestDevices(spec, cfg.swarmResource, cfg.acceptVolumeMounts)) return 0;
  // As the reference: auto is csv on a Tegra host, a mode only the runtime handles (refused below).
  const policy = policyOf(cfg, "hook", await autoIsCsv(cfg.runtime.mode, cfg.cli.root));
  const { Decisions } = await import("../engine/memo");
  const decisions = new Decisions(cfg.nvct.cacheDir, (m) => log.debug(m));
  const req = await decisions.request(containerSpec(spec, policy), policy);
  mark("request");
  // The other modes are the runtime's: it edits the spec itself and adds no hook.
  if (req.mode !== "legacy" && !cfg.hook.skipModeDetection) {
    throw new NvctError("runtime", `invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported in ${req.mode} mode. Please use the NVIDIA Container Runtime (e.g. specify the --runtime=nvidia flag) instead`);
  }
  if (!req.gpu) {
    log.info(`not a GPU container: ${req.reason}`);
    return 0;
  }
  log.info(`using root ${cfg.cli.root}, ldcache ${ldcacheFile(cfg.cli)}`);
  log.info(`requested devices ${req.devices.length ? req.devices.join(",") : "none (the driver only)"} from ${req.source}; capabilities ${req.caps.join(",")}${req.requires.length ? `; requirements ${req.requires.join("; ")}` : ""}`);
  // Loaded here so that a container without GPUs never pays for the engine's modules.
  const { inject, injectionOf } = await import("../engine/inject");
  const { sys } = await import("../sys/libc");
  mark("engine loaded");
  // One line per decision, each step of the plan as explain shows it: only for a debug log.
  const planLines = cfg.cli.debug ? (await import("./explain")).planLines : null;
  const plan = inject(
    {
      pid: state.pid,
      rootfs,
      injection: injectionOf(req, c.env.CUDA_MPS_PIPE_DIRECTORY ?? ""),
      driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache },
      cacheDir: cfg.nvct.cacheDir,
      cgroup: cfg.cli.noCgroups ? null : requireCgroup(state.pid),
      log: planLines
        ? (m, d) => {
            if (m === "plan") for (const l of planLines(d as Op[])) log.info(l);
            else if (m === "warning") log.warn(String(d));
            else log.debug(m, d ?? "");
          }
        : undefined,
    },
    sys,
    decisions,
  );
  log.info(`selected GPUs ${plan.gpus.join(",") || "none"}; ${plan.ops.length} steps applied`);
  return 0;
}

/** What prestart would do for the bundle, as text or JSON; exit 1 when it would fail. */
async function explainCommand(c: Context): Promise<number> {
  const cfg = loadConfig(configPath(c.args.config, c.env));
  const { explain } = await import("../engine/explain");
  const { renderExplanation, explanationJson } = await import("./explain");
  const x = await explain({
    bundle: c.args.bundle ?? process.cwd(),
    policy: policyOf(cfg, "hook"),
    driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache },
    noCgroups: cfg.cli.noCgroups,
    mpsPipeDir: c.env.CUDA_MPS_PIPE_DIRECTORY ?? "",
  });
  c.io.stdout(c.args.json ? explanationJson(x) : renderExplanation(x));
  return x.failure ? 1 : 0;
}

export const HOOK_TOOL: Tool = {
  name: TOOL,
  style: "go",
  usageExit: 2,
  version: () => `NVIDIA Container Runtime Hook version ${VERSION}\ncommit: ${COMMIT}\n`,
  bare: { to: "stderr", exit: 2 },
  unknownExit: 2,
  root: {
    name: TOOL,
    description: "OCI hook that gives a container its NVIDIA GPUs",
    args: {
      config: { type: "string", description: "Path to the configuration file" },
      debug: { type: "boolean", description: "Enable debug output" },
      version: { type: "boolean", description: "Print the version and exit" },
      bundle: { type: "string", description: "explain: the bundle directory (default: the working directory)" },
      json: { type: "boolean", description: "explain: print JSON" },
      command: { type: "positional", required: false, description: "prestart | poststart | poststop | explain (what prestart would do for --bundle, changing nothing)" },
    },
    async run(c) {
      const command = c.args._[0];
      if (command === "poststart" || command === "poststop") return 0;
      if (command === "explain" && c.args._.length === 1) return explainCommand(c);
      if (command !== "prestart" || c.args._.length > 1) throw new NvctError("usage", command === undefined ? "no command given" : `unknown command \`${c.args._.join(" ")}\``);
      return prestart(c);
    },
  },
  async report(e, { io, usage }) {
    io.stderr(`${TOOL}: ${classified(e)}\n`);
    if (e.code === "usage") io.stderr(await usage());
  },
};

export function hook(argv: string[], env: Env, io: Io, argv0?: string): Promise<number> {
  mark("hook");
  return runTool(HOOK_TOOL, argv, env, io, argv0);
}

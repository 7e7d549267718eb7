// nvidia-container-runtime-hook: the OCI prestart hook. Reads the state on stdin and the bundle's
// spec, asks the core what the container requests, and injects its GPUs in this process.
import { defineCommand, type ArgsDef } from "citty";
import { parse, usage, wantsHelp } from "../args";
import { configPath, loadConfig } from "../config/config";
import { interpretRequest, preloadCore } from "../core";
import { deviceCgroup, isPrivileged, parseState, readSpec, rootfsOf, type DeviceCgroup, type Spec } from "../discover/container";
import { NvctError } from "../errors";
import type { Env, Io } from "../io";
import { fileLogger } from "../log";
import { mark } from "../trace";
import { VERSION_TEXT } from "../version";

const TOOL = "nvidia-container-runtime-hook";

const args = {
  config: { type: "string", description: "Path to the configuration file" },
  debug: { type: "boolean", description: "Enable debug output" },
  version: { type: "boolean", description: "Print the version and exit" },
  command: { type: "positional", required: false, description: "prestart | poststart | poststop" },
} satisfies ArgsDef;

const cmd = defineCommand({ meta: { name: TOOL, description: "OCI hook that gives a container its NVIDIA GPUs" }, args });

/** Go's flag package accepts `-config F` as well as `--config F`. */
const goFlags = (argv: string[]) => argv.map((a) => a.replace(/^-(config|debug|version)(=|$)/, "--$1$2"));

export async function hook(argv: string[], env: Env, io: Io): Promise<number> {
  mark("hook");
  try {
    argv = goFlags(argv);
    if (wantsHelp(argv)) {
      io.stdout(await usage(cmd));
      return 0;
    }
    const a = parse(TOOL, args, argv);
    if (a.version) {
      io.stdout(VERSION_TEXT);
      return 0;
    }
    const command = a._[0];
    if (command === "poststart" || command === "poststop") return 0;
    if (command !== "prestart" || a._.length > 1) {
      io.stderr(await usage(cmd));
      return 2;
    }
    const core = preloadCore();
    const cfg = loadConfig(configPath(a.config, env));
    const log = fileLogger(TOOL, cfg.cli.debug);
    if (!cfg.hook.skipModeDetection && (cfg.runtime.mode === "cdi" || cfg.runtime.mode === "csv")) {
      throw new NvctError("mode", `invoking the hook in ${cfg.runtime.mode} mode is not supported: use nvidia-container-runtime, which handles this mode itself`);
    }
    mark("config");
    const state = parseState(io.stdin());
    const spec = readSpec(state.bundle);
    const rootfs = rootfsOf(state.bundle, spec);
    mark("spec");
    if (!mayRequestDevices(spec, cfg.swarmResource, cfg.acceptVolumeMounts)) return 0;
    await core;
    const req = interpretRequest({
      env: spec.process?.env ?? [],
      mounts: spec.mounts ?? [],
      privileged: isPrivileged(spec),
      policy: {
        acceptEnvvarUnprivileged: cfg.acceptEnvvarUnprivileged,
        acceptVolumeMounts: cfg.acceptVolumeMounts,
        disableRequire: cfg.disableRequire,
        swarmResource: cfg.swarmResource,
        supportedCapabilities: cfg.supportedDriverCapabilities,
      },
    });
    mark("request");
    if (!req.gpu) {
      log.debug("not a GPU container:", req.reason);
      return 0;
    }
    log.debug("request", req);
    // Loaded here so that a container without GPUs never pays for the engine's modules.
    const { configure } = await import("../inject/engine");
    const { sys } = await import("../sys/libc");
    mark("engine loaded");
    configure(
      {
        pid: state.pid,
        rootfs,
        devices: req.devices,
        caps: req.caps,
        requires: req.requires,
        migConfig: req.migConfig,
        migMonitor: req.migMonitor,
        imex: req.imex,
        driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache },
        inventoryCache: cfg.nvct.inventoryCache,
        cgroup: cfg.cli.noCgroups ? null : requireCgroup(state.pid),
        env,
        log: (m, d) => log.debug(m, d ?? ""),
      },
      sys,
    );
    mark("applied");
    return 0;
  } catch (e) {
    if (!(e instanceof NvctError)) throw e;
    io.stderr(`${TOOL}: ${e.message}\n`);
    return 1;
  }
}

/**
 * A cheap superset of "asks for a GPU": false only when the spec has none of the variables or
 * mounts a request can come from. Such a container costs no more than reading its spec; every
 * other one is decided by the core.
 */
export function mayRequestDevices(spec: Spec, swarmResource: string, acceptVolumeMounts: boolean): boolean {
  const names = new Set(["NVIDIA_VISIBLE_DEVICES", "CUDA_VERSION", ...swarmResource.split(",").map((s) => s.trim()).filter(Boolean)]);
  for (const e of spec.process?.env ?? []) if (names.has(e.slice(0, e.indexOf("=")))) return true;
  return acceptVolumeMounts && (spec.mounts ?? []).some((m) => m.destination?.startsWith("/var/run/nvidia-container-devices/"));
}

/** The device cgroup of the container (v1 devices controller, or its v2 cgroup). */
export function requireCgroup(pid: number): DeviceCgroup {
  const cg = deviceCgroup(pid);
  if (!cg) throw new NvctError("cgroup", `no device cgroup found for pid ${pid} (set nvidia-container-cli.no-cgroups = true to write no device rules)`);
  return cg;
}

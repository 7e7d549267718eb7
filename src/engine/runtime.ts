// The runtime shim's edit of a bundle on `create`: the core reads what the container asks for
// and the mode; legacy adds the prestart hook, cdi resolves CDI names in the spec directories,
// jit-cdi builds the edits from the driver in memory; feature devices are added in every mode.
// The spec is rewritten whole or not at all.
import { writeAtomic } from "../atomic";
import { policyOf, type Config } from "../config/config";
import { core, type CdiEdits, type Request } from "../core";
import { checkSpec, containerSpec, type Spec } from "../discover/container";
import { autoIsCsv } from "../discover/tegra";
import { NvctError } from "../errors";
import { readRegularText } from "../files";
import { parseLossless } from "../json";
import { mark } from "../trace";
import { Decisions } from "./memo";

/** The largest config.json read (as the hook's). */
const MAX_SPEC = 64 << 20;

export const HOOK_NAMES = ["nvidia-container-runtime-hook", "nvidia-container-toolkit"];
/** A prestart hook of the legacy path (by its program's name, wherever it is installed). */
const isLegacyHook = (h: { path?: string }) => HOOK_NAMES.includes(h.path?.split("/").pop() ?? "");

export interface RuntimePaths {
  /** The prestart hook legacy mode adds. */
  hook: () => string;
  /** The nvidia-cdi-hook the jit-cdi edits run. */
  cdiHook: () => string;
}

type Log = (level: "info" | "warning" | "error" | "debug", msg: string) => void;

/** Legacy mode: the prestart hook, unless the spec already has one. */
export function addLegacyHook(spec: Spec, path: string): boolean {
  const hooks = (spec.hooks ??= {}) as Record<string, { path: string; args?: string[] }[]>;
  const prestart = (hooks.prestart ??= []);
  if (prestart.some(isLegacyHook)) return false;
  prestart.push({ path, args: [path.split("/").pop()!, "prestart"] });
  return true;
}

/** cdi and jit-cdi modes: the devices are in the spec; the legacy hook must not inject again. */
function dropLegacyHook(spec: Spec): void {
  const prestart = (spec.hooks as Record<string, { path: string }[]> | undefined)?.prestart;
  if (prestart) (spec.hooks as Record<string, unknown[]>).prestart = prestart.filter((h) => !isLegacyHook(h));
}

function voidVisibleDevices(spec: Spec): void {
  if (spec.process?.env) spec.process.env = spec.process.env.map((e) => (e.startsWith("NVIDIA_VISIBLE_DEVICES=") ? "NVIDIA_VISIBLE_DEVICES=void" : e));
}

async function featureEdits(req: Request, cfg: Config): Promise<CdiEdits | null> {
  if (req.features.length === 0) return null;
  const { fileFacts, nodeFacts } = await import("../discover/driver");
  const driver = { root: cfg.cli.root };
  return core().featureedits({ features: req.features, root: driver.root, devRoot: "/", nodes: nodeFacts("/"), files: fileFacts(driver) });
}

/** What the runtime did to a spec: the request it read (with the mode) and whether it changed anything. */
export interface SpecChange {
  request: Request;
  changed: boolean;
}

/** Reads a bundle's config.json whole (lossless numbers), or fails naming it. */
export function loadBundleSpec(bundle: string): { file: string; spec: Spec } {
  const file = `${bundle.replace(/\/+$/, "") || "."}/config.json`;
  let spec: Spec;
  try {
    spec = parseLossless(readRegularText(file, MAX_SPEC));
  } catch (e) {
    throw new NvctError("spec", `failed to load the OCI spec of bundle \`${bundle}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  const bad = checkSpec(spec);
  if (bad) throw new NvctError("spec", `invalid OCI spec \`${file}\`: ${bad}`);
  return { file, spec };
}

/** Edits a spec in memory for the mode: what `create` writes back, and what `explain` shows. */
export async function modifySpec(spec: Spec, bundle: string, cfg: Config, paths: RuntimePaths, env: Record<string, string | undefined>, log: Log): Promise<SpecChange> {
  const policy = policyOf(cfg, "runtime", await autoIsCsv(cfg.runtime.mode, cfg.cli.root));
  const decisions = new Decisions(cfg.nvct.cacheDir, (m) => log("debug", m));
  const req = await decisions.request(containerSpec(spec, policy), policy);
  mark("request");
  log("info", `Using ${req.mode} mode for bundle ${bundle}`);
  if (req.jitDevices.length) log("info", `Generating CDI edits for runtime.nvidia.com/gpu devices ${req.jitDevices.join(",")}`);
  if (req.cdiDevices.length) log("info", `Resolving CDI devices ${req.cdiDevices.join(",")} from ${cfg.runtime.cdi.specDirs.join(", ")}`);
  const features = await featureEdits(req, cfg);
  if (features && (features.deviceNodes.length || features.mounts.length)) log("info", `Adding devices for ${req.features.join(", ")}`);
  // Loaded only past legacy mode's return, with the rest of what the other modes need: legacy
  // mode, the commonest, adds one hook and loads none of it.
  const applyEdits = async (edits: CdiEdits) => (await import("./oci")).applyEdits(spec, edits);
  if (req.mode === "legacy") {
    const added = addLegacyHook(spec, paths.hook());
    if (features) await applyEdits(features);
    return { request: req, changed: added || !!features };
  }
  if (req.mode === "cdi" || req.mode === "jit-cdi") {
    if (req.cdiDevices.length === 0 && req.jitDevices.length === 0 && !features) return { request: req, changed: false };
    if (req.jitDevices.length) {
      const { factsAndFingerprint, refuseFailedGpus } = await import("./facts");
      const { injectionOf } = await import("./inject");
      const { facts, fingerprint } = factsAndFingerprint({ driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache }, cacheDir: cfg.nvct.cacheDir, mpsPipeDir: env.CUDA_MPS_PIPE_DIRECTORY });
      const injection = injectionOf(req, env.CUDA_MPS_PIPE_DIRECTORY ?? "");
      const input = () => {
        const driver = facts();
        refuseFailedGpus(injection.devices, driver);
        return { injection, driver, rootfs: { debian: false, lib32: false }, cgroup: "none" as const, arch: process.arch };
      };
      await applyEdits(decisions.jitedits(input, paths.cdiHook(), fingerprint, [injection, process.arch]));
    }
    if (req.cdiDevices.length) {
      const { resolveDevices } = await import("./cdi");
      await applyEdits(resolveDevices(req.cdiDevices, cfg.runtime.cdi.defaultKind, cfg.runtime.cdi.specDirs, (m) => log("warning", m)));
    }
  } else if (req.mode === "csv") {
    if (!req.gpu && !features) return { request: req, changed: false };
    if (req.gpu) {
      const { csvEdits } = await import("./csv");
      await applyEdits(csvEdits(req, spec.process?.env ?? [], { root: cfg.cli.root, mountSpecPath: cfg.runtime.csv.mountSpecPath, hookPath: paths.cdiHook(), log }));
    }
  } else {
    throw new NvctError("runtime", `mode \`${req.mode}\` is not supported by nvct yet (nvidia-container-runtime.mode): use auto, legacy, cdi or jit-cdi`);
  }
  if (features) await applyEdits(features);
  dropLegacyHook(spec);
  voidVisibleDevices(spec);
  return { request: req, changed: true };
}

/** Rewrites <bundle>/config.json for the mode; the file is left as it was on any error. */
export async function modifyBundle(bundle: string, cfg: Config, paths: RuntimePaths, env: Record<string, string | undefined>, log: Log): Promise<void> {
  const { file, spec } = loadBundleSpec(bundle);
  const { changed } = await modifySpec(spec, bundle, cfg, paths, env, log);
  if (changed) writeAtomic(file, JSON.stringify(spec), "spec", { sync: false });
}

// The runtime shim's edit of a bundle on `create`: the core reads what the container asks for
// and the mode; legacy adds the prestart hook, cdi resolves CDI names in the spec directories,
// jit-cdi builds the edits from the driver in memory; feature devices are added in every mode.
// The spec is rewritten whole or not at all.
import { readFileSync, statSync } from "node:fs";
import { writeAtomic } from "../atomic";
import { policyOf, type Config } from "../config/config";
import { core, type CdiEdits, type Request } from "../core";
import { containerSpec, type Spec } from "../discover/container";
import { fileFacts, nodeFacts } from "../discover/driver";
import { NvctError } from "../errors";
import { parseLossless } from "../json";
import { resolveDevices } from "./cdi";
import { factsAndFingerprint, refuseFailedGpus } from "./facts";
import { Decisions } from "./memo";
import { applyEdits } from "./oci";

export const HOOK_NAMES = ["nvidia-container-runtime-hook", "nvidia-container-toolkit"];

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
  if (prestart.some((h) => HOOK_NAMES.includes(h.path?.split("/").pop() ?? ""))) return false;
  prestart.push({ path, args: [path.split("/").pop()!, "prestart"] });
  return true;
}

/** cdi and jit-cdi modes: the devices are in the spec; the legacy hook must not inject again. */
function dropLegacyHook(spec: Spec): void {
  const prestart = (spec.hooks as Record<string, { path: string }[]> | undefined)?.prestart;
  if (prestart) (spec.hooks as Record<string, unknown[]>).prestart = prestart.filter((h) => !HOOK_NAMES.includes(h.path?.split("/").pop() ?? ""));
}

function voidVisibleDevices(spec: Spec): void {
  if (spec.process?.env) spec.process.env = spec.process.env.map((e) => (e.startsWith("NVIDIA_VISIBLE_DEVICES=") ? "NVIDIA_VISIBLE_DEVICES=void" : e));
}

function featureEdits(req: Request, cfg: Config): CdiEdits | null {
  if (req.features.length === 0) return null;
  const driver = { root: cfg.cli.root };
  return core().featureedits({ features: req.features, root: driver.root, devRoot: "/", nodes: nodeFacts("/"), files: fileFacts(driver) });
}

/** Rewrites <bundle>/config.json for the mode; the file is left as it was on any error. */
export async function modifyBundle(bundle: string, cfg: Config, paths: RuntimePaths, env: Record<string, string | undefined>, log: Log): Promise<void> {
  const file = `${bundle.replace(/\/+$/, "") || "."}/config.json`;
  let spec: Spec;
  try {
    const st = statSync(file);
    if (!st.isFile()) throw Object.assign(new Error("not a regular file"), { code: "not a regular file" });
    spec = parseLossless(readFileSync(file, "utf8"));
    if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("not a JSON object");
  } catch (e) {
    throw new NvctError("spec", `failed to load the OCI spec of bundle \`${bundle}\`: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, e);
  }
  const policy = policyOf(cfg);
  const decisions = new Decisions(cfg.nvct.cacheDir, (m) => log("debug", m));
  let cs;
  try {
    cs = containerSpec(spec, policy);
    if (!Array.isArray(cs.env) || !cs.env.every((e) => typeof e === "string")) throw new Error("`process.env` is not a list of strings");
    if (!cs.mounts.every((m) => typeof m.destination === "string")) throw new Error("`mounts` is not a list of mounts");
  } catch (e) {
    throw new NvctError("spec", `invalid OCI spec of bundle \`${bundle}\`: ${(e as Error).message}`, e);
  }
  const req = await decisions.request(cs, policy);
  log("info", `Using ${req.mode} mode for bundle ${bundle}`);
  const features = featureEdits(req, cfg);
  if (features && (features.deviceNodes.length || features.mounts.length)) log("info", `Adding devices for ${req.features.join(", ")}`);
  if (req.mode === "legacy") {
    const added = addLegacyHook(spec, paths.hook());
    if (features) applyEdits(spec, features);
    if (!added && !features) return;
  } else if (req.mode === "cdi") {
    if (req.cdiDevices.length === 0 && !features) return;
    if (req.cdiDevices.length) applyEdits(spec, resolveDevices(req.cdiDevices, cfg.runtime.cdi.defaultKind, cfg.runtime.cdi.specDirs, (m) => log("warning", m)));
    if (features) applyEdits(spec, features);
    dropLegacyHook(spec);
    voidVisibleDevices(spec);
  } else if (req.mode === "jit-cdi") {
    if (!req.gpu && !features) return;
    if (req.gpu) {
      const { facts, fingerprint } = factsAndFingerprint({ driver: { root: cfg.cli.root, ldcache: cfg.cli.ldcache }, cacheDir: cfg.nvct.cacheDir, mpsPipeDir: env.CUDA_MPS_PIPE_DIRECTORY });
      const injection = {
        devices: req.devices, caps: req.caps, requires: req.requires, migConfig: req.migConfig, migMonitor: req.migMonitor, imex: req.imex,
        noDevbind: false, noPersistenced: false, noFabricmanager: false, mpsPipeDir: env.CUDA_MPS_PIPE_DIRECTORY ?? "",
      };
      const input = () => {
        const driver = facts();
        refuseFailedGpus(injection.devices, driver);
        return { injection, driver, rootfs: { debian: false, lib32: false }, cgroup: "none" as const, arch: process.arch };
      };
      applyEdits(spec, decisions.jitedits(input, paths.cdiHook(), fingerprint, [injection, process.arch]));
    }
    if (features) applyEdits(spec, features);
    dropLegacyHook(spec);
    voidVisibleDevices(spec);
  } else {
    throw new NvctError("runtime", `mode \`${req.mode}\` is not supported by nvct yet (nvidia-container-runtime.mode): use auto, legacy, cdi or jit-cdi`);
  }
  writeAtomic(file, JSON.stringify(spec), "spec");
}

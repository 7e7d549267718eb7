// `nvidia-ctk runtime configure`: the nvidia runtime in docker's daemon.json, containerd's
// config.toml (versions 1, 2 and 3, optionally as a drop-in file), CRI-O's config, and podman's
// OCI hooks directory. Edits are plain data in, plain data out; the caller reads and writes.
import { NvctError } from "../errors";
import type { Table } from "../config/toml";

export interface RuntimeOptions {
  name: string;
  path: string;
  setAsDefault: boolean;
  cdi: boolean;
}

type Json = Record<string, any>;

const table = (t: Table, ...path: string[]): Table => {
  let cur = t;
  for (const p of path) {
    const next = cur[p];
    if (next === undefined) cur = cur[p] = {};
    else if (typeof next === "object" && next !== null && !Array.isArray(next)) cur = next as Table;
    else throw new NvctError("config", `\`${path.join(".")}\` is not a table in the existing config`);
  }
  return cur;
};

/** docker's daemon.json: runtimes.<name> = {path, args: []}; default-runtime; features.cdi. */
export function configureDocker(cfg: Json, o: RuntimeOptions): Json {
  if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new NvctError("config", "daemon.json is not a JSON object");
  const out = structuredClone(cfg);
  out.runtimes = { ...(out.runtimes ?? {}), [o.name]: { path: o.path, args: [] } };
  if (o.setAsDefault) out["default-runtime"] = o.name;
  if (o.cdi) out.features = { ...(out.features ?? {}), cdi: true };
  return out;
}

/** The CRI plugin's table for a containerd config version (1, 2 or 3). */
export function criPlugin(version: number): string[] {
  if (version === 1) return ["plugins", "cri"];
  if (version === 2) return ["plugins", "io.containerd.grpc.v1.cri"];
  if (version === 3) return ["plugins", "io.containerd.cri.v1.runtime"];
  throw new NvctError("config", `unsupported containerd config version ${version} (want 1, 2 or 3)`);
}

/** containerd: runtimes.<name> with runc v2's shim and options.BinaryName; default; enable_cdi. */
export function configureContainerd(cfg: Table, o: RuntimeOptions, version: number): Table {
  const out = structuredClone(cfg);
  if (version > 1) out.version = version;
  const plugin = criPlugin(version);
  const containerd = table(out, ...plugin, "containerd");
  const runtimes = table(containerd, "runtimes");
  // Start from runc's entry where there is one, so that its options (SystemdCgroup...) carry over.
  const runc = runtimes.runc && typeof runtimes.runc === "object" ? structuredClone(runtimes.runc as Table) : {};
  const nvidia: Table = { ...runc, ...((runtimes[o.name] as Table) ?? {}), runtime_type: "io.containerd.runc.v2" };
  nvidia.options = { ...((nvidia.options as Table) ?? {}), BinaryName: o.path };
  runtimes[o.name] = nvidia;
  if (o.setAsDefault) containerd.default_runtime_name = o.name;
  if (o.cdi) table(out, ...plugin).enable_cdi = true;
  return out;
}

/**
 * The drop-in file's content for a main config: only the nvidia runtime (seeded from the main
 * config's runc entry, so SystemdCgroup and runc's other options carry over), the default and CDI.
 */
export function containerdDropIn(main: Table, o: RuntimeOptions, version: number): Table {
  const plugin = criPlugin(version);
  let runc: unknown = main;
  for (const p of [...plugin, "containerd", "runtimes", "runc"]) runc = (runc as Table | undefined)?.[p];
  const seed: Table = { version };
  if (runc && typeof runc === "object") table(seed, ...plugin, "containerd", "runtimes").runc = structuredClone(runc as Table);
  const out = configureContainerd(seed, o, version);
  delete table(out, ...plugin, "containerd", "runtimes").runc;
  return out;
}

/** The containerd config version of a parsed file (absent = 1). */
export function containerdVersion(cfg: Table): number {
  const v = cfg.version ?? 1;
  if (typeof v !== "number" || ![1, 2, 3].includes(v)) throw new NvctError("config", `unsupported containerd config version ${JSON.stringify(v)}`);
  return v;
}

/** CRI-O: crio.runtime.runtimes.<name> = {runtime_path, runtime_type = "oci"}; default_runtime. */
export function configureCrio(cfg: Table, o: RuntimeOptions): Table {
  const out = structuredClone(cfg);
  const runtime = table(out, "crio", "runtime");
  const runtimes = table(runtime, "runtimes");
  runtimes[o.name] = { ...((runtimes[o.name] as Table) ?? {}), runtime_path: o.path, runtime_type: "oci" };
  if (o.setAsDefault) runtime.default_runtime = o.name;
  return out;
}

/** podman's OCI hooks.d entry: nvct's prestart hook for every container (the hook decides). */
export function podmanHook(hookPath: string): Json {
  return {
    version: "1.0.0",
    hook: { path: hookPath, args: ["nvidia-container-runtime-hook", "prestart"], env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
    when: { always: true },
    stages: ["prestart"],
  };
}

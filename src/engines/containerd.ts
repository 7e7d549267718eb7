// containerd: the CRI plugin's runtimes.<name> with runc v2's shim and options.BinaryName, the
// default runtime, enable_cdi; config versions 1, 2 and 3. As the newest toolkit: into a drop-in
// file the main config imports (v2, v3), seeded with the main config's whole CRI plugin table
// (containerd before 2.1 replaces plugin tables by key); a v1 config is edited in place. The
// operator's main file is edited in place (src/config/tomledit.ts: comments and layout kept, only
// nvct's lines change); the drop-in is nvct's own and written whole.
import { NvctError } from "../errors";
import { stringify } from "../config/toml";
import { editToml } from "../config/tomledit";
import { parseWith, table, type Engine, type RuntimeOptions, type Table } from "./engine";
import { dirname } from "node:path";

/** The CRI plugin's table for a containerd config version (1, 2 or 3). */
export function criPlugin(version: number): string[] {
  if (version === 1) return ["plugins", "cri"];
  if (version === 2) return ["plugins", "io.containerd.grpc.v1.cri"];
  if (version === 3) return ["plugins", "io.containerd.cri.v1.runtime"];
  throw new NvctError("config", `unsupported containerd config version ${version} (want 1, 2 or 3)`);
}

/** The config version of a parsed file (absent: 1; an empty file: 2). */
export function containerdVersion(cfg: Table): number {
  if (Object.keys(cfg).length === 0) return 2;
  const v = cfg.version ?? 1;
  if (typeof v !== "number" || ![1, 2, 3].includes(v)) throw new NvctError("config", `unsupported containerd config version ${JSON.stringify(v)}`);
  return v;
}

/** Adds the runtime to a config of that version (in place). */
function addRuntime(out: Table, o: RuntimeOptions, version: number): Table {
  const plugin = criPlugin(version);
  const containerd = table(out, ...plugin, "containerd");
  const runtimes = table(out, ...plugin, "containerd", "runtimes");
  // From the default runtime's entry (or runc's, crun's), so that SystemdCgroup and the rest carry over.
  const dflt = typeof containerd.default_runtime_name === "string" && !containerd.default_runtime_name.startsWith("nvidia") ? containerd.default_runtime_name : undefined;
  const seed = [dflt, "runc", "crun"].map((n) => (n ? runtimes[n] : undefined)).find((r) => r && typeof r === "object");
  const base: Table = seed ? structuredClone(seed) : { privileged_without_host_devices: false, runtime_engine: "", runtime_root: "", runtime_type: "io.containerd.runc.v2" };
  const nvidia: Table = { ...base, ...((runtimes[o.name] as Table) ?? {}), runtime_type: "io.containerd.runc.v2" };
  nvidia.options = { ...((nvidia.options as Table) ?? {}), BinaryName: o.path };
  runtimes[o.name] = nvidia;
  if (o.setAsDefault) containerd.default_runtime_name = o.name;
  if (o.cdi) table(out, ...plugin).enable_cdi = true;
  return out;
}

export const containerd: Engine = {
  name: "containerd",
  config: "/etc/containerd/config.toml",
  dropIn: "/etc/containerd/conf.d/99-nvidia.toml",
  configure({ file, text, dropIn, options: o }) {
    const main = parseWith(file, text, (t) => Bun.TOML.parse(t) as Table, {});
    const version = containerdVersion(main);
    if (!dropIn || version === 1) {
      // A new file (nothing in it to keep) starts with its version.
      const out: Table = version > 1 && !("version" in main) ? { version, ...structuredClone(main) } : structuredClone(main);
      return [{ path: file, text: editToml(text, main, addRuntime(out, o, version), file) }];
    }
    const plugin = criPlugin(version);
    let source: unknown = main;
    for (const p of plugin) source = (source as Table | undefined)?.[p];
    const seed: Table = { version };
    if (source && typeof source === "object") table(seed, plugin[0])[plugin[1]] = structuredClone(source as Table);
    const pattern = `${dirname(dropIn)}/*.toml`;
    const imports = Array.isArray(main.imports) ? (main.imports as string[]) : [];
    const outputs = [{ path: dropIn, text: stringify(addRuntime(seed, o, version)) }];
    if (!imports.includes(pattern) && !imports.includes(dropIn)) {
      const want: Table = "version" in main ? { ...main } : { version, ...main };
      want.imports = [...imports, pattern];
      outputs.push({ path: file, text: editToml(text, main, want, file) });
    }
    return outputs;
  },
};

// CRI-O: crio.runtime.runtimes.<name> = {runtime_path, runtime_type = "oci"}, default_runtime.
// As the newest toolkit: into a drop-in file (the main config is only read), holding just the
// nvidia runtime, its options from the default runtime (or runc's, crun's). With
// --drop-in-config="" the operator's crio.conf is edited in place (src/config/tomledit.ts:
// comments and layout kept, only nvct's lines change); the drop-in is nvct's own, written whole.
import { stringify } from "../config/toml";
import { editToml } from "../config/tomledit";
import { parseWith, table, type Engine, type Table } from "./engine";

export const crio: Engine = {
  name: "crio",
  config: "/etc/crio/crio.conf",
  dropIn: "/etc/crio/crio.conf.d/99-nvidia.toml",
  configure({ file, text, dropIn, options: o }) {
    const main = parseWith(file, text, (t) => Bun.TOML.parse(t) as Table, {});
    const out: Table = dropIn ? {} : structuredClone(main);
    const runtime = table(out, "crio", "runtime");
    const runtimes = table(runtime, "runtimes");
    const existing = (main.crio?.runtime?.runtimes ?? {}) as Table;
    const dflt = typeof main.crio?.runtime?.default_runtime === "string" && !main.crio.runtime.default_runtime.startsWith("nvidia") ? main.crio.runtime.default_runtime : undefined;
    const seed = [dflt, "runc", "crun"].map((n) => (n ? existing[n] : undefined)).find((r) => r && typeof r === "object");
    runtimes[o.name] = { ...(seed ? structuredClone(seed) : {}), ...((existing[o.name] as Table) ?? {}), runtime_path: o.path, runtime_type: "oci" };
    if (o.setAsDefault) runtime.default_runtime = o.name;
    return [{ path: dropIn || file, text: dropIn ? stringify(out) : editToml(text, main, out, file) }];
  },
};

// docker's daemon.json: runtimes.<name> = {path, args: []}; default-runtime; features.cdi.
import { NvctError } from "../errors";
import { parseWith, type Engine } from "./engine";

export const docker: Engine = {
  name: "docker",
  config: "/etc/docker/daemon.json",
  dropIn: "",
  configure({ file, text, dropIn, options: o }) {
    if (dropIn) throw new NvctError("usage", "runtime docker does not support drop-in configs");
    const cfg = parseWith(file, text, JSON.parse, {} as Record<string, any>);
    if (typeof cfg !== "object" || cfg === null || Array.isArray(cfg)) throw new NvctError("config", `invalid \`${file}\`: not a JSON object`);
    const out = structuredClone(cfg);
    out.runtimes = { ...(out.runtimes ?? {}), [o.name]: { args: [], path: o.path } };
    if (o.setAsDefault) out["default-runtime"] = o.name;
    if (o.cdi) out.features = { ...(out.features ?? {}), cdi: true };
    return [{ path: file, text: JSON.stringify(out, null, 4) + "\n" }];
  },
};

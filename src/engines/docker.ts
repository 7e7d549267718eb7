// docker's daemon.json: runtimes.<name> = {path, args: []}; default-runtime; features.cdi. The
// operator's keys stay where they were, in their order (JSON.parse keeps it; keys are changed in
// place, new ones appended), the nvidia entry's other keys (runtimeArgs) too, and the file keeps
// its indentation (a tab or N spaces, as its first indented line; 4 spaces, as the reference's
// writer, for a new or one-line file).
import { NvctError } from "../errors";
import { parseWith, type Engine } from "./engine";

/** The indentation of a JSON text's first indented line, or 4 spaces. */
export function jsonIndent(text: string): string {
  const m = /\n([ \t]+)\S/.exec(text);
  return m && /^( +|\t+)$/.test(m[1]) ? m[1] : "    ";
}

const isObject = (v: unknown): v is Record<string, any> => typeof v === "object" && v !== null && !Array.isArray(v);

export const docker: Engine = {
  name: "docker",
  config: "/etc/docker/daemon.json",
  dropIn: "",
  configure({ file, text, dropIn, options: o }) {
    if (dropIn) throw new NvctError("usage", "runtime docker does not support drop-in configs");
    const cfg = parseWith(file, text, JSON.parse, {} as Record<string, any>);
    if (!isObject(cfg)) throw new NvctError("config", `invalid \`${file}\`: not a JSON object`);
    const out = structuredClone(cfg);
    if (out.runtimes !== undefined && !isObject(out.runtimes)) throw new NvctError("config", `invalid \`${file}\`: \`runtimes\` is not an object`);
    const runtimes = (out.runtimes ??= {});
    runtimes[o.name] = isObject(runtimes[o.name]) ? Object.assign(runtimes[o.name], { args: [], path: o.path }) : { args: [], path: o.path };
    if (o.setAsDefault) out["default-runtime"] = o.name;
    if (o.cdi) {
      if (out.features !== undefined && !isObject(out.features)) throw new NvctError("config", `invalid \`${file}\`: \`features\` is not an object`);
      (out.features ??= {}).cdi = true;
    }
    return [{ path: file, text: JSON.stringify(out, null, jsonIndent(text)) + "\n" }];
  },
};

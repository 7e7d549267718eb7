// nvidia-ctk: `cdi generate|list|transform`, `hook <name>`, `runtime configure`, `config`,
// `system create-device-nodes|create-dev-char-symlinks`.
import { readFileSync } from "node:fs";
import { writeAtomic } from "../atomic";
import type { CdiSpec, ContainerEdits } from "../cdi/spec";
import { defineCommand, type ArgsDef } from "citty";
import { parse, usage, wantsHelp } from "../args";
import { NvctError } from "../errors";
import type { Env, Io } from "../io";
import { VERSION_TEXT } from "../version";

const TOOL = "nvidia-ctk";

const generateArgs = {
  output: { type: "string", description: "Write the spec to this file (atomically) instead of stdout" },
  format: { type: "string", description: "yaml | json (default: from the output's extension, else yaml)" },
  mode: { type: "string", description: "auto | nvml (management, csv, wsl are not supported)" },
  "device-name-strategy": { type: "string", description: "index | uuid | type-index (default index)" },
  "driver-root": { type: "string", description: "The driver's root (default /)" },
  "dev-root": { type: "string", description: "Where the device nodes are (default /)" },
  vendor: { type: "string", description: "The vendor of the kind (default nvidia.com)" },
  class: { type: "string", description: "The class of the kind (default gpu)" },
  "nvidia-cdi-hook-path": { type: "string", description: "The nvidia-cdi-hook the spec's hooks run (default /usr/bin/nvidia-cdi-hook)" },
  "nvidia-ctk-path": { type: "string", description: "Deprecated spelling of --nvidia-cdi-hook-path" },
  "ldconfig-path": { type: "string", description: "Accepted for compatibility: nvct's hook runs no ldconfig" },
} satisfies ArgsDef;

const listArgs = {
  "spec-dir": { type: "string", description: "A directory of CDI specs (repeatable; default /etc/cdi, /var/run/cdi)" },
} satisfies ArgsDef;

const generateCmd = defineCommand({ meta: { name: "generate", description: "Generate a CDI spec for the NVIDIA devices of this machine" }, args: generateArgs });
const listCmd = defineCommand({ meta: { name: "list", description: "List the CDI devices of the spec directories" }, args: listArgs });
const transformArgs = {
  from: { type: "string", description: "The root the spec's host paths are under now" },
  to: { type: "string", description: "The root they should be under" },
  input: { type: "string", description: "The spec to read (default: stdin)" },
  output: { type: "string", description: "Where to write it (default: stdout; may be the input)" },
} satisfies ArgsDef;
const transformCmd = defineCommand({ meta: { name: "transform", description: "transform root --from A --to B: move a spec's host paths to another root" }, args: transformArgs });
const cdiCmd = defineCommand({ meta: { name: "cdi", description: "Container Device Interface specs" }, subCommands: { generate: generateCmd, list: listCmd, transform: transformCmd } });
const hookCmd = defineCommand({ meta: { name: "hook", description: "createContainer hooks (create-symlinks, update-ldcache, chmod)" } });
const top = defineCommand({ meta: { name: TOOL, description: "NVIDIA Container Toolkit CLI (nvct)" }, subCommands: { cdi: cdiCmd, hook: hookCmd } });

const NAME = /^[a-z0-9][a-z0-9.-]*$/;

async function generate(argv: string[], io: Io): Promise<number> {
  const a = parse(TOOL, generateArgs, argv);
  if (a._.length) throw new NvctError("usage", `unexpected argument \`${a._[0]}\``);
  const mode = a.mode ?? "auto";
  if (mode !== "auto" && mode !== "nvml") throw new NvctError("usage", `unsupported --mode \`${mode}\`: want auto or nvml`);
  const strategy = a["device-name-strategy"] ?? "index";
  if (!["index", "uuid", "type-index"].includes(strategy)) throw new NvctError("usage", `invalid --device-name-strategy \`${strategy}\`: want index, uuid or type-index`);
  const output: string | undefined = a.output;
  const format = a.format ?? (output?.endsWith(".json") ? "json" : "yaml");
  if (format !== "yaml" && format !== "json") throw new NvctError("usage", `invalid --format \`${format}\`: want yaml or json`);
  const vendor = a.vendor ?? "nvidia.com";
  const klass = a.class ?? "gpu";
  if (!NAME.test(vendor) || !vendor.includes(".")) throw new NvctError("usage", `invalid --vendor \`${vendor}\`: want a domain such as nvidia.com`);
  if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(klass)) throw new NvctError("usage", `invalid --class \`${klass}\``);
  for (const k of ["driver-root", "dev-root", "nvidia-cdi-hook-path", "nvidia-ctk-path"] as const) {
    if (a[k] !== undefined && !String(a[k]).startsWith("/")) throw new NvctError("usage", `invalid --${k} \`${a[k]}\`: want an absolute path`);
  }
  const { generateSpec } = await import("../cdi/generate");
  let spec;
  try {
    spec = generateSpec({
      driver: { root: a["driver-root"] ?? "/" },
      devRoot: a["dev-root"] ?? "/",
      vendor,
      class: klass,
      strategy,
      hookPath: a["nvidia-cdi-hook-path"] ?? a["nvidia-ctk-path"] ?? "/usr/bin/nvidia-cdi-hook",
    });
  } catch (e) {
    throw new NvctError("generate", `failed to generate the CDI spec: ${(e as Error).message}`, e);
  }
  const text = format === "json" ? JSON.stringify(spec, null, 2) + "\n" : Bun.YAML.stringify(spec, null, 2) + "\n";
  if (!output) {
    io.stdout(text);
    return 0;
  }
  writeAtomic(output, text, "generate");
  return 0;
}

async function list(argv: string[], io: Io): Promise<number> {
  const a = parse(TOOL, listArgs, argv, ["spec-dir"]);
  const dirs = (a["spec-dir"] as string[]).length ? (a["spec-dir"] as string[]) : ["/etc/cdi", "/var/run/cdi"];
  const { loadSpecs } = await import("../cdi/inject");
  const names = new Set<string>();
  for (const { spec } of loadSpecs(dirs)) for (const d of spec.devices) names.add(`${spec.kind}=${d.name}`);
  io.stdout([...names].map((n) => n + "\n").join(""));
  return 0;
}

async function transform(argv: string[], io: Io): Promise<number> {
  const [what, ...rest] = argv;
  if (what !== "root") throw new NvctError("usage", `unknown transform \`${what ?? ""}\` (want root)`);
  const a = parse(TOOL, transformArgs, rest);
  for (const k of ["from", "to"] as const) {
    if (!a[k] || !String(a[k]).startsWith("/")) throw new NvctError("usage", a[k] ? `invalid --${k} \`${a[k]}\`: want an absolute path` : `transform root: missing --${k}`);
  }
  const text = a.input ? readFileSync(a.input, "utf8") : io.stdin();
  const json = text.trimStart().startsWith("{");
  let spec: CdiSpec;
  try {
    spec = (json ? JSON.parse(text) : Bun.YAML.parse(text)) as CdiSpec;
  } catch (e) {
    throw new NvctError("cdi", `invalid CDI spec \`${a.input ?? "stdin"}\`: ${(e as Error).message}`, e);
  }
  const from = a.from.replace(/\/+$/, "");
  const to = a.to.replace(/\/+$/, "");
  const move = (p?: string) => (p && (p === from || p.startsWith(from + "/")) ? to + p.slice(from.length) || "/" : p);
  const edit = (e?: ContainerEdits) => {
    for (const m of e?.mounts ?? []) m.hostPath = move(m.hostPath)!;
    for (const d of e?.deviceNodes ?? []) if (d.hostPath) d.hostPath = move(d.hostPath);
    for (const h of e?.hooks ?? []) h.path = move(h.path)!;
  };
  edit(spec.containerEdits);
  for (const d of spec.devices ?? []) edit(d.containerEdits);
  const out = json ? JSON.stringify(spec, null, 2) + "\n" : Bun.YAML.stringify(spec, null, 2) + "\n";
  if (a.output) writeAtomic(a.output, out, "cdi");
  else io.stdout(out);
  return 0;
}

export async function ctk(argv: string[], env: Env, io: Io): Promise<number> {
  try {
    const [group, sub, ...rest] = argv;
    if (group === "--version" || group === "-V" || group === "-v") {
      io.stdout(VERSION_TEXT);
      return 0;
    }
    if (group === undefined || ((group === "--help" || group === "-h") && sub === undefined)) {
      io[group ? "stdout" : "stderr"](await usage(top));
      return group ? 0 : 2;
    }
    if (group === "hook") {
      const { runHook } = await import("./cdihook");
      return runHook(argv.slice(1), env, io, `${TOOL} hook`);
    }
    if (group === "cdi") {
      const cmd = sub === "generate" ? generateCmd : sub === "list" ? listCmd : sub === "transform" ? transformCmd : undefined;
      if (sub === undefined || sub === "--help" || sub === "-h") {
        io.stdout(await usage(cdiCmd, top));
        return sub === undefined ? 2 : 0;
      }
      if (!cmd) throw new NvctError("usage", `unknown command \`cdi ${sub}\` (want generate, list or transform)`);
      if (wantsHelp(rest)) {
        io.stdout(await usage(cmd, cdiCmd));
        return 0;
      }
      return sub === "generate" ? generate(rest, io) : sub === "list" ? list(rest, io) : transform(rest, io);
    }
    if (group === "runtime" || group === "config" || group === "system") {
      const m = await import("./ctk-runtime");
      if (group === "runtime") {
        if (sub !== "configure") throw new NvctError("usage", `unknown command \`runtime ${sub ?? ""}\` (want configure)`);
        if (wantsHelp(rest)) return io.stdout(await usage(defineCommand({ meta: { name: "configure", description: "Add the nvidia runtime to an engine's config" }, args: m.runtimeConfigureArgs }), top)), 0;
        return m.runtimeConfigure(rest, io);
      }
      if (group === "config") {
        if (wantsHelp(argv.slice(1))) return io.stdout(await usage(defineCommand({ meta: { name: "config", description: "Show or change nvct's config.toml (`config default` prints the defaults)" }, args: m.configArgs }), top)), 0;
        return m.configCommand(argv.slice(1), io);
      }
      if (wantsHelp(argv.slice(1))) return io.stdout(await usage(defineCommand({ meta: { name: "system", description: "create-device-nodes | create-dev-char-symlinks" }, args: m.systemArgs }), top)), 0;
      return m.systemCommand(argv.slice(1), io);
    }
    throw new NvctError("usage", `unknown command \`${group}\``);
  } catch (e) {
    if (!(e instanceof NvctError)) throw e;
    io.stderr(`${TOOL}: ${e.message}\n`);
    return e.code === "usage" ? 2 : 1;
  }
}

// `nvidia-ctk cdi generate | list | transform root`.
import { writeAtomic } from "../../atomic";
import { toFile, type CdiFile, type FileEdits } from "../../cdi/spec";
import type { CdiOptions, GenerateMode, NameStrategy } from "../../core";
import { NvctError } from "../../errors";
import { readRegularText } from "../../files";
import { logrusLine, noOperands, type Command } from "../runner";

/** The largest spec transform reads (as the spec directories' bound). */
const MAX_INPUT = 16 << 20;
const NAME = /^[a-z0-9][a-z0-9.-]*$/;
const MODES = ["auto", "nvml", "csv", "wsl", "management", "imex", "gds", "mofed", "nvswitch", "gdrcopy"];
const HOOK_NAMES = ["create-symlinks", "enable-cuda-compat", "update-ldcache", "disable-device-node-modification", "update-application-profile", "chmod", "all"];

const lists = (v: string[] | undefined) => (v ?? []).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);

const GENERATE: Command = {
  name: "generate",
  description: "Generate a CDI spec for the NVIDIA devices of this machine",
  args: {
    output: { type: "string", description: "Write the spec to this file (atomically) instead of stdout" },
    format: { type: "string", description: "yaml | json (default: from the output's extension, else yaml)" },
    mode: { type: "string", alias: "discovery-mode", description: `${MODES.join(" | ")}; auto is wsl on a WSL2 host, csv on a Tegra host, else nvml` },
    "device-name-strategy": { type: "string", description: "index | uuid | type-index (repeatable; default index and uuid)" },
    "driver-root": { type: "string", description: "The driver's root (default /)" },
    "dev-root": { type: "string", description: "Where the device nodes are (default /)" },
    vendor: { type: "string", description: "The vendor of the kind (default nvidia.com)" },
    class: { type: "string", description: "The class of the kind (default gpu)" },
    "nvidia-cdi-hook-path": { type: "string", alias: "nvidia-ctk-path", description: "The nvidia-cdi-hook the spec's hooks run (default /usr/bin/nvidia-cdi-hook)" },
    "ldconfig-path": { type: "string", description: "update-ldcache's --ldconfig-path in the spec" },
    "disable-hook": { type: "string", alias: "disable-hooks", description: "A hook not to write (repeatable; `all` for every one not enabled)" },
    "enable-hook": { type: "string", alias: "enable-hooks", description: "A hook to write (repeatable; chmod is off unless enabled)" },
    "feature-flag": { type: "string", alias: "feature-flags", description: "A feature flag (repeatable; accepted)" },
    "no-all-device": { type: "boolean", description: "Do not write the merged `all` device" },
    "device-id": { type: "string", alias: ["device-ids", "device", "devices"], description: "The devices to write (repeatable; default all; `none`: an empty device)" },
    "library-search-path": { type: "string", description: "csv mode: where lib and sym entries are looked for before / (repeatable)" },
    "config-search-path": { type: "string", description: "Accepted for compatibility" },
    "csv.file": { type: "string", description: "csv mode: a CSV mount spec file (repeatable; default devices.csv, drivers.csv, l4t.csv of /etc/nvidia-container-runtime/host-files-for-container.d)" },
    "csv.ignore-pattern": { type: "string", description: "csv mode: leave out sym entries matching this glob (`**/NAME` matches the base name; repeatable)" },
    "csv.compat-container-root": { type: "string", description: "csv mode: the container's CUDA compat directory on Orin (default /usr/local/cuda/compat_orin)" },
  },
  repeatable: ["device-name-strategy", "disable-hook", "enable-hook", "feature-flag", "device-id", "library-search-path", "config-search-path", "csv.file", "csv.ignore-pattern"],
  async run(c) {
    const a = c.args;
    noOperands(a);
    const mode = a.mode ?? c.env.NVIDIA_CTK_CDI_GENERATE_MODE ?? "auto";
    if (!MODES.includes(mode)) throw new NvctError("usage", `invalid --mode \`${mode}\`: want ${MODES.join(", ")}`);
    const strategies = lists(a["device-name-strategy"]);
    for (const s of strategies) if (!["index", "uuid", "type-index"].includes(s)) throw new NvctError("usage", `invalid --device-name-strategy \`${s}\`: want index, uuid or type-index`);
    const output: string | undefined = a.output ?? c.env.NVIDIA_CTK_CDI_OUTPUT_FILE_PATH;
    const format = a.format ?? (output?.endsWith(".json") ? "json" : "yaml");
    if (format !== "yaml" && format !== "json") throw new NvctError("usage", `invalid --format \`${format}\`: want yaml or json`);
    const vendor = a.vendor ?? "nvidia.com";
    const klass = a.class ?? "gpu";
    if (!NAME.test(vendor) || !vendor.includes(".")) throw new NvctError("usage", `invalid --vendor \`${vendor}\`: want a domain such as nvidia.com`);
    if (!/^[a-zA-Z0-9][a-zA-Z0-9._-]*$/.test(klass)) throw new NvctError("usage", `invalid --class \`${klass}\``);
    for (const k of ["driver-root", "dev-root", "nvidia-cdi-hook-path", "ldconfig-path"] as const) {
      if (a[k] !== undefined && !String(a[k]).startsWith("/")) throw new NvctError("usage", `invalid --${k} \`${a[k]}\`: want an absolute path`);
    }
    const enabled = lists(a["enable-hook"]);
    const disabled = lists(a["disable-hook"]);
    if (enabled.includes("all")) throw new NvctError("usage", "enabling all hooks is not supported");
    for (const h of [...enabled, ...disabled]) if (!HOOK_NAMES.includes(h)) throw new NvctError("usage", `invalid hook \`${h}\`: want ${HOOK_NAMES.join(", ")}`);
    const root = a["driver-root"] ?? c.env.NVIDIA_CTK_DRIVER_ROOT ?? "/";
    const devRoot = a["dev-root"] ?? a["driver-root"] ?? "/";
    const options: CdiOptions = {
      mode: (mode === "auto" || mode === "csv" || mode === "wsl" ? "nvml" : mode) as GenerateMode,
      vendor,
      class: klass,
      strategies: (strategies.length ? strategies : ["index", "uuid"]) as NameStrategy[],
      hookPath: a["nvidia-cdi-hook-path"] ?? c.env.NVIDIA_CTK_CDI_HOOK_PATH ?? "/usr/bin/nvidia-cdi-hook",
      ldconfigPath: a["ldconfig-path"] ?? "",
      enabledHooks: enabled,
      disabledHooks: disabled,
      noAllDevice: !!a["no-all-device"],
      deviceIds: lists(a["device-id"]),
    };
    const csv = await import("../../engine/csv");
    // auto: csv on a Tegra host, as the reference resolves it; else the driver's (nvml).
    let spec;
    // auto, as the reference resolves it: wsl where dxcore is, then csv on a Tegra host, else nvml.
    const wsl = mode === "wsl" || (mode === "auto" && (await import("../../discover/wsl")).isWsl(root));
    if (!wsl && (mode === "csv" || (mode === "auto" && csv.tegraHost(root)))) {
      const env = (k: string) => (c.env[k] ? c.env[k]!.split(",").map((x) => x.trim()).filter(Boolean) : []);
      const files = lists(a["csv.file"]);
      spec = csv.csvSpec(
        {
          root,
          devRoot,
          files: files.length ? files : env("NVIDIA_CTK_CDI_GENERATE_CSV_FILES").length ? env("NVIDIA_CTK_CDI_GENERATE_CSV_FILES") : csv.DEFAULT_FILES,
          ignorePatterns: lists(a["csv.ignore-pattern"]).length ? lists(a["csv.ignore-pattern"]) : env("NVIDIA_CTK_CDI_GENERATE_CSV_IGNORE_PATTERNS"),
          librarySearchPaths: lists(a["library-search-path"]),
          compatRoot: a["csv.compat-container-root"] ?? c.env.NVIDIA_CTK_CDI_GENERATE_CSV_CONTAINER_COMPAT_ROOT ?? "",
          log: (level, m) => level === "warning" && c.io.stderr(logrusLine("warning", m)),
        },
        options,
      );
    } else if (wsl) {
      spec = (await import("../../engine/cdi")).generateWslSpec(root, devRoot, options);
    } else spec = (await import("../../engine/cdi")).generateSpec({ root }, devRoot, options);
    const file = toFile(spec);
    const text = format === "json" ? JSON.stringify(file, null, 2) + "\n" : Bun.YAML.stringify(file, null, 2) + "\n";
    if (!output) c.io.stdout(text);
    else writeAtomic(output, text, "config");
  },
};

const LIST: Command = {
  name: "list",
  description: "List the CDI devices of the spec directories",
  args: { "spec-dir": { type: "string", description: "A directory of CDI specs (repeatable; default /etc/cdi, /var/run/cdi)" } },
  repeatable: ["spec-dir"],
  async run(c) {
    noOperands(c.args);
    const dirs = (c.args["spec-dir"] as string[]).length ? (c.args["spec-dir"] as string[]) : ["/etc/cdi", "/var/run/cdi"];
    const { loadSpecs } = await import("../../discover/cdi");
    const names = new Set<string>();
    const { logrusReport } = await import("../runner");
    for (const { spec } of loadSpecs(dirs, (m) => logrusReport("warning", m, c.io))) for (const d of spec.devices) names.add(`${spec.kind}=${d.name}`);
    c.io.stdout([...names].map((n) => n + "\n").join(""));
  },
};

const ROOT: Command = {
  name: "root",
  description: "Move a spec's host paths from one root to another",
  args: {
    from: { type: "string", description: "The root the spec's host paths are under now" },
    to: { type: "string", description: "The root they should be under" },
    input: { type: "string", description: "The spec to read (default: stdin)" },
    output: { type: "string", description: "Where to write it (default: stdout; may be the input)" },
  },
  run(c) {
    const a = c.args;
    noOperands(a);
    for (const k of ["from", "to"] as const) {
      if (!a[k] || !String(a[k]).startsWith("/")) throw new NvctError("usage", a[k] ? `invalid --${k} \`${a[k]}\`: want an absolute path` : `transform root: missing --${k}`);
    }
    let text: string;
    try {
      text = a.input ? readRegularText(a.input, MAX_INPUT) : c.io.stdin();
    } catch (e) {
      throw new NvctError("config", `failed to read \`${a.input}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
    }
    const json = text.trimStart().startsWith("{");
    let spec: CdiFile;
    try {
      spec = (json ? JSON.parse(text) : Bun.YAML.parse(text)) as CdiFile;
      if (typeof spec !== "object" || spec === null || Array.isArray(spec)) throw new Error("not a mapping");
    } catch (e) {
      throw new NvctError("config", `invalid CDI spec \`${a.input ?? "stdin"}\`: ${(e as Error).message}`, e);
    }
    const from = a.from.replace(/\/+$/, "");
    const to = a.to.replace(/\/+$/, "");
    const move = (p?: string) => (p && (p === from || p.startsWith(from + "/")) ? to + p.slice(from.length) || "/" : p);
    const edit = (e?: FileEdits) => {
      for (const m of e?.mounts ?? []) m.hostPath = move(m.hostPath)!;
      for (const d of e?.deviceNodes ?? []) if (d.hostPath) d.hostPath = move(d.hostPath);
      for (const h of e?.hooks ?? []) h.path = move(h.path)!;
    };
    edit(spec.containerEdits);
    for (const d of spec.devices ?? []) edit(d.containerEdits);
    const out = json ? JSON.stringify(spec, null, 2) + "\n" : Bun.YAML.stringify(spec, null, 2) + "\n";
    if (a.output) writeAtomic(a.output, out, "config");
    else c.io.stdout(out);
  },
};

const TRANSFORM: Command = {
  name: "transform",
  description: "Transform a CDI spec",
  sub: { root: { description: ROOT.description, load: async () => ROOT } },
};

export const CDI: Command = {
  name: "cdi",
  description: "Container Device Interface specs",
  sub: {
    generate: { description: GENERATE.description, load: async () => GENERATE },
    list: { description: LIST.description, load: async () => LIST },
    transform: { description: TRANSFORM.description, load: async () => TRANSFORM },
  },
};

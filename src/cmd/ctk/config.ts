// `nvidia-ctk config [--set K=V]... [-i | -o F]` and `config default`.
import { writeAtomic } from "../../atomic";
import { configPath, defaults, KNOWN, parseConfig } from "../../config/config";
import { stringify, type Table } from "../../config/toml";
import { NvctError } from "../../errors";
import { readRegularText } from "../../files";
import { goBool } from "../../args";
import { noOperands, type Command } from "../runner";

// A key --set may name: one of config.toml's top-level keys, or one in one of its sections.
const KNOWN_TOP = Object.keys(KNOWN).filter((k) => KNOWN[k] === true);
const SECTIONS = Object.keys(KNOWN).filter((k) => KNOWN[k] !== true);

/** The default config as TOML, with the reference's sections. */
export function defaultConfigText(): string {
  const d = defaults();
  return stringify({
    "accept-nvidia-visible-devices-as-volume-mounts": d.acceptVolumeMounts,
    "accept-nvidia-visible-devices-envvar-when-unprivileged": d.acceptEnvvarUnprivileged,
    "disable-require": d.disableRequire,
    "supported-driver-capabilities": d.supportedDriverCapabilities,
    "nvidia-container-cli": { environment: [], ldconfig: d.cli.ldconfig, "load-kmods": d.cli.loadKmods, "no-cgroups": d.cli.noCgroups },
    "nvidia-container-runtime": {
      debug: d.runtime.debug, "log-level": d.runtime.logLevel, mode: d.runtime.mode, runtimes: d.runtime.runtimes,
      modes: { cdi: { "annotation-prefixes": d.runtime.cdi.annotationPrefixes, "default-kind": d.runtime.cdi.defaultKind, "spec-dirs": d.runtime.cdi.specDirs }, csv: { "mount-spec-path": d.runtime.csv.mountSpecPath } },
    },
    "nvidia-container-runtime-hook": { path: d.hook.path, "skip-mode-detection": d.hook.skipModeDetection },
    "nvidia-ctk": { path: d.ctk.path },
  });
}

/** The value a --set gives, typed as the key is in the default config (or as the text says). */
function valueFor(keyPath: string, raw: string | undefined, sep: string): unknown {
  const d: any = Bun.TOML.parse(defaultConfigText());
  let cur = d;
  for (const p of keyPath.split(".")) cur = cur?.[p];
  const isBool = typeof cur === "boolean" || keyPath.startsWith("features.");
  if (raw === undefined) {
    if (isBool) return true;
    throw new NvctError("usage", `invalid format: expected key=value; got ${keyPath}`);
  }
  if (isBool || (cur === undefined && (raw === "true" || raw === "false"))) {
    const v = goBool(raw);
    if (v === undefined) throw new NvctError("usage", `invalid value for \`${keyPath}\`: \`${raw}\` is not a boolean`);
    return v;
  }
  if (Array.isArray(cur) || raw.startsWith("[")) {
    if (raw.startsWith("[")) {
      try {
        return JSON.parse(raw);
      } catch {
        throw new NvctError("usage", `invalid value for \`${keyPath}\`: \`${raw}\``);
      }
    }
    if (raw === "") return [];
    return raw.includes(sep) ? raw.split(sep) : raw.split(",");
  }
  return raw;
}

function setKey(t: Table, kv: string, sep: string): void {
  const eq = kv.indexOf("=");
  const keyPath = eq < 0 ? kv : kv.slice(0, eq);
  const parts = keyPath.split(".");
  if (!keyPath || (parts.length === 1 ? !KNOWN_TOP.includes(parts[0]) : !SECTIONS.includes(parts[0]))) throw new NvctError("usage", `invalid --set option ${kv}: unknown config key \`${keyPath}\``);
  const value = valueFor(keyPath, eq < 0 ? undefined : kv.slice(eq + 1), sep);
  let cur = t;
  for (const p of parts.slice(0, -1)) {
    if (cur[p] !== undefined && (typeof cur[p] !== "object" || Array.isArray(cur[p]))) throw new NvctError("usage", `invalid --set option ${kv}: \`${p}\` is not a table`);
    cur = (cur[p] ??= {}) as Table;
  }
  cur[parts[parts.length - 1]] = value as any;
}

const DEFAULT: Command = {
  name: "default",
  description: "Print the default config",
  args: { output: { type: "string", alias: "o", description: "Write it to this file" } },
  run(c) {
    noOperands(c.args);
    const text = defaultConfigText();
    if (c.args.output) writeAtomic(c.args.output, text);
    else c.io.stdout(text);
  },
};

export const CONFIG: Command = {
  name: "config",
  description: "Show or change config.toml (`config default` prints the defaults)",
  args: {
    "config-file": { type: "string", alias: ["config", "c"], description: "The config file (default /etc/nvidia-container-runtime/config.toml, or $NVIDIA_CTK_CONFIG_FILE_PATH)" },
    set: { type: "string", description: "KEY[=VALUE] to set (repeatable; KEY as in the file, e.g. nvidia-container-cli.root; a list as a,b)" },
    "set-list-separator": { type: "string", description: "What separates a list's items in --set (default :, and , always)" },
    "in-place": { type: "boolean", alias: "i", description: "Write the result back to the file" },
    output: { type: "string", alias: "o", description: "Write the result to this file" },
  },
  repeatable: ["set"],
  sub: {
    default: { description: DEFAULT.description, load: async () => DEFAULT },
  },
  aliases: { "create-default": "default", "generate-default": "default" },
  run(c) {
    const a = c.args;
    noOperands(a);
    const sep: string = a["set-list-separator"] ?? ":";
    if (sep === "") throw new NvctError("usage", "set-list-separator must be set");
    const file: string = a["config-file"] ?? configPath(undefined, c.env);
    let text = "";
    try {
      text = readRegularText(file, 1 << 20);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new NvctError("config", `failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
    }
    let t: Table = {};
    if (text.trim()) {
      try {
        t = Bun.TOML.parse(text) as Table;
      } catch (e) {
        throw new NvctError("config", `invalid config \`${file}\`: ${(e as Error).message}`, e);
      }
    } else t = Bun.TOML.parse(defaultConfigText()) as Table;
    for (const kv of a.set as string[]) setKey(t, kv, sep);
    const out = stringify(t);
    parseConfig(out, file); // what is written must load: a wrong type is refused here, named
    if (a["in-place"]) writeAtomic(file, out);
    else if (a.output) writeAtomic(a.output, out);
    else c.io.stdout(out);
  },
};

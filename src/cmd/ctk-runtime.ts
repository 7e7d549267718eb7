// `nvidia-ctk runtime configure`, `nvidia-ctk config`, `nvidia-ctk system ...`: read the file,
// edit the data, write it back atomically (temp file + rename) or print it with --dry-run.
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from "node:fs";
import { procDevices, statNode } from "../discover/files";
import { sys } from "../sys/libc";
import { writeAtomic } from "../atomic";
import { dirname, join } from "node:path";
import type { ArgsDef } from "citty";
import { parse } from "../args";
import { configureContainerd, configureCrio, configureDocker, containerdDropIn, containerdVersion, podmanHook } from "../cdi/engines";
import { defaults, parseConfig } from "../config/config";
import { stringify, type Table } from "../config/toml";
import { NvctError } from "../errors";
import type { Io } from "../io";

const TOOL = "nvidia-ctk";

export const runtimeConfigureArgs = {
  runtime: { type: "string", description: "docker | containerd | crio | podman (required)" },
  config: { type: "string", description: "The engine's config file (default: its usual path)" },
  "drop-in-config": { type: "string", description: "containerd: write the settings to this file, imported by the main config" },
  "config-source": { type: "string", description: "Accepted for compatibility (the file is always the source)" },
  "set-as-default": { type: "boolean", description: "Make the nvidia runtime the default" },
  "nvidia-runtime-name": { type: "string", description: "The runtime's name (default nvidia)" },
  "runtime-path": { type: "string", description: "The runtime binary (default /usr/bin/nvidia-container-runtime)" },
  "hook-path": { type: "string", description: "podman: the prestart hook (default /usr/bin/nvidia-container-runtime-hook)" },
  "cdi.enabled": { type: "boolean", description: "Enable CDI in the engine (docker, containerd)" },
  "dry-run": { type: "boolean", description: "Print the result instead of writing it" },
} satisfies ArgsDef;

const DEFAULT_PATHS: Record<string, string> = {
  docker: "/etc/docker/daemon.json",
  containerd: "/etc/containerd/config.toml",
  crio: "/etc/crio/crio.conf",
  podman: "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json",
};


function readOr<T>(file: string, parseText: (t: string) => T, empty: T): T {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return empty;
    throw new NvctError("config", `failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
  if (text.trim() === "") return empty;
  try {
    return parseText(text);
  } catch (e) {
    throw new NvctError("config", `invalid \`${file}\`: ${(e as Error).message}`, e);
  }
}

const parseToml = (t: string) => Bun.TOML.parse(t) as Table;

export function runtimeConfigure(argv: string[], io: Io): number {
  const a = parse(TOOL, runtimeConfigureArgs, argv);
  if (a._.length) throw new NvctError("usage", `unexpected argument \`${a._[0]}\``);
  const engine = a.runtime;
  if (!engine) throw new NvctError("usage", "runtime configure: missing --runtime (docker, containerd, crio or podman)");
  if (!(engine in DEFAULT_PATHS)) throw new NvctError("usage", `invalid --runtime \`${engine}\`: want docker, containerd, crio or podman`);
  const name = a["nvidia-runtime-name"] ?? "nvidia";
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new NvctError("usage", `invalid --nvidia-runtime-name \`${name}\``);
  for (const k of ["config", "drop-in-config", "runtime-path", "hook-path"] as const) {
    if (a[k] !== undefined && !String(a[k]).startsWith("/")) throw new NvctError("usage", `invalid --${k} \`${a[k]}\`: want an absolute path`);
  }
  if (a["drop-in-config"] && engine !== "containerd") throw new NvctError("usage", "--drop-in-config is for containerd only");
  const o = { name, path: a["runtime-path"] ?? "/usr/bin/nvidia-container-runtime", setAsDefault: !!a["set-as-default"], cdi: !!a["cdi.enabled"] };
  const file: string = a.config ?? DEFAULT_PATHS[engine];
  const out: [string, string][] = [];
  if (engine === "docker") {
    const cfg = readOr(file, JSON.parse, {});
    out.push([file, JSON.stringify(configureDocker(cfg, o), null, 4) + "\n"]);
  } else if (engine === "crio") {
    out.push([file, stringify(configureCrio(readOr(file, parseToml, {}), o))]);
  } else if (engine === "podman") {
    out.push([file, JSON.stringify(podmanHook(a["hook-path"] ?? "/usr/bin/nvidia-container-runtime-hook"), null, 2) + "\n"]);
  } else {
    const main = readOr(file, parseToml, {});
    const version = containerdVersion(main.version === undefined && Object.keys(main).length === 0 ? { version: 2 } : main);
    const dropIn: string | undefined = a["drop-in-config"];
    if (dropIn) {
      // The settings go to the drop-in; the main config only imports it (containerd merges).
      out.push([dropIn, stringify(containerdDropIn(main, o, version))]);
      const imports = Array.isArray(main.imports) ? (main.imports as string[]) : [];
      if (!imports.includes(dropIn)) out.push([file, stringify({ ...main, ...(version > 1 ? { version } : {}), imports: [...imports, dropIn] })]);
    } else out.push([file, stringify(configureContainerd(main, o, version))]);
  }
  if (a["dry-run"]) {
    for (const [f, text] of out) io.stdout(out.length > 1 ? `# ${f}\n${text}` : text);
    return 0;
  }
  for (const [f, text] of out) writeAtomic(f, text);
  return 0;
}

export const configArgs = {
  "config-file": { type: "string", description: "The config file (default /etc/nvidia-container-runtime/config.toml)" },
  set: { type: "string", description: "KEY=VALUE to set (repeatable; KEY as in the file, e.g. nvidia-container-cli.root)" },
  "in-place": { type: "boolean", alias: "i", description: "Write the result back to the file instead of printing it" },
  output: { type: "string", alias: "o", description: "Write the result to this file" },
} satisfies ArgsDef;

/** Puts VALUE at a dotted KEY, typed as the default config has it (bool, string, list). */
function setKey(t: Table, keyPath: string, raw: string): void {
  const parts = keyPath.split(".");
  const known = ["disable-require", "swarm-resource", "accept-nvidia-visible-devices-envvar-when-unprivileged", "accept-nvidia-visible-devices-as-volume-mounts", "supported-driver-capabilities"];
  const sections = ["nvidia-container-cli", "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-ctk", "features"];
  if (parts.length === 1 ? !known.includes(parts[0]) : !sections.includes(parts[0])) throw new NvctError("usage", `unknown config key \`${keyPath}\``);
  let value: unknown = raw;
  if (raw === "true" || raw === "false") value = raw === "true";
  else if (raw.startsWith("[")) {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new NvctError("usage", `invalid value for \`${keyPath}\`: \`${raw}\` (a list is JSON, e.g. ["runc"])`);
    }
  }
  let cur = t;
  for (const p of parts.slice(0, -1)) cur = (cur[p] ??= {}) as Table;
  cur[parts[parts.length - 1]] = value as any;
}

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

export function configCommand(argv: string[], io: Io): number {
  if (argv[0] === "default") {
    const a = parse(TOOL, { output: configArgs.output }, argv.slice(1));
    const text = defaultConfigText();
    if (a.output) writeAtomic(a.output, text);
    else io.stdout(text);
    return 0;
  }
  const a = parse(TOOL, configArgs, argv, ["set"]);
  if (a._.length) throw new NvctError("usage", `unexpected argument \`${a._[0]}\``);
  const file = a["config-file"] ?? "/etc/nvidia-container-runtime/config.toml";
  const t = readOr(file, parseToml, {});
  for (const kv of a.set as string[]) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new NvctError("usage", `invalid --set \`${kv}\`: want KEY=VALUE`);
    setKey(t, kv.slice(0, eq), kv.slice(eq + 1));
  }
  const text = stringify(t);
  parseConfig(text, file); // what is written must load: a wrong type is refused here, named
  if (a["in-place"]) writeAtomic(file, text);
  else if (a.output) writeAtomic(a.output, text);
  else io.stdout(text);
  return 0;
}

export const systemArgs = {
  "dev-root": { type: "string", description: "Where /dev is (default /)" },
  "control-devices": { type: "boolean", description: "create-device-nodes: the control nodes (nvidiactl, nvidia-uvm, nvidia-uvm-tools, nvidia-modeset)" },
  "load-kernel-modules": { type: "boolean", description: "Accepted for compatibility: nvct loads no modules" },
  "dry-run": { type: "boolean", description: "Print what would be done" },
  "create-all": { type: "boolean", description: "create-dev-char-symlinks: for every NVIDIA node" },
} satisfies ArgsDef;

/** `system create-device-nodes` and `system create-dev-char-symlinks`. */
export function systemCommand(argv: string[], io: Io): number {
  const [sub, ...rest] = argv;
  const a = parse(TOOL, systemArgs, rest);
  if (a._.length) throw new NvctError("usage", `unexpected argument \`${a._[0]}\``);
  const devRoot: string = a["dev-root"] ?? "/";
  if (!devRoot.startsWith("/")) throw new NvctError("usage", `invalid --dev-root \`${devRoot}\`: want an absolute path`);
  const majors = procDevices();
  const dev = (p: string) => join(devRoot, "dev", p);
  if (sub === "create-device-nodes") {
    if (!a["control-devices"]) throw new NvctError("usage", "create-device-nodes: nothing to do (use --control-devices)");
    const want: [string, number | undefined, number][] = [
      ["nvidiactl", 195, 255], ["nvidia-modeset", 195, 254],
      ["nvidia-uvm", majors.get("nvidia-uvm"), 0], ["nvidia-uvm-tools", majors.get("nvidia-uvm"), 1],
    ];
    for (const [name, major, minor] of want) {
      if (major === undefined || statNode(dev(name))) continue;
      if (a["dry-run"]) io.stdout(`would create ${dev(name)} c ${major}:${minor}\n`);
      else sys.mknodat(-100, dev(name), 0o20666, major, minor);
    }
    return 0;
  }
  if (sub === "create-dev-char-symlinks") {
    const nodes = readdirSync(join(devRoot, "dev")).filter((n) => n.startsWith("nvidia")).map((n) => statNode(dev(n))).filter((n) => n !== null);
    for (const n of nodes) {
      const link = dev(`char/${n!.major}:${n!.minor}`);
      if (existsSync(link)) continue;
      if (a["dry-run"]) io.stdout(`would link ${link} -> ../${n!.path.split("/").pop()}\n`);
      else {
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(`../${n!.path.split("/").pop()}`, link);
      }
    }
    return 0;
  }
  throw new NvctError("usage", `unknown command \`system ${sub ?? ""}\` (want create-device-nodes or create-dev-char-symlinks)`);
}

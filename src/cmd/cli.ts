// nvidia-container-cli: info and list (configure arrives with the injection engine).
import { statSync } from "node:fs";
import { defineCommand, type ArgsDef } from "citty";
import { parse, splitAtCommand, usage, wantsHelp } from "../args";
import { selectDevices } from "../core";
import { migMinors, readInventory } from "../discover/driver";
import { controlNodes, findBinaries, findFirmware, findIpcs, findLibraries, loadLdCache, type DriverRoot } from "../discover/files";
import { NvctError } from "../errors";
import type { Env, Io } from "../io";
import { fileLogger } from "../log";
import type { NvmlInventory } from "../sys/nvml";
import { VERSION_TEXT } from "../version";

const TOOL = "nvidia-container-cli";

const globalArgs = {
  "load-kmods": { type: "boolean", alias: "k", description: "Load kernel modules" },
  user: { type: "string", alias: "u", description: "User and group to use for privilege separation (UID[:GID])" },
  root: { type: "string", alias: "r", description: "Path to the driver root directory (default /)" },
  ldcache: { type: "string", alias: "l", description: "Path to the system's DSO cache (default <root>/etc/ld.so.cache)" },
  debug: { type: "string", alias: "d", description: "Log debug information to FILE" },
  "no-pivot": { type: "boolean", alias: "n", description: "Do not use pivot_root" },
  version: { type: "boolean", alias: "V", description: "Print the version information" },
} satisfies ArgsDef;

const infoArgs = {
  csv: { type: "boolean", description: "Output in CSV format" },
} satisfies ArgsDef;

const listArgs = {
  device: { type: "string", alias: "d", description: "Device ids to list (default all)" },
  libraries: { type: "boolean", alias: "l", description: "List driver libraries" },
  binaries: { type: "boolean", alias: "b", description: "List driver binaries" },
  ipcs: { type: "boolean", alias: "i", description: "List driver IPCs" },
  firmwares: { type: "boolean", alias: "f", description: "List driver firmware" },
  compat32: { type: "boolean", description: "Include 32-bit libraries" },
  "mig-config": { type: "string", description: "MIG devices to list config capability files for (all)" },
  "mig-monitor": { type: "string", description: "MIG devices to list monitor capability files for (all)" },
} satisfies ArgsDef;

const configureArgs = {
  pid: { type: "string", alias: "p", description: "Process ID of the container (required)" },
  device: { type: "string", alias: "d", description: "Device ids to make available (e.g. all, 0,1, GPU-..., 0:1)" },
  require: { type: "string", alias: "r", description: "Check a requirement expression (repeatable)" },
  ldconfig: { type: "string", alias: "l", description: "Accepted for compatibility: nvct writes ld.so.cache itself and runs no ldconfig" },
  compute: { type: "boolean", alias: "c", description: "Enable compute capability" },
  utility: { type: "boolean", alias: "u", description: "Enable utility capability" },
  video: { type: "boolean", alias: "v", description: "Enable video capability" },
  graphics: { type: "boolean", alias: "g", description: "Enable graphics capability" },
  display: { type: "boolean", alias: "D", description: "Enable display capability" },
  ngx: { type: "boolean", alias: "n", description: "Enable ngx capability" },
  compat32: { type: "boolean", description: "Enable 32-bit compatibility" },
  "mig-config": { type: "string", description: "MIG devices whose config capability to make available (all)" },
  "mig-monitor": { type: "string", description: "MIG devices whose monitor capability to make available (all)" },
  "imex-channel": { type: "string", description: "IMEX channel id to make available (repeatable)" },
  "no-cgroups": { type: "boolean", description: "Do not write device cgroup rules" },
  "no-devbind": { type: "boolean", description: "Do not bind-mount device nodes" },
  "no-persistenced": { type: "boolean", description: "Do not make the persistenced socket available" },
  "no-fabricmanager": { type: "boolean", description: "Do not make the fabricmanager socket available" },
  "cuda-compat-mode": { type: "string", description: "mount | ldconfig | disabled (nvct never takes compat libraries from the image)" },
  "no-cntlibs": { type: "boolean", description: "Accepted for compatibility" },
  rootfs: { type: "positional", required: false, description: "The container's root filesystem (absolute)" },
} satisfies ArgsDef;

const configureCmd = defineCommand({
  meta: { name: "configure", description: "Configure a container with GPU support by exposing device drivers to it." },
  args: configureArgs,
});

const info = defineCommand({
  meta: { name: "info", description: "Query the driver and report its information and the devices it detected." },
  args: infoArgs,
});
const list = defineCommand({
  meta: { name: "list", description: "List the driver components a container needs for GPU support." },
  args: listArgs,
});
const root = defineCommand({
  meta: { name: TOOL, description: "NVIDIA container command-line utility (nvct)" },
  args: globalArgs,
  subCommands: { info, list, configure: configureCmd },
});

interface Globals {
  driver: DriverRoot;
  debug?: string;
}

function globals(a: Record<string, any>): Globals {
  const rootDir = a.root ?? "/";
  if (!rootDir.startsWith("/")) throw new NvctError("usage", `invalid root \`${rootDir}\`: must be an absolute path`);
  let st;
  try {
    st = statSync(rootDir);
  } catch {
    throw new NvctError("usage", `invalid root \`${rootDir}\`: no such directory`);
  }
  if (!st.isDirectory()) throw new NvctError("usage", `invalid root \`${rootDir}\`: not a directory`);
  if (a.user !== undefined && a.user !== "" && !/^\d+(:\d+)?$/.test(a.user)) {
    throw new NvctError("usage", `invalid user \`${a.user}\`: want UID[:GID]`);
  }
  if (a.ldcache !== undefined && a.ldcache === "") throw new NvctError("usage", "invalid ldcache ``: empty path");
  if (a.debug !== undefined && a.debug === "") throw new NvctError("usage", "invalid debug file ``: empty path");
  return { driver: { root: rootDir, ldcache: a.ldcache }, debug: a.debug };
}

/** argp's optional-argument spelling made explicit for the parser: `list -d` alone means all. */
function normalize(argv: string[], flags: string[], dflt: string): string[] {
  // A following word that is not an option is the value; otherwise the default.
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (flags.includes(a)) {
      const next = argv[i + 1];
      if (next === undefined || next.startsWith("-")) out.push(`${flags[flags.length - 1]}=${dflt}`);
      else out.push(`${flags[flags.length - 1]}=${argv[++i]}`);
    } else out.push(a);
  }
  return out;
}

function initialize(g: Globals): NvmlInventory {
  try {
    return readInventory(g.driver);
  } catch (e) {
    throw new NvctError("init", `initialization error: ${(e as Error).message}`, e);
  }
}

export function formatInfo(inv: NvmlInventory, csv: boolean): string {
  if (csv) {
    const rows = inv.gpus.map((g) => [g.index, g.minor, g.model, g.brand, g.uuid, g.busId, g.arch].join(","));
    return `NVRM version,CUDA version\n${inv.driver},${inv.cuda}\n\nDevice Index,Device Minor,Model,Brand,GPU UUID,Bus Location,Architecture\n${rows.map((r) => r + "\n").join("")}`;
  }
  const f = (label: string, v: string | number) => `${label.padEnd(15)} ${v}\n`;
  let out = f("NVRM version:", inv.driver) + f("CUDA version:", inv.cuda);
  for (const g of inv.gpus) {
    out += "\n" + f("Device Index:", g.index) + f("Device Minor:", g.minor) + f("Model:", g.model) + f("Brand:", g.brand);
    out += f("GPU UUID:", g.uuid) + f("Bus Location:", g.busId) + f("Architecture:", g.arch);
  }
  return out;
}

const CAPS = "/proc/driver/nvidia/capabilities";

function listPaths(g: Globals, a: Record<string, any>, everything: boolean): string[] {
  const entries = loadLdCache(g.driver);
  const inv = (() => {
    try {
      return readInventory(g.driver, entries);
    } catch (e) {
      throw new NvctError("init", `initialization error: ${(e as Error).message}`, e);
    }
  })();
  const out: string[] = [];
  const device = everything ? "all" : a.device;
  const minors = migMinors();
  if (device !== undefined) {
    let sel;
    try {
      sel = selectDevices(device, inv.gpus);
    } catch (e) {
      throw new NvctError("device", `device error: ${(e as Error).message}`, e);
    }
    out.push(...controlNodes().map((n) => n.path));
    const gpuIdx = new Set<number>(sel.gpus);
    const migs = sel.kind === "all" ? inv.gpus.flatMap((x) => x.migs.map((m) => [x.index, m.index] as [number, number])) : sel.migs;
    for (const [gi] of migs) gpuIdx.add(gi);
    for (const x of inv.gpus) if (gpuIdx.has(x.index)) out.push(`/dev/nvidia${x.minor}`);
    for (const [gIndex, mIndex] of migs) {
      const gpu = inv.gpus[gIndex];
      const m = gpu.migs.find((y) => y.index === mIndex)!;
      const giKey = `gpu${gpu.minor}/gi${m.gi}/access`;
      const ciKey = `gpu${gpu.minor}/gi${m.gi}/ci${m.ci}/access`;
      out.push(`${CAPS}/gpu${gpu.minor}/mig/gi${m.gi}/access`, `${CAPS}/gpu${gpu.minor}/mig/gi${m.gi}/ci${m.ci}/access`);
      for (const k of [giKey, ciKey]) if (minors.has(k)) out.push(`/dev/nvidia-caps/nvidia-cap${minors.get(k)}`);
    }
  }
  const migCapable = inv.gpus.filter((x) => x.migEnabled);
  for (const [opt, file] of [["mig-config", "config"], ["mig-monitor", "monitor"]] as const) {
    const v = everything ? "all" : a[opt];
    if (v === undefined) continue;
    if (v !== "all") throw new NvctError("usage", `invalid --${opt} \`${v}\`: only \`all\` is supported`);
    if (migCapable.length === 0) continue;
    out.push(`${CAPS}/mig/${file}`);
    if (minors.has(file)) out.push(`/dev/nvidia-caps/nvidia-cap${minors.get(file)}`);
    for (const x of migCapable) out.push(`${CAPS}/gpu${x.minor}/mig`);
  }
  if (everything || a.binaries) out.push(...findBinaries(g.driver).map((b) => b.path));
  if (everything || a.libraries) {
    const libs = findLibraries(g.driver, entries, inv.driver);
    out.push(...libs.filter((l) => l.bits === 64).map((l) => l.path));
    if (everything || a.compat32) out.push(...libs.filter((l) => l.bits === 32).map((l) => l.path));
  }
  if (everything || a.ipcs) out.push(...findIpcs(g.driver).map((i) => i.path));
  if (everything || a.firmwares) out.push(...findFirmware(g.driver, inv.driver));
  return out;
}

export async function cli(argv: string[], _env: Env, io: Io): Promise<number> {
  try {
    // `-u`/`--user` take an optional value (argp): alone they never consume the next word.
    const [graw, rest] = splitAtCommand({ ...globalArgs, user: { type: "boolean", alias: "u" } }, argv);
    const gargv = graw.map((a) => (a === "-u" || a === "--user" ? "--user=" : a));
    const ga = parse(TOOL, globalArgs, gargv);
    if (ga.version) {
      io.stdout(VERSION_TEXT);
      return 0;
    }
    const [name, ...cargv] = rest;
    if (ga.help || name === undefined) {
      io[name === undefined && !ga.help ? "stderr" : "stdout"](await usage(root));
      return name === undefined && !ga.help ? 64 : 0;
    }
    const cmd = ({ info, list, configure: configureCmd } as Record<string, any>)[name];
    if (!cmd) throw new NvctError("usage", `${TOOL}: unknown command \`${name}\``);
    if (wantsHelp(cargv)) {
      io.stdout(await usage(cmd, root));
      return 0;
    }
    const g = globals(ga);
    const log = fileLogger(TOOL, g.debug);
    log.debug("command", { argv });
    if (name === "configure") {
      const a = parse(TOOL, configureArgs, cargv, ["require", "imex-channel", "device"]);
      const { configureFromCli } = await import("./configure");
      configureFromCli(a, g, io.stdin, log);
      return 0;
    }
    if (name === "info") {
      const a = parse(TOOL, infoArgs, cargv);
      if (a._.length) throw new NvctError("usage", `${TOOL}: unexpected argument \`${a._[0]}\``);
      io.stdout(formatInfo(initialize(g), !!a.csv));
      return 0;
    }
    const largv = normalize(cargv, ["-d", "--device"], "all");
    const a = parse(TOOL, listArgs, largv);
    if (a._.length) throw new NvctError("usage", `${TOOL}: unexpected argument \`${a._[0]}\``);
    const everything = ["device", "libraries", "binaries", "ipcs", "firmwares", "compat32", "mig-config", "mig-monitor"].every(
      (k) => a[k] === undefined || a[k] === false,
    );
    const paths = listPaths(g, a, everything);
    io.stdout(paths.map((p) => p + "\n").join(""));
    return 0;
  } catch (e) {
    if (!(e instanceof NvctError)) throw e;
    const msg = e.message.startsWith(`${TOOL}:`) ? e.message : `${TOOL}: ${e.message}`;
    io.stderr(msg + "\n");
    if (e.code === "usage") io.stderr(`Try '${TOOL} --help' for more information.\n`);
    return e.code === "usage" ? 64 : 1;
  }
}

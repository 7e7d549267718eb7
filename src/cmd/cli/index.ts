// nvidia-container-cli: info, list and configure over the same engine as the hook, with
// libnvidia-container's options, messages and exit statuses (argp: usage errors exit 1).
import { statSync } from "node:fs";
import { classified, NvctError } from "../../errors";
import type { Env, Io } from "../../io";
import { fileLogger } from "../../log";
import { COMMIT, VERSION } from "../../version";
import { runTool, type Context, type Tool } from "../runner";
import type { DriverRoot } from "../../discover/driver";

const TOOL = "nvidia-container-cli";

export interface Globals {
  driver: DriverRoot;
  log: ReturnType<typeof fileLogger>;
}

/** The global options, checked (every bad value named). */
export function globals(c: Context): Globals {
  const a = c.globals[0];
  const rootDir: string = a.root ?? "/";
  if (!rootDir.startsWith("/")) throw new NvctError("usage", `invalid root \`${rootDir}\`: must be an absolute path`);
  let st;
  try {
    st = statSync(rootDir);
  } catch {
    throw new NvctError("usage", `invalid root \`${rootDir}\`: no such directory`);
  }
  if (!st.isDirectory()) throw new NvctError("usage", `invalid root \`${rootDir}\`: not a directory`);
  if (a.user !== undefined && a.user !== "" && !/^\d+(:\d+)?$/.test(a.user)) throw new NvctError("usage", `invalid user \`${a.user}\`: want UID[:GID]`);
  if (a.ldcache === "") throw new NvctError("usage", "invalid ldcache ``: empty path");
  if (a.debug === "") throw new NvctError("usage", "invalid debug file ``: empty path");
  const log = fileLogger(TOOL, a.debug);
  return { driver: { root: rootDir, ldcache: a.ldcache }, log };
}

export const CLI_TOOL: Tool = {
  name: TOOL,
  style: "argp",
  usageExit: 1,
  version: () => `cli-version: ${VERSION}\nlib-version: ${VERSION}\nbuild revision: ${COMMIT}\nbuild platform: ${process.arch === "arm64" ? "aarch64" : "x86_64"}\n`,
  bare: { to: "stderr", exit: 1 },
  unknownExit: 1,
  root: {
    name: TOOL,
    description: "NVIDIA container command-line utility (nvct)",
    args: {
      "load-kmods": { type: "boolean", alias: "k", description: "Load kernel modules (accepted; nvct loads none)" },
      user: { type: "string", alias: "u", description: "User and group to use for privilege separation (UID[:GID])" },
      root: { type: "string", alias: "r", description: "Path to the driver root directory (default /)" },
      ldcache: { type: "string", alias: "l", description: "Path to the system's DSO cache (default <root>/etc/ld.so.cache)" },
      debug: { type: "string", alias: "d", description: "Log debug information to FILE" },
      "no-pivot": { type: "boolean", alias: "n", description: "Do not use pivot_root" },
      version: { type: "boolean", alias: "V", description: "Print the version information" },
    },
    sub: {
      info: { description: "Report the driver and the devices it detected", load: async () => (await import("./info")).INFO },
      list: { description: "List the driver components a container needs for GPU support", load: async () => (await import("./list")).LIST },
      configure: { description: "Configure a container with GPU support by exposing device drivers to it", load: async () => (await import("./configure")).CONFIGURE },
    },
  },
  report(e, { io }) {
    io.stderr(`${TOOL}: ${classified(e)}\n`);
    if (e.code === "usage") io.stderr(`Try \`${TOOL} --help' or \`${TOOL} --usage' for more information.\n`);
  },
};

export function cli(argv: string[], env: Env, io: Io): Promise<number> {
  // argp's optional argument: `-u` / `--user` alone never take the next word.
  const i = argv.findIndex((a) => !a.startsWith("-"));
  const head = (i < 0 ? argv : argv.slice(0, i)).map((a) => (a === "-u" || a === "--user" ? "--user=" : a));
  return runTool(CLI_TOOL, [...head, ...(i < 0 ? [] : argv.slice(i))], env, io);
}

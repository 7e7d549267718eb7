// nvidia-cdi-hook (also `nvidia-ctk hook`): the createContainer hooks CDI specs name, the newest
// toolkit's set. A hook this version does not know is skipped with a warning, as the reference
// does, so that specs from newer toolkits still start containers.
import type { ArgsDef } from "citty";
import type { Env, Io } from "../io";
import { COMMIT, VERSION } from "../version";
import { logrusReport, noOperands, runTool, type Command, type Context, type Tool } from "./runner";

const SPEC = { "container-spec": { type: "string", description: "The OCI state to read instead of stdin (testing)" } } satisfies ArgsDef;

function hookCommand(name: string, description: string, args: ArgsDef, repeatable: string[] = []): Command {
  return {
    name,
    description,
    args: { ...args, ...SPEC },
    repeatable,
    async run(c: Context) {
      noOperands(c.args);
      const a = c.args;
      const { runCdiHook } = await import("../engine/hooks");
      const { sys } = await import("../sys/libc");
      const { readRegularText } = await import("../files");
      const { NvctError } = await import("../errors");
      const { configPath, loadConfig } = await import("../config/config");
      // Only the decision cache's directory: the hooks' own behaviour has no config key, so a
      // config.toml that does not parse costs the cache, never the container.
      let cacheDir = "";
      try {
        cacheDir = loadConfig(configPath(undefined, c.env)).nvct.cacheDir;
      } catch {}
      const spec: string | undefined = a["container-spec"];
      const stdin = () => {
        if (!spec || spec === "-") return c.io.stdin();
        try {
          return readRegularText(spec, 1 << 20);
        } catch (e) {
          throw new NvctError("state", `failed to read the OCI state \`${spec}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
        }
      };
      runCdiHook(
        {
          name,
          links: a.link ?? [],
          folders: a.folder ?? [],
          mode: a.mode ?? "",
          paths: a.path ?? [],
          hostDriverVersion: a["host-driver-version"] ?? "",
          hostCudaVersion: a["host-cuda-version"] ?? "",
          compatRoot: a["cuda-compat-container-root"] ?? "",
        },
        stdin,
        sys,
        () => {},
        cacheDir,
      );
    },
  };
}

const HOOKS: Record<string, Command> = {
  "create-symlinks": hookCommand("create-symlinks", "Create symlinks in the container", { link: { type: "string", description: "TARGET::LINK: make LINK (a container path) point at TARGET (repeatable)" } }, ["link"]),
  "update-ldcache": hookCommand("update-ldcache", "Add the libraries of folders to the container's ld.so.cache (nvct writes it; no ldconfig runs)", {
    folder: { type: "string", description: "A container folder whose libraries to add (repeatable)" },
    "ldconfig-path": { type: "string", description: "Accepted for compatibility: nvct runs no ldconfig" },
  }, ["folder"]),
  chmod: hookCommand("chmod", "Change the mode of paths in the container", {
    mode: { type: "string", description: "The mode, in octal (e.g. 755)" },
    path: { type: "string", description: "A container path (repeatable)" },
  }, ["path"]),
  "enable-cuda-compat": hookCommand("enable-cuda-compat", "Use the image's CUDA forward-compatibility libraries when the host driver is older", {
    "host-driver-version": { type: "string", description: "The host's driver version" },
    "host-cuda-version": { type: "string", description: "The host's CUDA version" },
    "cuda-compat-container-root": { type: "string", description: "Where the image keeps them (default /usr/local/cuda/compat)" },
  }),
  "disable-device-node-modification": hookCommand("disable-device-node-modification", "Show the container ModifyDeviceFiles: 0 in /proc/driver/nvidia/params", {}),
  "update-application-profile": hookCommand("update-application-profile", "Write the EGL application profile that names the container's GPUs", {}),
  noop: hookCommand("noop", "Do nothing", {}),
};

/** The hooks as a command group (nvidia-cdi-hook's root, nvidia-ctk's `hook`). */
export const HOOK_GROUP: Command = {
  name: "hook",
  description: "createContainer hooks for CDI specs",
  sub: Object.fromEntries(Object.entries(HOOKS).filter(([n]) => n !== "noop").map(([n, h]) => [n, { description: h.description, load: async () => h }])),
};

const GLOBAL = {
  debug: { type: "boolean", alias: "d", description: "Enable debug-level logging" },
  quiet: { type: "boolean", description: "Disable all logging but errors" },
  version: { type: "boolean", alias: "v", description: "Print the version" },
} satisfies ArgsDef;

export const CDI_HOOK_TOOL: Tool = {
  name: "nvidia-cdi-hook",
  style: "go",
  usageExit: 1,
  version: () => `NVIDIA CDI Hook version ${VERSION}\ncommit: ${COMMIT}\n`,
  bare: { to: "stdout", exit: 0 },
  unknownExit: 0,
  unknownCommand(name, { io }) {
    logrusReport("warning", `Unsupported CDI hook: ${name}`, io);
    return 0;
  },
  root: { ...HOOK_GROUP, name: "nvidia-cdi-hook", args: GLOBAL, sub: { ...HOOK_GROUP.sub, noop: { description: "Do nothing", load: async () => HOOKS.noop } } },
  report(e, { io }) {
    logrusReport("error", e.message, io);
  },
};

export function cdiHook(argv: string[], env: Env, io: Io): Promise<number> {
  return runTool(CDI_HOOK_TOOL, argv, env, io);
}

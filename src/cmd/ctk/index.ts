// nvidia-ctk: the toolkit's CLI, as the reference spells it (Go flags, logrus messages on
// stderr, exit 1 on an error, 3 for an unknown command). Each group lives in its own file.
import type { Env, Io } from "../../io";
import { COMMIT, VERSION } from "../../version";
import { logrusReport } from "../runner";
import { runTool, type Tool } from "../runner";

export const CTK_TOOL: Tool = {
  name: "nvidia-ctk",
  style: "go",
  usageExit: 1,
  version: () => `NVIDIA Container Toolkit CLI version ${VERSION}\ncommit: ${COMMIT}\n`,
  bare: { to: "stdout", exit: 0 },
  unknownExit: 3,
  unknownCommand(name, { io }) {
    io.stderr(`No help topic for '${name}'\n`);
    return 3;
  },
  root: {
    name: "nvidia-ctk",
    description: "Tools to configure the NVIDIA Container Toolkit (nvct)",
    args: {
      debug: { type: "boolean", alias: "d", description: "Enable debug-level logging" },
      quiet: { type: "boolean", description: "Disable all logging but errors" },
      version: { type: "boolean", alias: "v", description: "Print the version" },
    },
    sub: {
      cdi: { description: "Container Device Interface specs: generate, list, transform", load: async () => (await import("./cdi")).CDI },
      hook: { description: "createContainer hooks (as nvidia-cdi-hook)", load: async () => (await import("../cdihook")).HOOK_GROUP },
      runtime: { description: "Configure a container engine for the NVIDIA runtime", load: async () => (await import("./runtime")).RUNTIME },
      config: { description: "Show or change config.toml", load: async () => (await import("./config")).CONFIG },
      system: { description: "System settings: device nodes and their /dev/char links", load: async () => (await import("./system")).SYSTEM },
      doctor: { description: "Say what stops a GPU container on this host, and how to fix it", load: async () => (await import("../doctor")).DOCTOR },
    },
  },
  report(e, { io }) {
    logrusReport("error", e.message, io);
  },
};

export function ctk(argv: string[], env: Env, io: Io): Promise<number> {
  return runTool(CTK_TOOL, argv, env, io);
}

// The tools the binary answers to, by invocation name; each loaded only when invoked.
import type { ToolMain } from "./io";

const hook = async () => (await import("./cmd/hook")).hook;

export const TOOLS: Record<string, () => Promise<ToolMain>> = {
  "nvidia-container-cli": async () => (await import("./cmd/cli/index")).cli,
  "nvidia-container-runtime-hook": hook,
  // The reference packages the hook under this name too (its podman hooks JSON calls it).
  "nvidia-container-toolkit": hook,
  "nvidia-container-runtime": async () => (await import("./cmd/runtime")).runtime,
  "nvidia-ctk": async () => (await import("./cmd/ctk/index")).ctk,
  "nvidia-cdi-hook": async () => (await import("./cmd/cdihook")).cdiHook,
  "nvidia-docker": async () => (await import("./cmd/docker")).nvidiaDocker,
};

export const TOOL_NAMES = Object.keys(TOOLS);

/** nvct's own commands, only as `nvct <command>`: no link of their name is made or installed. */
export const COMMANDS: Record<string, () => Promise<ToolMain>> = {
  doctor: async () => (await import("./cmd/doctor")).doctor,
};

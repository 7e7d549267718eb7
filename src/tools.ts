// The tools the binary answers to, by invocation name; each loaded only when invoked.
import type { Tool } from "./io";

export const TOOLS: Record<string, () => Promise<Tool>> = {
  "nvidia-container-cli": async () => (await import("./cmd/cli")).cli,
  "nvidia-container-runtime-hook": async () => (await import("./cmd/hook")).hook,
  "nvidia-container-runtime": async () => (await import("./cmd/runtime")).runtime,
  "nvidia-ctk": async () => (await import("./cmd/ctk")).ctk,
  "nvidia-cdi-hook": async () => (await import("./cmd/cdihook")).cdiHook,
};

export const TOOL_NAMES = Object.keys(TOOLS);

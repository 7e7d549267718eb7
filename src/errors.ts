// One error type for every tool, with one vocabulary of stable codes: the core's own (its
// contract's `code` enum, kept precise up to the user's message) and the shell's.
import type { Code as CoreCode } from "../build/out/gen/host";

/** What the shell itself can fail at. */
export type ShellCode =
  /** Bad command-line input: unknown option, missing or malformed value. */
  | "usage"
  /** config.toml, an engine's config or a CDI spec file that cannot be read or parsed. */
  | "config"
  /** The OCI state on stdin. */
  | "state"
  /** The bundle's config.json. */
  | "spec"
  /** A system call (SysError carries the call, the path and the errno). */
  | "sys"
  /** NVML: the library, or one of its calls. */
  | "nvml"
  /** The driver's files (ld.so.cache, procfs). */
  | "driver"
  /** The device cgroup. */
  | "cgroup"
  /** Injecting into the container: a mount, node, link or file. */
  | "mount"
  /** The runtime shim: mode, low-level runtime, hook. */
  | "runtime"
  /** The nvidia-docker wrapper: the docker it runs. */
  | "docker"
  /** A bug: something nvct did not expect. */
  | "internal";

export type ErrorCode = CoreCode | ShellCode;

/** libnvidia-container's message classes ("device error: ..."), by code. */
export const ERROR_CLASS: Partial<Record<ErrorCode, string>> = {
  "bad-device-id": "device error",
  "unknown-device": "device error",
  "device-missing": "device error",
  "device-mismatch": "device error",
  "mig-capability": "device error",
  "imex-unsupported": "device error",
  "bad-mig-devices": "device error",
  "procfs-missing": "mount error",
  unsatisfied: "requirement error",
  "bad-requirement": "requirement error",
  nvml: "initialization error",
  driver: "initialization error",
  "bad-ldcache": "initialization error",
  mount: "mount error",
  sys: "mount error",
  cgroup: "mount error",
};

/** The one error class of nvct: a stable code, a message that quotes the input, and the cause. */
export class NvctError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly cause?: unknown,
  ) {
    super(message);
    this.name = "NvctError";
  }
}

/** Any thrown value as an NvctError: a bug becomes `internal`, its message kept, no stack. */
export function asNvctError(e: unknown): NvctError {
  if (e instanceof NvctError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new NvctError("internal", `internal error: ${msg || (e as Error)?.name || "unknown"}`, e);
}

/** The message with libnvidia-container's class in front ("device error: unknown device `7`"). */
export function classified(e: NvctError): string {
  const cls = ERROR_CLASS[e.code];
  return cls && !e.message.startsWith(cls) ? `${cls}: ${e.message}` : e.message;
}

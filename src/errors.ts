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

/** The longest quoted input a message repeats whole, and the longest message. */
const MAX_QUOTE = 200;
const MAX_MESSAGE = 2000;
const LONG_QUOTE = new RegExp(`\`([^\`]{${MAX_QUOTE + 1},})\``, "g");

/**
 * A message as one readable line, whatever input it quotes: control characters (a newline or NUL
 * in a variable, say) escaped, a long quoted input cut in the middle with its length said, the
 * whole bounded.
 */
export function oneLine(message: string): string {
  let m = message.replace(/[\x00-\x1f\x7f]/g, (c) => (c === "\n" ? "\\n" : c === "\t" ? "\\t" : c === "\r" ? "\\r" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
  m = m.replace(LONG_QUOTE, (_all, q: string) => `\`${q.slice(0, MAX_QUOTE / 2)}...${q.slice(-MAX_QUOTE / 4)}\` (${q.length} characters)`);
  return m.length > MAX_MESSAGE ? `${m.slice(0, MAX_MESSAGE)}... (${m.length} characters)` : m;
}

/** The one error class of nvct: a stable code, a message that quotes the input, and the cause. */
export class NvctError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly cause?: unknown,
  ) {
    super(oneLine(message));
    this.name = "NvctError";
  }
}

/** Any thrown value as an NvctError: a bug becomes `internal`, its message kept, no stack. */
export function asNvctError(e: unknown): NvctError {
  if (e instanceof NvctError) return e;
  // A trap of the core (out of memory on an absurd input, or a bug): said in the user's terms.
  if (e instanceof WebAssembly.RuntimeError) return new NvctError("internal", "internal error: the decision core could not decide on this input", e);
  // JavaScriptCore appends the failing source text ("(In 'x.y(z)', ...)"): not for the user.
  const msg = (e instanceof Error ? e.message : String(e)).replace(/\s*\(In '[\s\S]*$/, "");
  return new NvctError("internal", `internal error: ${msg || (e as Error)?.name || "unknown"}`, e);
}

/** The message with libnvidia-container's class in front ("device error: unknown device `7`"). */
export function classified(e: NvctError): string {
  const cls = ERROR_CLASS[e.code];
  return cls && !e.message.startsWith(cls) ? `${cls}: ${e.message}` : e.message;
}

// Logs as data: consola records, written by a reporter to the --debug file; with no file, a logger
// that drops records without loading consola (every module loaded costs a container's start).
import type { LogObject } from "consola/core";
import { appendLog } from "./files";

/** What tools log through: a message and data. */
export interface Logger {
  debug(...args: unknown[]): void;
  info(...args: unknown[]): void;
  warn(...args: unknown[]): void;
  error(...args: unknown[]): void;
}

const DROP: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * libnvidia-container's debug log form (glog's): `I1130 06:12:24.123456 4242 tool] message`, its
 * level letter I, W or E, the local time to the microsecond, the pid; the first record of a
 * process is preceded by libnvidia-container's warning banner.
 */
export function glogLine(type: string, at: number, pid: number, tool: string, msg: string): string {
  const d = new Date(Math.floor(at));
  const p = (n: number, w = 2) => String(n).padStart(w, "0");
  const letter = type === "error" || type === "fatal" ? "E" : type === "warn" ? "W" : "I";
  const micros = p(Math.floor((at % 1000) * 1000), 6);
  return `${letter}${p(d.getMonth() + 1)}${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${micros} ${pid} ${tool}] ${msg}\n`;
}

export const BANNER = "\n-- WARNING, the following logs are for debugging purposes only --\n\n";

/** A logger that appends one line per record to `file`, or drops records when file is unset. */
export function fileLogger(tool: string, file?: string): Logger {
  if (!file) return DROP;
  const { createConsola } = require("consola/core") as typeof import("consola/core");
  let first = true;
  const reporter = {
    log(o: LogObject) {
      const args = o.args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
      appendLog(file, (first ? BANNER : "") + glogLine(o.type, performance.timeOrigin + performance.now(), process.pid, tool, args));
      first = false;
    },
  };
  return createConsola({ level: 5, reporters: [reporter], defaults: { tag: tool } });
}

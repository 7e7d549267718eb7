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

/** A logger that appends one line per record to `file`, or drops records when file is unset. */
export function fileLogger(tool: string, file?: string): Logger {
  if (!file) return DROP;
  const { createConsola } = require("consola/core") as typeof import("consola/core");
  const reporter = {
    log(o: LogObject) {
      const args = o.args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
      appendLog(file, `${o.date.toISOString()} ${tool} ${o.type.toUpperCase()} ${args}\n`);
    },
  };
  return createConsola({ level: 5, reporters: [reporter], defaults: { tag: tool } });
}

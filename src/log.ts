// Logs as data: consola records, written by a reporter to the --debug file (none by default).
import { createConsola, type ConsolaInstance, type LogObject } from "consola/core";
import { appendFileSync } from "node:fs";

/** A logger that appends one line per record to `file`, or drops records when file is unset. */
export function fileLogger(tool: string, file?: string): ConsolaInstance {
  const reporters = file
    ? [
        {
          log(o: LogObject) {
            const args = o.args.map((a) => (typeof a === "string" ? a : JSON.stringify(a))).join(" ");
            appendFileSync(file, `${o.date.toISOString()} ${tool} ${o.type.toUpperCase()} ${args}\n`);
          },
        },
      ]
    : [];
  return createConsola({ level: file ? 5 : 0, reporters, defaults: { tag: tool } });
}

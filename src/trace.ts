// Phase marks for profiling the hook's start: `NVCT_TRACE=1` prints them to stderr at exit,
// `NVCT_TRACE=/path` appends them to that file (a hook's stderr is unseen when it succeeds).
import { fs } from "./files";
const marks: [string, number][] = [];

export function mark(name: string): void {
  marks.push([name, performance.now()]);
}

/** The phases so far, each with its time: `config 0.41 ms, spec 0.22 ms, ...` (for the debug log). */
export function phases(): string {
  let prev = 0;
  return marks
    .map(([n, t]) => {
      const step = `${n} ${(t - prev).toFixed(2)} ms`;
      prev = t;
      return step;
    })
    .join(", ");
}

/** Writes the marks so far (to NVCT_TRACE's file, or through `write`), once: they are then gone. */
export function dumpTrace(env: Record<string, string | undefined>, write: (s: string) => void): void {
  if (!env.NVCT_TRACE || marks.length === 0) return;
  let prev = 0;
  const lines = marks.map(([n, t]) => {
    const line = `${n.padEnd(24)} ${t.toFixed(2)} ms  +${(t - prev).toFixed(2)}`;
    prev = t;
    return line;
  });
  const text = lines.join("\n") + "\n\n";
  marks.length = 0;
  if (env.NVCT_TRACE.startsWith("/")) fs().appendFileSync(env.NVCT_TRACE, text);
  else write(text);
}

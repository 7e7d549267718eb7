// Files nvct writes for others to read (specs, engine configs, config.json) appear whole or not
// at all: a temp file beside the target, then rename. A failure leaves the old file as it was.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NvctError } from "./errors";

export function writeAtomic(file: string, text: string, code = "config"): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = join(dirname(file), `.${basename(file)}.nvct-${process.pid}`);
  try {
    writeFileSync(tmp, text, { mode: 0o644 });
    renameSync(tmp, file);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw new NvctError(code, `failed to write \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
}

// The CDI specs of the spec directories, read and parsed. A broken spec (another vendor's,
// perhaps) is skipped and reported, as CDI's own cache does: it must not stop every other
// device from resolving. Never blocks on a FIFO, never follows a link loop.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fromFile } from "../cdi/spec";
import { readRegularText } from "../files";
import type { CdiSpecFile } from "../core";

const MAX_SPEC = 16 << 20;

/** Every spec in the directories, in order (a later one wins for the same device). */
export function loadSpecs(dirs: string[], skipped?: (why: string) => void): CdiSpecFile[] {
  const out: CdiSpecFile[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = readdirSync(dir).sort();
    } catch {
      continue; // a missing spec directory holds no specs
    }
    for (const n of names) {
      if (!/\.(json|ya?ml)$/.test(n)) continue;
      const file = join(dir, n);
      try {
        const text = readRegularText(file, MAX_SPEC);
        out.push({ file, spec: fromFile(n.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text)) });
      } catch (e) {
        skipped?.(`invalid CDI spec \`${file}\` skipped: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
    }
  }
  return out;
}

// The CDI specs of the spec directories, read and parsed. A broken spec (another vendor's,
// perhaps) is skipped and reported, as CDI's own cache does: it must not stop every other
// device from resolving. Never blocks on a FIFO, never follows a link loop.
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { fromFile } from "../cdi/spec";
import { readRegularText } from "../files";
import type { CdiSpecFile } from "../core";

const MAX_SPEC = 16 << 20;

/** A spec file of a spec directory: its parsed content, or why it could not be read or parsed. */
export interface RawSpec {
  file: string;
  raw?: unknown;
  error?: string;
}

/** Every spec file (`*.json`, `*.yaml`, `*.yml`) of the directories, in order, parsed as JSON or YAML. */
export function readSpecFiles(dirs: string[]): RawSpec[] {
  const out: RawSpec[] = [];
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
        out.push({ file, raw: n.endsWith(".json") ? JSON.parse(text) : Bun.YAML.parse(text) });
      } catch (e) {
        out.push({ file, error: (e as NodeJS.ErrnoException).code ?? (e as Error).message });
      }
    }
  }
  return out;
}

/** Every spec in the directories, in order (a later one wins for the same device). */
export function loadSpecs(dirs: string[], skipped?: (why: string) => void): CdiSpecFile[] {
  const out: CdiSpecFile[] = [];
  for (const { file, raw, error } of readSpecFiles(dirs)) {
    try {
      if (error !== undefined) throw Object.assign(new Error(error), { code: error });
      out.push({ file, spec: fromFile(raw) });
    } catch (e) {
      skipped?.(`invalid CDI spec \`${file}\` skipped: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  }
  return out;
}

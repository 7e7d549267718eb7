// Golden files: a generated text compared with the committed one. UPDATE_GOLDEN=1 rewrites the
// file and then fails, so that a rewrite is never counted as a pass: review the diff, run again.
import { expect } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";

export function expectGolden(file: string, got: string, name = file): void {
  if (process.env.UPDATE_GOLDEN === "1") {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, got);
    throw new Error(`golden file ${name} rewritten (UPDATE_GOLDEN=1): review the diff, then run again without it`);
  }
  if (!existsSync(file)) throw new Error(`golden file ${name} is missing (UPDATE_GOLDEN=1 writes it)`);
  expect(got).toBe(readFileSync(file, "utf8"));
}

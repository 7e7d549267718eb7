// Shared by the tests that run nvct in a fake host: build a fake driver, run a command in it.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFakeDriver, type Scenario } from "./fake/driver";

export const TOP = join(import.meta.dir, "..");
export const NVCT = join(TOP, "dist/nvct");
export const BIN = join(TOP, "dist/bin");
export const FAKEHOST = join(TOP, "scripts/fakehost.sh");

if (!existsSync(NVCT)) throw new Error("dist/nvct is missing: run `npm run build` first");

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs argv inside the fake host of `fake` (driver laid over the host, or under /run/nvidia/driver). */
export function inFakeHost(fake: string, argv: string[], opts: { driverRoot?: boolean; env?: Record<string, string> } = {}): Run {
  const args = [...(opts.driverRoot ? ["--driver-root"] : []), fake, "--", ...argv];
  const r = spawnSync(FAKEHOST, args, { encoding: "utf8", env: { ...process.env, ...opts.env }, timeout: 60_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary fake driver for a scenario; remove() deletes it. */
export function fakeDriver(s: Scenario, label = "fake"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `nvct-${label}-`));
  buildFakeDriver(dir, s);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

// The one set-up of the tests that run nvct against a fake driver: a work directory and the fake
// drivers of a test file (built before its tests, removed after), bundles of real runc
// containers, and the runs themselves inside the fake host, with the host's state taken inside
// that same mount namespace before and after (a mount made there is invisible from outside).
import { afterAll, beforeAll } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRootfs, parseReport, REPORT, writeBundle, type BundleOptions, type Report } from "./e2e/bundle";
import { buildFakeDriver, cleanCompiledLibraries, type Scenario } from "./fake/driver";

import { BIN, FAKEHOST, NVCT, TOP } from "./paths";

export { BIN, FAKEHOST, NVCT, TOP };
const SNAPSHOT = join(import.meta.dir, "e2e/snapshot.sh");

if (!existsSync(NVCT)) throw new Error("dist/nvct is missing: run `npm run build` first");

export interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs argv inside the fake host of `fake` (driver laid over the host, or under /run/nvidia/driver). */
export function inFakeHost(fake: string, argv: string[], opts: { driverRoot?: boolean; cgroup2?: boolean; env?: Record<string, string>; input?: string; timeout?: number } = {}): Run {
  const args = [...(opts.driverRoot ? ["--driver-root"] : []), ...(opts.cgroup2 ? ["--cgroup2"] : []), fake, "--", ...argv];
  const r = spawnSync(FAKEHOST, args, { encoding: "utf8", env: { ...process.env, ...opts.env }, timeout: opts.timeout ?? 60_000, input: opts.input });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** A temporary fake driver for a scenario; remove() deletes it. */
export function fakeDriver(s: Scenario, label = "fake"): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), `nvct-${label}-`));
  buildFakeDriver(dir, s);
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ContainerRun extends Run {
  report: Report;
  /** The host's state inside the fake host before and after, when paths were watched. */
  host?: { before: string; after: string };
}

export interface RunOptions {
  /** Which fake driver (a name given to scene(); default the first). */
  fake?: string;
  driverRoot?: boolean;
  /** The fake host mounts the unified hierarchy on /sys/fs/cgroup: runc uses cgroup v2. */
  cgroup2?: boolean;
  /** Host paths whose contents (and the mount table, /dev, the ld cache) must not change. */
  watch?: string[];
}

export class Scene {
  work = "";
  private drivers = new Map<string, string>();
  private seq = 0;

  constructor(
    private label: string,
    private scenarios: Record<string, Scenario>,
  ) {}

  setUp(): void {
    this.work = mkdtempSync(join(tmpdir(), `nvct-${this.label}-`));
    for (const [name, s] of Object.entries(this.scenarios)) {
      const dir = join(this.work, `driver-${name}`);
      mkdirSync(dir);
      buildFakeDriver(dir, s);
      this.drivers.set(name, dir);
    }
  }

  tearDown(): void {
    if (this.work) rmSync(this.work, { recursive: true, force: true });
    cleanCompiledLibraries();
  }

  /** A fake driver's directory. */
  driver(name?: string): string {
    const d = this.drivers.get(name ?? [...this.drivers.keys()][0]);
    if (!d) throw new Error(`no fake driver \`${name}\``);
    return d;
  }

  /** A fresh directory in the work directory. */
  dir(prefix = "d"): string {
    const d = join(this.work, `${prefix}${++this.seq}`);
    mkdirSync(d);
    return d;
  }

  /** A bundle: a rootfs (Debian-style unless debian is false) and config.json. */
  bundle(o: Partial<BundleOptions> & { debian?: boolean; prepare?: (rootfs: string, dir: string) => void } = {}): string {
    const dir = this.dir("c");
    const rootfs = makeRootfs(dir, { debian: o.debian !== false });
    o.prepare?.(rootfs, dir);
    writeBundle(dir, { script: REPORT, ...o });
    return dir;
  }

  /** `runc run` of the bundle inside the fake host; runc's state lives in the bundle. */
  run(bundle: string, o: RunOptions = {}): ContainerRun {
    const id = `nvct-e2e-${process.pid}-${++this.seq}`;
    const runc = ["runc", "--root", join(bundle, "runc-state"), "run", "--bundle", bundle, id];
    const snap = join(bundle, "host");
    const argv = o.watch ? [SNAPSHOT, snap, ...o.watch, "--", ...runc] : runc;
    const r = inFakeHost(this.driver(o.fake), argv, { driverRoot: o.driverRoot, cgroup2: o.cgroup2 });
    const out: ContainerRun = { ...r, report: parseReport(r.stdout) };
    if (o.watch) out.host = { before: readFileSync(`${snap}.before`, "utf8"), after: readFileSync(`${snap}.after`, "utf8") };
    return out;
  }

  /** A bundle made and run. */
  container(o: Partial<BundleOptions> & { debian?: boolean; prepare?: (rootfs: string, dir: string) => void } & RunOptions = {}): ContainerRun {
    return this.run(this.bundle(o), o);
  }

  /** A file in the work directory. */
  file(name: string, text: string): string {
    const f = join(this.work, name);
    writeFileSync(f, text);
    return f;
  }
}

/** The scene of a test file: set up before its tests, removed after. */
export function scene(label: string, scenarios: Record<string, Scenario>): Scene {
  const s = new Scene(label, scenarios);
  beforeAll(() => s.setUp(), 240_000);
  afterAll(() => s.tearDown());
  return s;
}

// The benchmark: what nvct adds to a container's start, beside a floor and baselines measured in
// the same run (on a VM, milliseconds from different runs do not compare; ratios of one run do).
//
//   hook         `runc run` of a busybox bundle in the fake host, for each GPU count: no hook,
//                /bin/true, the floor (an empty compiled Bun program that reads its stdin, built
//                here with dist/nvct's flags), nvct's hook asked for all GPUs, nvct's hook in a
//                container that asks for none, and --compare's hook. Each hook's own wall time and
//                peak RSS come from scripts/timehook.c in separate interleaved runs, so that the
//                wrapper's cost stays out of the start times.
//   runtime      a container through a runtime as docker and containerd drive one (create through
//                it, then runc start, wait, runc delete), at the largest GPU count: plain runc,
//                nvct's nvidia-container-runtime in legacy and cdi modes, --compare-runtime's.
//   passthrough  commands the runtime hands to runc (--version, state, delete): cold processes,
//                against runc's own and the floor binary.
//
// Within a table the cases are interleaved, in a new order each round (a heavy case slows the one
// after it: with a fixed order, one case would always pay for it); warm-up rounds are not counted. Prints markdown tables and a budget check (DESIGN.md, Budget) and writes bench.md and
// bench.svg to --out. Leaves nothing behind but --out.
//
//   bun scripts/bench.ts [--runs N] [--gpus 1,4,8] [--quick] [--only hook|runtime|passthrough]
//       [--compare 'CMD ARGS'] [--compare-label NAME] [--compare-runtime PATH] [--out DIR]
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { closeSync, existsSync, fstatSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { makeRootfs, writeBundle } from "../test/e2e/bundle";
import { buildFakeDriver, cleanCompiledLibraries, withGpus } from "../test/fake/driver";
import { render, type Row, type Section } from "./bench-report";

/** One thing timed. `run`: runc run BUNDLE. `create`: RUNTIME create BUNDLE, runc start, wait,
 * runc delete, timed as a whole. `exec`: a cold process; with a bundle, `{id}` in argv names a
 * stopped container made from it beforehand (untimed). */
interface Case {
  name: string;
  kind: "run" | "create" | "exec";
  bundle?: string;
  runtime?: string;
  argv?: string[];
  env?: Record<string, string>;
  /** timehook's log: this run only measures the hook it wraps; `name` is the case it times. */
  timing?: string;
  /** Someone else's tool: a container without the devices it should have is noted, not fatal. */
  foreign?: boolean;
}

/** What a container prints (to the runtimes' stderr file) when it did not get what its case
 * promises: a benchmark of a hook that silently does nothing would measure nothing. */
const UNEXPECTED = "nvct-bench: unexpected devices";
function script(expect: "gpus" | "none" | "any", gpus: number): string {
  if (expect === "gpus") return `test -e /dev/nvidia${gpus - 1} -a -e /dev/nvidiactl || echo "${UNEXPECTED}" >&2`;
  if (expect === "none") return `test ! -e /dev/nvidiactl || echo "${UNEXPECTED}" >&2`;
  return "true";
}

interface Plan {
  cases: Case[];
  runs: number;
  warmup: number;
  state: string;
  err: string;
}

// ---------------------------------------------------------------------------------------------
// Inner mode: runs the plan (in the fake host when GPUs matter) and prints each case's times.
if (process.argv[2] === "--inner") {
  const plan = JSON.parse(readFileSync(process.argv[3], "utf8")) as Plan;
  // Everything the runtimes and containers print goes to one file: a pipe would be held open by
  // a created container until it exits, and spawnSync would wait for it.
  const errFd = openSync(plan.err, "a");
  const stdio: ["ignore", "ignore", number] = ["ignore", "ignore", errFd];
  // A container left created would wait on runc's exec fifo forever: whatever stops this run
  // (a failure, ^C) removes the one in flight first.
  let current = "";
  const fail = (msg: string): never => {
    if (current) spawnSync("runc", ["--root", plan.state, "delete", "--force", current], { stdio: "ignore" });
    process.stderr.write(msg);
    process.exit(1);
  };
  for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => fail(`bench: ${sig}\n`));
  const must = (r: SpawnSyncReturns<Buffer>, what: string) => {
    if (r.status !== 0) fail(`bench: ${what} failed (${r.status ?? r.signal ?? r.error}):\n${readFileSync(plan.err, "utf8").slice(-3000)}\n`);
  };
  const runc = (args: string[], what: string) => must(spawnSync("runc", ["--root", plan.state, ...args], { stdio }), what);

  // Waits for the container's process to end by reading procfs in-process: polling `runc state`
  // would add a process per poll, and `runc delete --force` of a live container sleeps 100 ms.
  // The process exits at once (a shell builtin or two), and this wait, `runc start` and
  // `runc delete` are the same in every case, so the cases differ only by their `create`.
  const waitStopped = (id: string) => {
    const s = JSON.parse(readFileSync(join(plan.state, id, "state.json"), "utf8"));
    const deadline = performance.now() + 10_000;
    for (;;) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${s.init_process_pid}/stat`, "utf8");
      } catch {
        return;
      }
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (f[0] === "Z" || f[0] === "X" || f[19] !== String(s.init_process_start)) return;
      if (performance.now() > deadline) fail(`bench: container ${id} did not stop\n`);
      Bun.sleepSync(0.1);
    }
  };
  const container = (runtime: string, c: Case, id: string) => {
    must(spawnSync(runtime, ["--root", plan.state, "create", "--bundle", c.bundle!, id], { stdio, env: { ...process.env, ...c.env } }), `${c.name}: create`);
    runc(["start", id], `${c.name}: start`);
    waitStopped(id);
  };

  // The runtimes rewrite config.json on create: every run starts from the same one.
  const pristine = plan.cases.map((c) => (c.kind === "create" ? readFileSync(join(c.bundle!, "config.json"), "utf8") : ""));
  const once = (c: Case, i: number, id: string): number => {
    if (c.kind === "run") {
      const t0 = performance.now();
      runc(["run", "--bundle", c.bundle!, id], c.name);
      return performance.now() - t0;
    }
    if (c.kind === "create") {
      writeFileSync(join(c.bundle!, "config.json"), pristine[i]);
      const t0 = performance.now();
      container(c.runtime!, c, id);
      runc(["delete", id], `${c.name}: delete`);
      return performance.now() - t0;
    }
    if (c.bundle) container("runc", c, id);
    const argv = c.argv!.map((a) => (a === "{id}" ? id : a));
    const t0 = performance.now();
    must(spawnSync(argv[0], argv.slice(1), { stdio, env: { ...process.env, ...c.env } }), c.name);
    const ms = performance.now() - t0;
    if (c.bundle) spawnSync("runc", ["--root", plan.state, "delete", "--force", id], { stdio });
    return ms;
  };

  const times: number[][] = plan.cases.map(() => []);
  const unexpected: number[] = plan.cases.map(() => 0);
  let seq = 0;
  // mulberry32 with a fixed seed: the same orders in every run of the benchmark.
  let seed = 0x9e3779b9;
  const random = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  for (let round = -plan.warmup; round < plan.runs; round++) {
    const order = plan.cases.map((_, i) => i);
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1));
      [order[k], order[j]] = [order[j], order[k]];
    }
    for (const i of order) {
      const mark = fstatSync(errFd).size;
      current = `nvct-bench-${process.pid}-${++seq}`;
      const ms = once(plan.cases[i], i, current);
      current = "";
      if (round >= 0) times[i].push(ms);
      if (fstatSync(errFd).size > mark && readFileSync(plan.err).subarray(mark).toString().includes(UNEXPECTED)) unexpected[i]++;
      // Signals are handled between runs only, when no container exists: let them in.
      await new Promise((r) => setImmediate(r));
    }
  }
  closeSync(errFd);
  process.stdout.write(JSON.stringify({ times, unexpected }));
  process.exit(0);
}

// ---------------------------------------------------------------------------------------------
// Options.
const top = join(import.meta.dir, "..");
const BIN = join(top, "dist/bin");
const HOOK = join(BIN, "nvidia-container-runtime-hook");
const RUNTIME = join(BIN, "nvidia-container-runtime");
const FAKEHOST = join(top, "scripts/fakehost.sh");
const SECTIONS: Section[] = ["hook", "runtime", "passthrough"];

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
function usage(msg: string): never {
  process.stderr.write(`bench: ${msg}\nusage: bun scripts/bench.ts [--runs N] [--gpus 1,4,8] [--quick] [--only ${SECTIONS.join("|")}] [--compare 'CMD ARGS'] [--compare-label NAME] [--compare-runtime PATH] [--out DIR]\n`);
  process.exit(2);
}
const quick = process.argv.includes("--quick");
const runs = Number(arg("runs", quick ? "3" : "20"));
const warmup = quick ? 1 : 2;
const gpuCounts = arg("gpus", quick ? "1,8" : "1,4,8").split(",").map(Number);
const maxGpus = Math.max(...gpuCounts);
const only = arg("only", "");
const compare = arg("compare", "").trim().split(/\s+/).filter(Boolean);
const compareLabel = arg("compare-label", "compared hook");
const compareRuntime = arg("compare-runtime", "") && resolve(arg("compare-runtime", ""));
const out = resolve(arg("out", join(top, "bench-out")));
if (!Number.isInteger(runs) || runs < 1) usage("--runs wants a positive integer");
if (!gpuCounts.every((n) => Number.isInteger(n) && n >= 1 && n <= 8)) usage("--gpus wants counts from 1 to 8, comma-separated");
if (only && !SECTIONS.includes(only as Section)) usage(`--only wants one of ${SECTIONS.join(", ")}`);
if (compareRuntime && !existsSync(compareRuntime)) usage(`--compare-runtime: ${compareRuntime} does not exist`);
if (!existsSync(join(top, "dist/nvct"))) usage("dist/nvct is missing: run `npm run build` first");
const sections = only ? [only as Section] : SECTIONS;

function sh(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { encoding: "utf8", ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------------------------
// The work directory: the tools, fake drivers, bundles and runc's state; removed at the end.
const work = mkdtempSync(join(tmpdir(), "nvct-bench-"));
const cleanup = () => {
  rmSync(work, { recursive: true, force: true });
  cleanCompiledLibraries();
};
for (const sig of ["SIGINT", "SIGTERM"] as const) process.on(sig, () => (cleanup(), process.exit(130)));

const rows: Row[] = [];
const notes: string[] = [];
try {
  const timehook = join(work, "timehook");
  sh("gcc", ["-O2", "-o", timehook, join(import.meta.dir, "timehook.c")]);

  // The floor: what any compiled Bun hook costs before its first line of its own. Built with the
  // same bun and the flags build/build.ts gives dist/nvct, so that the difference is nvct's code.
  const FLOOR_FLAGS = ["--bytecode", "--format=esm", "--minify", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "--compile-jit-policy=100"];
  const buildTs = readFileSync(join(top, "build/build.ts"), "utf8");
  for (const f of FLOOR_FLAGS) if (!buildTs.includes(`"${f}"`)) notes.push(`build/build.ts no longer passes ${f}: the floor may not match dist/nvct`);
  const floor = join(work, "floor");
  writeFileSync(join(work, "floor.ts"), 'import { readFileSync } from "node:fs";\nreadFileSync(0);\n');
  sh(join(top, "node_modules/.bin/bun"), ["build", "--compile", ...FLOOR_FLAGS, "floor.ts", "--outfile", floor], { cwd: work });

  const fakes = new Map<number, string>();
  const fake = (n: number) => {
    if (!fakes.has(n)) fakes.set(n, buildFakeDriver(join(work, `fake${n}`), withGpus(n)));
    return fakes.get(n)!;
  };
  let bundles = 0;
  const bundle = (env: string[], hook: string[] | null, expect: "gpus" | "none" | "any" = "any", gpus = 0): string => {
    const dir = join(work, `bundle${++bundles}`);
    mkdirSync(dir);
    makeRootfs(dir, { debian: true });
    writeBundle(dir, { env, script: script(expect, gpus), hook: hook && { path: hook[0], args: hook } });
    return dir;
  };
  const file = (name: string, text: string) => (writeFileSync(join(work, name), text), join(work, name));

  let plans = 0;
  /** Runs the cases interleaved (in the fake host of `fakeDir` if given); each case's times. */
  const measure = (what: string, cases: Case[], fakeDir?: string): number[][] => {
    process.stderr.write(`bench: ${what}: ${cases.length} cases, ${warmup} + ${runs} rounds\n`);
    const plan = file(`plan${++plans}.json`, JSON.stringify({ cases, runs, warmup, state: join(work, "runc-state"), err: join(work, "inner.err") } satisfies Plan));
    const inner = [process.execPath, import.meta.path, "--inner", plan];
    const r = fakeDir
      ? spawnSync(FAKEHOST, [fakeDir, "--", ...inner], { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 })
      : spawnSync(inner[0], inner.slice(1), { encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`bench: ${what} failed (see above)`);
    const { times, unexpected } = JSON.parse(r.stdout) as { times: number[][]; unexpected: number[] };
    cases.forEach((c, i) => {
      if (!unexpected[i]) return;
      const msg = `${what}: ${c.name}: the container did not see the devices it asked for in ${unexpected[i]} of ${warmup + runs} runs`;
      if (!c.foreign) throw new Error(`bench: ${msg}`);
      if (!c.timing) notes.push(msg);
    });
    return times;
  };
  const stats = (xs: number[]) => {
    const s = [...xs].sort((a, b) => a - b);
    const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    return { median, p95: s[Math.ceil(0.95 * s.length) - 1] };
  };
  /** Rows for the untimed cases, against the case named `base`, with their hooks' timings. */
  const summarise = (section: Section, gpus: number | undefined, cases: Case[], times: number[][], base: (c: Case) => string) => {
    const byName = new Map(cases.map((c, i) => [c.timing ? `${c.name} (timed)` : c.name, stats(times[i])]));
    for (const c of cases) {
      if (c.timing) continue;
      const s = byName.get(c.name)!;
      const b = byName.get(base(c));
      const row: Row = { section, gpus, name: c.name, ...s, added: b && s.median - b.median, ratio: b && s.median / b.median };
      const timed = cases.find((t) => t.timing && t.name === c.name);
      if (timed) {
        const lines = readFileSync(timed.timing!, "utf8").trim().split("\n").slice(-runs).map((l) => l.split(" ").map(Number));
        const wall = stats(lines.map((l) => l[0] / 1000));
        Object.assign(row, { hookMedian: wall.median, hookP95: wall.p95, rssMiB: Math.max(...lines.map((l) => l[1] / 1024)) });
      }
      rows.push(row);
    }
  };

  // --- hook: runc run, per GPU count.
  const GPU_ENV = ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"];
  // An empty config file: the hook measures its defaults, whatever this machine's /etc holds.
  const nvctHook = [HOOK, "-config", file("empty.toml", ""), "prestart"];
  // The decision cache off: every container gathers the driver's facts and runs the core.
  const nvctCold = [HOOK, "-config", file("nocache.toml", '[nvct]\ncache-dir = ""\n'), "prestart"];
  if (sections.includes("hook")) {
    for (const n of gpuCounts) {
      const hooks: [string, string[] | null, string[], "gpus" | "none" | "any"][] = [
        ["plain runc", null, GPU_ENV, "any"],
        ["/bin/true as the hook", ["/bin/true"], GPU_ENV, "any"],
        ["floor (empty compiled Bun hook)", [floor], GPU_ENV, "any"],
        ["nvct hook", nvctHook, GPU_ENV, "gpus"],
        ["nvct hook, decision cache off", nvctCold, GPU_ENV, "gpus"],
        ["nvct hook, no GPU requested", nvctHook, [], "none"],
      ];
      if (compare.length) hooks.push([compareLabel, compare, GPU_ENV, "gpus"]);
      const cases: Case[] = [];
      for (const [name, hook, env, expect] of hooks) {
        const foreign = name === compareLabel;
        cases.push({ name, kind: "run", bundle: bundle(env, hook, expect, n), foreign });
        if (!hook) continue;
        const timing = join(work, `timing${cases.length}-${n}`);
        cases.push({ name, kind: "run", bundle: bundle(env, [timehook, timing, ...hook], expect, n), timing, foreign });
      }
      summarise("hook", n, cases, measure(`hook, ${n} GPU(s)`, cases, fake(n)), () => "plain runc");
    }
  }

  // --- runtime and passthrough: the runtimes' configs, given through NVIDIA_CTK_CONFIG_FILE_PATH
  // and, for a toolkit older than 1.14 (which reads only $XDG_CONFIG_HOME's), as
  // $XDG_CONFIG_HOME/nvidia-container-runtime/config.toml too.
  const toml = (s: string) => JSON.stringify(s);
  const configEnv = (config: string) => ({ NVIDIA_CTK_CONFIG_FILE_PATH: config, XDG_CONFIG_HOME: dirname(dirname(config)) });
  const runtimeConfig = (name: string, text: string) => {
    mkdirSync(join(work, name, "nvidia-container-runtime"), { recursive: true });
    return file(join(name, "nvidia-container-runtime", "config.toml"), text);
  };
  const legacyConfig = (hook: string) => `[nvidia-container-runtime]\nmode = "legacy"\n[nvidia-container-runtime-hook]\npath = ${toml(hook)}\n`;
  const cdiConfig = (dir: string) => `[nvidia-container-runtime]\nmode = "cdi"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = [${toml(dir)}]\n`;
  const runtimes: { label: string; tool: string; path: string; legacy: string; cdi?: string }[] = [
    { label: "nvct runtime", tool: "nvidia-container-runtime", path: RUNTIME, legacy: runtimeConfig("nvct-legacy", legacyConfig(HOOK)) },
  ];
  // The compared runtime gets its own hook and CDI spec when its package's tools sit beside it;
  // otherwise nvct's, which the notes say.
  const beside = (name: string) => [join(dirname(compareRuntime), name)].find(existsSync);
  if (compareRuntime) {
    const hook = beside("nvidia-container-runtime-hook");
    if (!hook && sections.includes("runtime")) notes.push("compared runtime, legacy: no nvidia-container-runtime-hook beside it; nvct's hook is used");
    runtimes.push({ label: "compared runtime", tool: "compared runtime", path: compareRuntime, legacy: runtimeConfig("cmp-legacy", legacyConfig(hook ?? HOOK)) });
  }

  if (sections.includes("runtime")) {
    const specDir = join(work, "cdi");
    sh(FAKEHOST, [fake(maxGpus), "--", join(BIN, "nvidia-ctk"), "cdi", "generate", "--output", join(specDir, "nvidia.yaml"), "--nvidia-cdi-hook-path", join(BIN, "nvidia-cdi-hook")]);
    runtimes[0].cdi = runtimeConfig("nvct-cdi", cdiConfig(specDir));
    if (compareRuntime) {
      const [ctk, cdiHook] = [beside("nvidia-ctk"), beside("nvidia-cdi-hook")];
      let dir = specDir;
      if (ctk) {
        dir = join(work, "cdi-compared");
        sh(FAKEHOST, [fake(maxGpus), "--", ctk, "cdi", "generate", "--output", join(dir, "nvidia.yaml"), ...(cdiHook ? ["--nvidia-cdi-hook-path", cdiHook] : ["--nvidia-ctk-path", ctk])]);
      } else notes.push("compared runtime, cdi: no nvidia-ctk beside it; the CDI spec nvct generated (and its hooks) is used");
      runtimes[1].cdi = runtimeConfig("cmp-cdi", cdiConfig(dir));
    }
    const cases: Case[] = [{ name: "plain runc (runc create)", kind: "create", runtime: "runc", bundle: bundle(GPU_ENV, null) }];
    for (const rt of runtimes)
      for (const mode of ["legacy", "cdi"] as const) {
        const b = bundle(GPU_ENV, null, "gpus", maxGpus);
        cases.push({ name: `${rt.label}, ${mode}`, kind: "create", runtime: rt.path, bundle: b, env: configEnv(rt[mode]!), foreign: rt.path !== RUNTIME });
      }
    summarise("runtime", maxGpus, cases, measure(`runtime, ${maxGpus} GPU(s)`, cases, fake(maxGpus)), () => "plain runc (runc create)");
  }

  if (sections.includes("passthrough")) {
    // No driver is involved: these run on the machine as it is, outside the fake host.
    const state = join(work, "runc-state");
    const stopped = bundle([], null);
    const commands: [string, string[], boolean][] = [
      ["--version", ["--version"], false],
      ["state", ["--root", state, "state", "{id}"], true],
      ["delete", ["--root", state, "delete", "{id}"], true],
    ];
    const cases: Case[] = [{ name: "floor (empty compiled Bun program)", kind: "exec", argv: [floor] }];
    for (const [cmd, args, needsContainer] of commands) {
      const b = needsContainer ? stopped : undefined;
      cases.push({ name: `runc ${cmd}`, kind: "exec", argv: ["runc", ...args], bundle: b });
      for (const rt of runtimes)
        cases.push({ name: `${rt.tool} ${cmd}`, kind: "exec", argv: [rt.path, ...args], bundle: b, env: configEnv(rt.legacy) });
    }
    summarise("passthrough", undefined, cases, measure("passthrough", cases), (c) => (c.argv![0] === floor ? "" : `runc ${c.name.split(" ").pop()}`));
  }
} catch (e) {
  cleanup();
  process.stderr.write(`${(e as Error).message}\n`);
  process.exit(1);
}
cleanup();

// ---------------------------------------------------------------------------------------------
// The budget check (DESIGN.md, Budget): medians of this run, at the largest GPU count.
const find = (section: Section, name: string, gpus?: number) => rows.find((r) => r.section === section && r.name === name && (gpus === undefined || r.gpus === gpus));
const budget: string[] = [];
const check = (ok: boolean, text: string) => budget.push(`${ok ? "PASS" : "MISS"}  ${text}`);
const ms = (x: number) => `${x.toFixed(1)} ms`;
if (sections.includes("hook")) {
  const nvct = find("hook", "nvct hook", maxGpus)!;
  const noGpu = find("hook", "nvct hook, no GPU requested", maxGpus)!;
  const floor = find("hook", "floor (empty compiled Bun hook)", maxGpus)!;
  // The hooks' own wall times vary far less than a container's start: shown beside, for judging.
  const own = (r: Row) => ` (own wall ${ms(r.hookMedian!)} vs the floor's ${ms(floor.hookMedian!)})`;
  check(nvct.added! <= floor.added! + 8, `nvct hook, ${maxGpus} GPUs: added ${ms(nvct.added!)} <= floor's added ${ms(floor.added!)} + 8 ms${own(nvct)}`);
  const cmp = compare.length ? find("hook", compareLabel, maxGpus) : undefined;
  if (cmp) check(nvct.added! <= cmp.added! / 2, `nvct hook, ${maxGpus} GPUs: added ${ms(nvct.added!)} <= half of ${compareLabel}'s added ${ms(cmp.added!)}`);
  check(noGpu.added! <= floor.added! + 2, `nvct hook, no GPU requested, ${maxGpus} GPUs: added ${ms(noGpu.added!)} <= floor's added ${ms(floor.added!)} + 2 ms${own(noGpu)}`);
  // The hook as installed (decision cache on), with and without GPUs, at every GPU count. With the
  // cache off every start is the first after a driver change (the core compiled, NVML asked): shown,
  // not judged.
  const peak = (pick: (r: Row) => boolean) => Math.max(...rows.filter((r) => r.section === "hook" && pick(r)).map((r) => r.rssMiB!));
  const rss = peak((r) => r.name === "nvct hook" || r.name === "nvct hook, no GPU requested");
  check(rss <= 40, `nvct hook peak RSS: ${rss.toFixed(1)} MiB <= 40 MiB`);
  budget.push(`      (decision cache off, as the first container after a driver change: peak RSS ${peak((r) => r.name === "nvct hook, decision cache off").toFixed(1)} MiB)`);
}
if (sections.includes("runtime") && compareRuntime) {
  for (const mode of ["legacy", "cdi"]) {
    const [n, c] = [find("runtime", `nvct runtime, ${mode}`)!, find("runtime", `compared runtime, ${mode}`)!];
    check(n.added! <= c.added! / 2, `nvct runtime, ${mode}: added ${ms(n.added!)} <= half of the compared runtime's added ${ms(c.added!)}`);
  }
}
if (sections.includes("passthrough")) {
  const floor = find("passthrough", "floor (empty compiled Bun program)")!;
  for (const cmd of ["--version", "state", "delete"]) {
    const r = find("passthrough", `nvidia-container-runtime ${cmd}`)!;
    check(r.added! <= floor.median + 2, `nvidia-container-runtime ${cmd}: ${ms(r.added!)} over runc's <= floor ${ms(floor.median)} + 2 ms`);
  }
}

const runcVersion = spawnSync("runc", ["--version"], { encoding: "utf8" }).stdout?.split("\n")[0] ?? "runc";
// What dist/ was built from, which need not be the checkout's HEAD.
const build = existsSync(join(top, "build/out/BUILD")) ? readFileSync(join(top, "build/out/BUILD"), "utf8").trim() : "unknown";
const about = `${runs} runs per case after ${warmup} warm-up round(s), cases interleaved within each table; ${cpus().length} cores, ${runcVersion}, bun ${Bun.version}, nvct ${build}.`;
const { md, svg } = render(rows, { about, budget, notes, maxGpus });
mkdirSync(out, { recursive: true });
writeFileSync(join(out, "bench.md"), md);
writeFileSync(join(out, "bench.svg"), svg);
process.stdout.write(`${md}\nwrote ${join(out, "bench.md")} and ${join(out, "bench.svg")}\n`);

// Hook latency benchmark: runc containers in the fake host, plain vs a no-op hook (/bin/true) vs
// nvct's hook (and optionally another hook command), with 1, 4 and 8 GPUs, runs interleaved.
// Prints per case the median and p95 of a container's start (runc run: create, start, wait,
// delete), its ratio to plain runc, the hook's own wall time and peak RSS (measured by
// scripts/timehook.c in separate interleaved runs); a markdown table and an SVG chart.
//
//   bun scripts/bench.ts [--runs N] [--gpus 1,4,8] [--compare "/path/to/hook arg..."] [--out DIR]
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFakeDriver, cleanCompiledLibraries, withGpus } from "../test/fake/driver";
import { makeRootfs, writeBundle } from "../test/e2e/bundle";

const top = join(import.meta.dir, "..");
const HOOK = join(top, "dist/bin/nvidia-container-runtime-hook");

interface Case {
  name: string;
  bundle: string;
  /** timehook log when this case measures a hook's own wall time and RSS. */
  timing?: string;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

// Inner mode: runs inside the fake host; prints JSON {case: [ms...]}.
if (process.argv[2] === "--inner") {
  const { cases, runs, state } = JSON.parse(readFileSync(process.argv[3], "utf8")) as { cases: Case[]; runs: number; state: string };
  const times: Record<string, number[]> = Object.fromEntries(cases.map((c) => [c.name, []]));
  for (let i = -2; i < runs; i++) {
    // Rotate the order each round so that no case always follows the same one.
    for (let k = 0; k < cases.length; k++) {
      const c = cases[(i + 2 + k) % cases.length];
      const t0 = performance.now();
      const r = spawnSync("runc", ["--root", state, "run", "--bundle", c.bundle, `bench-${process.pid}-${i}-${k}`], { encoding: "utf8" });
      const ms = performance.now() - t0;
      if (r.status !== 0) {
        process.stderr.write(`bench: ${c.name} failed: ${r.stderr}\n`);
        process.exit(1);
      }
      if (i >= 0) times[c.name].push(ms); // two warm-up rounds are not counted
    }
  }
  process.stdout.write(JSON.stringify(times));
  process.exit(0);
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
}

const runs = Number(arg("runs", "30"));
const gpuCounts = arg("gpus", "1,4,8").split(",").map(Number);
const compare = arg("compare", "");
const out = arg("out", join(top, "bench-out"));
mkdirSync(out, { recursive: true });

const work = mkdtempSync(join(tmpdir(), "nvct-bench-"));
const timehook = join(work, "timehook");
spawnSync("gcc", ["-O2", "-o", timehook, join(import.meta.dir, "timehook.c")], { stdio: "inherit" });

interface Row {
  gpus: number;
  name: string;
  median: number;
  p95: number;
  ratio: number;
  hookMedian?: number;
  hookP95?: number;
  rssMiB?: number;
}
const rows: Row[] = [];

try {
  for (const n of gpuCounts) {
    const fake = join(work, `fake${n}`);
    buildFakeDriver(fake, withGpus(n));
    const env = ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"];
    const cases: Case[] = [];
    const add = (name: string, hook: { path: string; args: string[] } | null, timing?: string) => {
      const dir = join(work, `${n}-case${cases.length}`);
      mkdirSync(dir);
      makeRootfs(dir, { debian: true });
      writeBundle(dir, { env, script: "true", hook });
      cases.push({ name, bundle: dir, timing });
    };
    const cfg = join(work, "nvct.toml");
    writeFileSync(cfg, "");
    add("plain runc", null);
    add("no-op hook (/bin/true)", { path: "/bin/true", args: ["true"] });
    add("nvct hook", { path: HOOK, args: [HOOK, "-config", cfg, "prestart"] });
    const nvctLog = join(work, `${n}-nvct.timing`);
    add("nvct hook (timed)", { path: timehook, args: [timehook, nvctLog, HOOK, "-config", cfg, "prestart"] }, nvctLog);
    const noopLog = join(work, `${n}-noop.timing`);
    add("no-op hook (/bin/true) (timed)", { path: timehook, args: [timehook, noopLog, "/bin/true"] }, noopLog);
    if (compare) {
      const [path, ...rest] = compare.split(" ");
      add("compared hook", { path, args: [path, ...rest] });
      const cmpLog = join(work, `${n}-cmp.timing`);
      add("compared hook (timed)", { path: timehook, args: [timehook, cmpLog, path, ...rest] }, cmpLog);
    }
    const spec = join(work, `${n}-cases.json`);
    writeFileSync(spec, JSON.stringify({ cases, runs, state: join(work, "runc-state") }));
    const r = spawnSync(join(top, "scripts/fakehost.sh"), [fake, "--", process.execPath, import.meta.path, "--inner", spec], { encoding: "utf8", maxBuffer: 1 << 26 });
    if (r.status !== 0) throw new Error(`bench with ${n} GPUs failed: ${r.stderr}`);
    const times = JSON.parse(r.stdout) as Record<string, number[]>;
    const plain = quantile(times["plain runc"], 0.5);
    for (const c of cases) {
      if (c.name.endsWith("(timed)")) continue;
      const row: Row = { gpus: n, name: c.name, median: quantile(times[c.name], 0.5), p95: quantile(times[c.name], 0.95), ratio: quantile(times[c.name], 0.5) / plain };
      const timed = cases.find((x) => x.name === `${c.name} (timed)`);
      if (timed?.timing) {
        const lines = readFileSync(timed.timing, "utf8").trim().split("\n").slice(-runs).map((l) => l.split(" ").map(Number));
        row.hookMedian = quantile(lines.map((l) => l[0] / 1000), 0.5);
        row.hookP95 = quantile(lines.map((l) => l[0] / 1000), 0.95);
        row.rssMiB = Math.max(...lines.map((l) => l[1] / 1024));
      }
      rows.push(row);
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  cleanCompiledLibraries();
}

const f = (x: number | undefined, d = 1) => (x === undefined ? "" : x.toFixed(d));
let md = `Container start under runc in the fake host (runc run: create, start, wait, delete), ${runs} runs per case, interleaved.\n\n`;
md += "| GPUs | case | start median (ms) | start p95 (ms) | vs plain runc | hook wall median (ms) | hook wall p95 (ms) | hook peak RSS (MiB) |\n|---|---|---|---|---|---|---|---|\n";
for (const r of rows) md += `| ${r.gpus} | ${r.name} | ${f(r.median)} | ${f(r.p95)} | ${f(r.ratio, 2)}x | ${f(r.hookMedian)} | ${f(r.hookP95)} | ${f(r.rssMiB)} |\n`;
writeFileSync(join(out, "bench.md"), md);
process.stdout.write(md);

// The chart: start-time medians per case, grouped by GPU count.
const names = [...new Set(rows.map((r) => r.name))];
const colours = ["#8c8c8c", "#4e79a7", "#76b900", "#e15759"];
const max = Math.max(...rows.map((r) => r.p95)) * 1.1;
const W = 720, H = 360, L = 60, B = 40, groupW = (W - L - 20) / gpuCounts.length, barW = (groupW - 20) / names.length;
let svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H + 30 + names.length * 18}" font-family="sans-serif" font-size="12">\n`;
svg += `<text x="${L}" y="16" font-size="14">Container start, median and p95 (ms), runc in the fake host</text>\n`;
for (let t = 0; t <= 4; t++) {
  const v = (max * t) / 4, y = H - B - ((H - B - 30) * t) / 4;
  svg += `<line x1="${L}" x2="${W - 20}" y1="${y}" y2="${y}" stroke="#ddd"/><text x="${L - 6}" y="${y + 4}" text-anchor="end">${v.toFixed(0)}</text>\n`;
}
gpuCounts.forEach((n, gi) => {
  const x0 = L + gi * groupW + 10;
  names.forEach((name, ci) => {
    const r = rows.find((x) => x.gpus === n && x.name === name);
    if (!r) return;
    const h = ((H - B - 30) * r.median) / max, hp = ((H - B - 30) * r.p95) / max, x = x0 + ci * barW;
    svg += `<rect x="${x}" y="${H - B - h}" width="${barW - 4}" height="${h}" fill="${colours[ci % colours.length]}"/>`;
    svg += `<line x1="${x + (barW - 4) / 2}" x2="${x + (barW - 4) / 2}" y1="${H - B - h}" y2="${H - B - hp}" stroke="#333"/>`;
    svg += `<text x="${x + (barW - 4) / 2}" y="${H - B - hp - 4}" text-anchor="middle" font-size="10">${r.median.toFixed(0)}</text>\n`;
  });
  svg += `<text x="${x0 + (groupW - 20) / 2}" y="${H - B + 16}" text-anchor="middle">${n} GPU${n > 1 ? "s" : ""}</text>\n`;
});
names.forEach((name, ci) => {
  svg += `<rect x="${L}" y="${H + 4 + ci * 18}" width="12" height="12" fill="${colours[ci % colours.length]}"/><text x="${L + 18}" y="${H + 14 + ci * 18}">${name}</text>\n`;
});
svg += "</svg>\n";
writeFileSync(join(out, "bench.svg"), svg);
process.stdout.write(`\nwrote ${join(out, "bench.md")} and ${join(out, "bench.svg")}\n`);

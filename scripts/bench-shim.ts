// What nvidia-container-runtime costs on a command it passes through: `runc --version` direct vs
// through the shim (config read, lookup, execve in place), cold processes, interleaved. Medians.
//   bun scripts/bench-shim.ts [runs]
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const runs = Number(process.argv[2] ?? 30);
const shim = join(import.meta.dir, "../dist/bin/nvidia-container-runtime");
const cases: Record<string, string[]> = { "runc --version": ["runc", "--version"], "nvidia-container-runtime --version (exec runc)": [shim, "--version"] };
const t: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]));
for (let i = -2; i < runs; i++) {
  for (const [name, argv] of Object.entries(cases)) {
    const s = performance.now();
    const r = spawnSync(argv[0], argv.slice(1), { env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: "/nonexistent" } });
    const ms = performance.now() - s;
    if (r.status !== 0) throw new Error(`${name} failed`);
    if (i >= 0) t[name].push(ms);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
console.log(`| command (${runs} runs, medians) | wall (ms) |\n|---|---|`);
for (const [k, v] of Object.entries(t)) console.log(`| ${k} | ${med(v).toFixed(1)} |`);

// What the WIT binding costs at start: nvct's binding generated from core.wit over the plain core
// module (what nvct ships) against jco's transpiled glue, each cold in a fresh process, interleaved.
// Prints medians of: load+instantiate, first call, and the whole process wall time.
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const top = join(import.meta.dir, "..");
const out = join(top, "build/out");

if (process.argv[2] === "child") {
  const kind = process.argv[3];
  const t0 = performance.now();
  let call: (s: string) => unknown;
  const policy = { acceptEnvvarUnprivileged: true, acceptVolumeMounts: false, disableRequire: false, swarmResource: [], supportedCapabilities: "", mode: "auto", annotationPrefixes: ["cdi.k8s.io/"], defaultKind: "nvidia.com/gpu", tegra: false };
  const spec = (v: string) => ({ env: [`NVIDIA_VISIBLE_DEVICES=${v}`, "NVIDIA_REQUIRE_CUDA=cuda>=12.4 brand=tesla,driver>=470"], mounts: [], privileged: false, annotations: [] });
  if (kind === "hand") {
    const { core } = await import(join(top, "src/core.ts"));
    call = (s) => core().request(spec(s), policy);
  } else {
    const glue = await import(join(out, "jco/core.component.js"));
    const inst = glue.instantiate((p: string) => new WebAssembly.Module(readFileSync(join(out, "jco", p))), {});
    call = (s) => inst.request(spec(s), policy);
  }
  call("all"); // instantiates
  const t1 = performance.now();
  call("0,1,2");
  const t2 = performance.now();
  process.stdout.write(JSON.stringify({ load: t1 - t0, call: t2 - t1 }));
  process.exit(0);
}

const runs = Number(process.argv[2] ?? 15);
const res: Record<string, { load: number[]; call: number[]; wall: number[] }> = {
  hand: { load: [], call: [], wall: [] },
  jco: { load: [], call: [], wall: [] },
};
for (let i = 0; i < runs; i++) {
  for (const kind of ["hand", "jco"]) {
    const t = performance.now();
    const r = spawnSync(process.execPath, [import.meta.path, "child", kind], { encoding: "utf8" });
    const wall = performance.now() - t;
    const j = JSON.parse(r.stdout);
    res[kind].load.push(j.load);
    res[kind].call.push(j.call);
    res[kind].wall.push(wall);
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)].toFixed(2);
console.log(`| binding (${runs} cold runs, medians) | load + instantiate (ms) | one call (ms) | process wall (ms) |`);
console.log("|---|---|---|---|");
for (const [k, v] of Object.entries(res)) console.log(`| ${k === "hand" ? "generated from core.wit, plain module (shipped)" : "jco transpile --instantiation sync"} | ${med(v.load)} | ${med(v.call)} | ${med(v.wall)} |`);

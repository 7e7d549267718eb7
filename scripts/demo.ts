// nvct's main job on its embedded default. With a real NVIDIA driver on this machine it runs
// against it; otherwise it builds the fake driver (test/fake/) and runs inside a fake host.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildFakeDriver, cleanCompiledLibraries, MIG_ON_ONE } from "../test/fake/driver";

const top = join(import.meta.dir, "..");
const cli = join(top, "dist/bin/nvidia-container-cli");
const steps = [
  [cli, "info"],
  [cli, "list"],
];

function show(argv: string[], wrap: string[] = []): number {
  process.stdout.write(`\n$ ${argv.map((a) => a.replace(top + "/", "")).join(" ")}\n`);
  const r = spawnSync(wrap[0] ?? argv[0], [...wrap.slice(1), ...argv].slice(wrap.length ? 0 : 1), { stdio: "inherit" });
  return r.status ?? 1;
}

let status = 0;
if (existsSync("/dev/nvidiactl")) {
  process.stdout.write("A real NVIDIA driver is present: running against it.\n");
  for (const s of steps) status ||= show(s);
} else {
  const dir = mkdtempSync(join(tmpdir(), "nvct-demo-"));
  try {
    process.stdout.write("No NVIDIA driver here: building the fake driver (2 A100s, MIG on the first) and a fake host.\n");
    buildFakeDriver(dir, MIG_ON_ONE);
    for (const s of steps) status ||= show(s, [join(top, "scripts/fakehost.sh"), dir, "--"]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
    cleanCompiledLibraries();
  }
}
process.exit(status);

// nvct's main job on its embedded default: a GPU container under runc, its GPUs given by nvct's
// prestart hook, printing what the container sees. With a real NVIDIA driver on this machine it
// runs against it; otherwise on the fake driver (test/fake/) inside a fake host.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRootfs, writeBundle } from "../test/e2e/bundle";
import { buildFakeDriver, cleanCompiledLibraries, MIG_ON_ONE } from "../test/fake/driver";

const top = join(import.meta.dir, "..");
const SCRIPT = `
echo "--- inside the container (NVIDIA_VISIBLE_DEVICES=$NVIDIA_VISIBLE_DEVICES) ---"
echo "device nodes: $(ls /dev | grep nvidia | tr '\\n' ' ')"
echo "GPUs in /proc/driver/nvidia/gpus: $(ls /proc/driver/nvidia/gpus | tr '\\n' ' ')"
probe dlopen libcuda.so.1 libnvidia-ml.so.1
probe cuda
probe open /dev/nvidia0
nvidia-smi
`;

const work = mkdtempSync(join(tmpdir(), "nvct-demo-"));
let status = 1;
try {
  const real = existsSync("/dev/nvidiactl");
  const bundle = join(work, "bundle");
  require("node:fs").mkdirSync(bundle);
  makeRootfs(bundle, { debian: true });
  writeBundle(bundle, { env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"], script: SCRIPT });
  const runc = ["runc", "--root", join(work, "runc-state"), "run", "--bundle", bundle, "nvct-demo"];
  let wrap: string[] = [];
  if (real) {
    process.stdout.write("A real NVIDIA driver is present: the container gets its GPUs.\n");
  } else {
    process.stdout.write("No NVIDIA driver here: building the fake driver (2 A100s, MIG on the first) and a fake host.\n");
    buildFakeDriver(join(work, "fake"), MIG_ON_ONE);
    wrap = [join(top, "scripts/fakehost.sh"), join(work, "fake"), "--"];
  }
  const cli = join(top, "dist/bin/nvidia-container-cli");
  process.stdout.write(`\n$ nvidia-container-cli info\n`);
  spawnSync(wrap[0] ?? cli, [...wrap.slice(1), ...(wrap.length ? [cli] : []), "info"], { stdio: "inherit" });
  process.stdout.write(`\n$ ${runc.join(" ").replaceAll(work, "$WORK")}   # prestart hook: dist/bin/nvidia-container-runtime-hook\n`);
  const r = spawnSync(wrap[0] ?? runc[0], [...wrap.slice(1), ...(wrap.length ? runc : runc.slice(1))], { stdio: "inherit" });
  status = r.status ?? 1;
} finally {
  rmSync(work, { recursive: true, force: true });
  cleanCompiledLibraries();
}
process.exit(status);

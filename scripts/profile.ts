// Records the profiles the build lays dist/nvct's bytecode out by (`bun build --bytecode-order`,
// build/order/*.order): which functions a hook's start runs, as hashes of their syntax (no code,
// no paths), so that the build puts that bytecode together at the front of the executable, and a
// start reads and keeps less of it (warm GPU hook, 8 GPUs: peak RSS 40.3 -> 39.4 MiB).
//
//   bun scripts/profile.ts      (as root, after `npm run build`; runc and the fake driver's gcc)
//
// The profile is a warm GPU container's hook, the start the budget is about; a container that
// asks for no GPU runs a subset of its functions. A profile stays valid as the code changes
// (functions are matched by hash; changed ones go after it); record again when many changed. The
// runtime shim's passthrough execs runc, so no profile of it is ever written.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { makeRootfs, writeBundle } from "../test/e2e/bundle";
import { buildFakeDriver, cleanCompiledLibraries, withGpus } from "../test/fake/driver";

const top = join(import.meta.dir, "..");
const HOOK = join(top, "dist/bin/nvidia-container-runtime-hook");
const OUT = join(top, "build/order");
if (!existsSync(HOOK)) {
  process.stderr.write("profile: dist/nvct is missing: run `npm run build` first\n");
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), "nvct-profile-"));
try {
  const fake = buildFakeDriver(join(work, "fake"), withGpus(8));
  const config = join(work, "config.toml");
  writeFileSync(config, `[nvct]\ncache-dir = ${JSON.stringify(join(work, "cache"))}\n`);
  // The hook as runc runs it, recording to the file named by its one argument.
  const hook = join(work, "hook.sh");
  writeFileSync(hook, `#!/bin/sh\nBUN_BYTECODE_ORDER_OUT="$1" exec ${HOOK} -config ${config} prestart\n`);
  chmodSync(hook, 0o755);
  const bundle = (name: string, env: string[]) => {
    const dir = join(work, name);
    mkdirSync(dir);
    makeRootfs(dir, { debian: true });
    writeBundle(dir, { env, script: "true", hook: { path: hook, args: [hook, join(work, `${name}.order`)] } });
    return dir;
  };
  const gpu = bundle("hook-gpu", ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute,utility"]);
  // The first GPU start fills the decision cache (a cold start); the second is recorded over it.
  const state = join(work, "runc");
  const runs = [gpu, gpu].map((b, i) => `runc --root ${state} run --bundle ${b} nvct-profile-${process.pid}-${i} >/dev/null`).join(" && ");
  const r = spawnSync(join(top, "scripts/fakehost.sh"), [fake, "--", "/bin/sh", "-c", runs], { stdio: ["ignore", "inherit", "inherit"] });
  if (r.status !== 0) throw new Error(`profile: the containers failed (${r.status ?? r.signal})`);
  mkdirSync(OUT, { recursive: true });
  for (const name of ["hook-gpu"]) {
    copyFileSync(join(work, `${name}.order`), join(OUT, `${name}.order`));
    chmodSync(join(OUT, `${name}.order`), 0o644);
    process.stdout.write(`wrote build/order/${name}.order\n`);
  }
} finally {
  rmSync(work, { recursive: true, force: true });
  cleanCompiledLibraries();
}

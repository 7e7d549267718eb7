// `docker run --gpus` with Debian's docker.io: dockerd finds nvct's nvidia-container-runtime-hook
// on its PATH and runs it as the reference's, in the fake host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanCompiledLibraries, THREE_MIXED } from "../fake/driver";
import { fakeDriver } from "../helpers";
import { parseReport, runEngine } from "./bundle";

let work: string;
let fake: ReturnType<typeof fakeDriver>;
let runs: Record<string, string> = {};

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "nvct-docker-"));
  fake = fakeDriver(THREE_MIXED, "docker");
  runs = runEngine(join(import.meta.dir, "docker.sh"), fake.dir, work, ["all", '"device=1"', '"device=7"'], true);
}, 300_000);
afterAll(() => {
  rmSync(work, { recursive: true, force: true });
  fake.remove();
  cleanCompiledLibraries();
});

describe("docker run --gpus (Debian docker.io, nvct's hook on dockerd's PATH)", () => {
  test("--gpus all: every GPU, libraries found by name", () => {
    const r = parseReport(runs["all"]);
    expect(r.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"]);
    expect(r.gpus).toEqual(["00000000:07:00.0", "00000000:3b:00.0", "00000001:86:00.0"]);
    expect(r.opens).toContain("open /dev/nvidia3: ENXIO");
    expect(r.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test('--gpus \'"device=1"\': GPU 1 only', () => {
    const r = parseReport(runs['"device=1"']);
    expect(r.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.gpus).toEqual(["00000000:3b:00.0"]);
  });

  test("an unknown device: docker reports the hook's error and starts nothing", () => {
    expect(runs['"device=7"']).toContain("unknown device `7`");
    expect(runs['"device=7"']).toMatch(/exit: [1-9]/);
    expect(runs['"device=7"']).not.toContain("nodes:");
  });
});

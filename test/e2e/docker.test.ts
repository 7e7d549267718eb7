// `docker run --gpus` with Debian's docker.io: dockerd finds nvct's nvidia-container-runtime-hook
// on its PATH and runs it as the reference's, in the fake host.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { scene } from "../setup";
import { parseReport, runEngine } from "./bundle";

const S = scene("docker", { mixed: THREE_MIXED });
let runs: Record<string, string> = {};
beforeAll(() => {
  runs = runEngine(join(import.meta.dir, "docker.sh"), S.driver(), S.work, ["all", '"device=1"', '"device=7"'], true);
}, 300_000);

describe("docker run --gpus (Debian docker.io, nvct's hook on dockerd's PATH)", () => {
  test("--gpus all: every GPU, libraries found by name", () => {
    const r = parseReport(runs["all"]);
    expect(r.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"]);
    expect(r.gpus).toEqual(["0000:07:00.0", "0000:3b:00.0", "0001:86:00.0"]);
    expect(r.opens).toContain("open /dev/nvidia3: ENXIO");
    expect(r.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test('--gpus \'"device=1"\': GPU 1 only', () => {
    const r = parseReport(runs['"device=1"']);
    expect(r.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.gpus).toEqual(["0000:3b:00.0"]);
  });

  test("an unknown device: docker reports the hook's error and starts nothing", () => {
    expect(runs['"device=7"']).toContain("unknown device `7`");
    expect(runs['"device=7"']).toMatch(/exit: [1-9]/);
    expect(runs['"device=7"']).not.toContain("nodes:");
  });
});

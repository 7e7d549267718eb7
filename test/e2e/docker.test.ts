// `docker run --gpus` with Debian's docker.io: dockerd finds nvct's nvidia-container-runtime-hook
// on its PATH and runs it as the reference's, in the fake host. The same dockerd has nvct's
// nvidia-container-runtime as its runtime `nvidia`, which the nvidia-docker wrapper asks for.
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

describe("nvidia-docker (the same dockerd, nvct's runtime registered as `nvidia`)", () => {
  test("NV_GPU=1 nvidia-docker run: GPU 1 only, through the nvidia runtime", () => {
    const r = parseReport(runs["NV_GPU=1 nvidia-docker run"]);
    expect(r.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    // The runtime's auto mode is jit-cdi, as the newest toolkit's: the spec carries the nodes and
    // the libraries; the driver's procfs directories are the hook's (legacy) alone.
    expect(r.gpus).toEqual([]);
    expect(r.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("container create: the runtime and NV_GPU as NVIDIA_VISIBLE_DEVICES, as docker records them", () => {
    expect(runs["NV_GPU=0,1 nvidia-docker container create"]).toBe("runtime: nvidia\nenv: NVIDIA_VISIBLE_DEVICES=0,1\n");
  });

  test("the user's own --runtime is kept, not doubled", () => {
    expect(runs["nvidia-docker create --runtime=runc"]).toBe("runtime: runc\nenv: \n");
  });

  test("images: docker's output unchanged", () => {
    expect(runs["nvidia-docker images"]).toContain("nvct-test:latest");
    expect(runs["nvidia-docker images"]).toBe(runs["docker images"]);
  });

  test("version: the wrapper's line, as the script printed it, then docker's output unchanged", () => {
    expect(runs["docker version"]).toContain("Server:");
    expect(runs["nvidia-docker version"]).toMatch(/^NVIDIA Docker: \d+\.\d+\.\d+\n/);
    expect(runs["nvidia-docker version"].replace(/^NVIDIA Docker: .*\n/, "")).toBe(runs["docker version"]);
  });
});

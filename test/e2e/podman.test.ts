// podman (Debian's) with CDI: `--device nvidia.com/gpu=...` from the spec nvct generates; the
// spec's createContainer hooks are nvct's nvidia-cdi-hook.
import { beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { scene } from "../setup";
import { parseReport, runEngine } from "./bundle";

const S = scene("podman", { mixed: THREE_MIXED });
let runs: Record<string, string> = {};
beforeAll(() => {
  runs = runEngine(join(import.meta.dir, "podman.sh"), S.driver(), S.work, ["nvidia.com/gpu=all", "nvidia.com/gpu=1", "nvidia.com/gpu=9"], false);
}, 300_000);

describe("podman --device nvidia.com/gpu=... (CDI, nvct's generated spec)", () => {
  test("all: every GPU; a non-Debian image finds libcuda.so.1 through nvidia-cdi-hook's ld.so.cache", () => {
    const r = parseReport(runs["nvidia.com/gpu=all"]);
    expect(r.nodes).toEqual(["nvidia-modeset", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"]);
    expect(r.opens).toContain("open /dev/nvidia3: ENXIO");
    expect(r.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
    expect(r.ro.every((l) => l.endsWith(": EROFS"))).toBe(true);
  });

  test("=1: GPU 1 only", () => {
    const r = parseReport(runs["nvidia.com/gpu=1"]);
    expect(r.nodes).toEqual(["nvidia-modeset", "nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
  });

  test("an unknown device: podman refuses it by name", () => {
    expect(runs["nvidia.com/gpu=9"]).toContain("nvidia.com/gpu=9");
    expect(runs["nvidia.com/gpu=9"]).toMatch(/exit: [1-9]/);
    expect(runs["nvidia.com/gpu=9"]).not.toContain("nodes:");
  });
});

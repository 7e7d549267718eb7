// The device-id grammar and selection, seen through the core's listing (the selected GPUs'
// nodes, and each selected MIG device's capability files) and its errors.
import { describe, expect, test } from "bun:test";
import { core, type ListOptions } from "../../src/core";
import { facts, failure, gpu } from "./fixture";

const INV = [
  gpu(0, { uuid: "GPU-aaaa", busId: "00000000:18:00.0", migEnabled: true, migs: [{ index: 0, gi: 1, ci: 0, uuid: "MIG-m0" }, { index: 1, gi: 2, ci: 0, uuid: "MIG-m1" }] }),
  gpu(1, { uuid: "GPU-bbbb", busId: "00000000:3b:00.0" }),
  gpu(2, { minor: 3, uuid: "GPU-cccc", busId: "00000001:86:00.0" }),
];
const F = facts(INV);
const opts = (devices: string[]): ListOptions => ({ devices, migConfig: "", migMonitor: "", imex: [], libraries: false, compat32: false, binaries: false, ipcs: false, firmware: false, noPersistenced: false, noFabricmanager: false, mpsPipeDir: "" });

/** The selection as [GPU nodes, MIG devices by their GI access file]. */
function select(ids: string) {
  const lines = core().listing({ options: opts(ids.split(",").map((x) => x.trim()).filter(Boolean)), driver: F });
  return {
    gpus: lines.filter((l) => /^\/dev\/nvidia\d+$/.test(l)).map((l) => Number(l.slice(11))),
    migs: lines.filter((l) => /gi\d+\/access$/.test(l)).map((l) => l.split("/").slice(-3, -1).join("/")),
  };
}

describe("device ids: selection", () => {
  const cases: [string, string, number[], string[]][] = [
    ["nothing: the driver alone", "", [], []],
    ["all: every GPU and every MIG device", "all", [0, 1, 3], ["mig/gi1", "mig/gi2"]],
    ["indexes, trimmed", " 0 , 2", [0, 3], []],
    ["request order kept", "2,0", [3, 0], []],
    ["duplicates dropped", "1,1,GPU-bbbb", [1], []],
    ["GPU UUID, case-insensitive", "gpu-CCCC", [3], []],
    ["MIG UUID: its GPU's node too", "MIG-m1", [0], ["mig/gi2"]],
    ["gpu:mig pair", "0:0", [0], ["mig/gi1"]],
    ["PCI bus id, full", "00000000:3b:00.0", [1], []],
    ["PCI bus id, short domain", "0001:86:00.0", [3], []],
    ["PCI bus id, no domain", "18:00.0", [0], []],
    ["PCI bus id, upper case", "0000:3B:00.0", [1], []],
  ];
  test.each(cases)("%s: %p", (_d, ids, gpus, migs) => expect(select(ids)).toEqual({ gpus, migs }));

  const unknown: [string, string][] = [
    ["index past the end", "3"],
    ["unknown GPU UUID", "GPU-dddd"],
    ["unknown MIG UUID", "MIG-zz"],
    ["MIG index on a GPU without MIG", "1:0"],
    ["MIG index past the end", "0:5"],
    ["unknown bus", "0000:99:00.0"],
    ["none, which names no device", "none"],
  ];
  test.each(unknown)("unknown device: %s", (_d, ids) => {
    expect(failure(() => select(ids))).toEqual({ code: "unknown-device", message: `unknown device \`${ids}\`` });
  });

  const bad: [string, string][] = [
    ["negative index", "-1"],
    ["word", "gpu0"],
    ["bare prefix", "GPU-"],
    ["half a pair", "0:"],
    ["pair with letters", "a:b"],
    ["bus with a bad function", "18:00.9"],
    ["bus out of range", "0000:1ff:00.0"],
    ["index too large", "99999999999"],
  ];
  test.each(bad)("malformed id: %s (%p)", (_d, id) => {
    expect(failure(() => select(`0,${id}`))).toEqual({ code: "bad-device-id", message: `invalid device id \`${id}\`` });
  });

  test("thousands of ids are chosen in linear time", () => {
    const many = facts(Array.from({ length: 64 }, (_, i) => gpu(i)));
    const ids = Array.from({ length: 4000 }, (_, i) => String(i % 64));
    const t = performance.now();
    const lines = core().listing({ options: opts(ids), driver: many });
    expect(lines.filter((l) => /^\/dev\/nvidia\d+$/.test(l)).length).toBe(64);
    // A quadratic walk took seconds here; this is a bound on the order of growth, not a benchmark.
    expect(performance.now() - t).toBeLessThan(2000);
  });
});

import { describe, expect, test } from "bun:test";
import { selectDevices, type InventoryEntry } from "../../src/core";

const INV: InventoryEntry[] = [
  { index: 0, minor: 0, uuid: "GPU-aaaa", busId: "00000000:18:00.0", migs: [{ index: 0, uuid: "MIG-m0" }, { index: 1, uuid: "MIG-m1" }] },
  { index: 1, minor: 1, uuid: "GPU-bbbb", busId: "00000000:3b:00.0", migs: [] },
  { index: 2, minor: 3, uuid: "GPU-cccc", busId: "00000001:86:00.0", migs: [] },
];

describe("device ids: selection", () => {
  const cases: [string, string, string, number[], [number, number][]][] = [
    ["empty is void", "", "void", [], []],
    ["only spaces and commas is void", " , ,", "void", [], []],
    ["void", "void", "void", [], []],
    ["void anywhere wins", "0,void", "void", [], []],
    ["all", "all", "all", [0, 1, 2], []],
    ["none", "none", "none", [], []],
    ["first of all/none wins: none", "none,all", "none", [], []],
    ["first of all/none wins: all", "all,none", "all", [0, 1, 2], []],
    ["indexes, trimmed", " 0 , 2", "list", [0, 2], []],
    ["request order kept", "2,0", "list", [2, 0], []],
    ["duplicates dropped", "1,1,GPU-bbbb", "list", [1], []],
    ["GPU UUID, case-insensitive", "gpu-CCCC", "list", [2], []],
    ["MIG UUID", "MIG-m1", "list", [], [[0, 1]]],
    ["gpu:mig pair", "0:0", "list", [], [[0, 0]]],
    ["PCI bus id, full", "00000000:3b:00.0", "list", [1], []],
    ["PCI bus id, short domain", "0001:86:00.0", "list", [2], []],
    ["PCI bus id, no domain", "18:00.0", "list", [0], []],
    ["PCI bus id, upper case", "0000:3B:00.0", "list", [1], []],
  ];
  test.each(cases)("%s: %p", (_d, req, kind, gpus, migs) => {
    const s = selectDevices(req, INV);
    expect({ kind: s.kind, gpus: s.gpus, migs: s.migs }).toEqual({ kind: kind as any, gpus, migs });
  });

  test("ids are reported with their type", () => {
    expect(selectDevices("0,GPU-aaaa,MIG-m0,0:1,18:00.0", INV).ids.map((i) => i.type)).toEqual([
      "index", "gpu-uuid", "mig-uuid", "mig-index", "pci",
    ]);
  });

  const unknown: [string, string][] = [
    ["index past the end", "3"],
    ["unknown GPU UUID", "GPU-dddd"],
    ["unknown MIG UUID", "MIG-zz"],
    ["MIG index on a GPU without MIG", "1:0"],
    ["MIG index past the end", "0:5"],
    ["unknown bus", "0000:99:00.0"],
  ];
  test.each(unknown)("unknown device: %s", (_d, req) => {
    expect(() => selectDevices(req, INV)).toThrow(`unknown device \`${req}\``);
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
  test.each(bad)("malformed id: %s (%p)", (_d, req) => {
    let err: any;
    try {
      selectDevices(`0,${req}`, INV);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe("bad-device-id");
    expect(err.message).toBe(`invalid device id \`${req}\``);
  });

  test("malformed inventory is an error naming the line", () => {
    expect(() => selectDevices("0", [{ index: -1, minor: 0, uuid: "x", busId: "y", migs: [] }] as any)).toThrow("invalid inventory line");
  });
});

// The tests' JSON Schema validation (test/schema.ts, ajv): every schema compiles with its $refs
// between files resolved, and a deliberately broken document is refused, where the fault sits
// behind a $ref into another file too.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { compiled, SCHEMAS, validate } from "../schema";

const CDI = {
  cdiVersion: "0.5.0",
  kind: "nvidia.com/gpu",
  devices: [{ name: "0", containerEdits: { deviceNodes: [{ path: "/dev/nvidia0", type: "c", major: 195, minor: 0 }] } }],
  containerEdits: {
    env: ["NVIDIA_VISIBLE_DEVICES=void"],
    mounts: [{ hostPath: "/usr/lib/libcuda.so.1", containerPath: "/usr/lib/libcuda.so.1", options: ["ro", "nosuid", "nodev", "bind"] }],
    hooks: [{ hookName: "createContainer", path: "/usr/bin/nvidia-cdi-hook", args: ["nvidia-cdi-hook", "update-ldcache"], env: ["NVIDIA_CTK_DEBUG=false"] }],
  },
};

const OCI = {
  ociVersion: "1.2.0",
  process: { cwd: "/", args: ["sh"], env: ["PATH=/bin"], user: { uid: 0, gid: 0 } },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  linux: { devices: [{ type: "c", path: "/dev/nvidia0", major: 195, minor: 0, fileMode: 438 }], namespaces: [{ type: "mount" }] },
};

describe("schemas (ajv)", () => {
  const files = ["cdi", "oci"].flatMap((d) => readdirSync(join(SCHEMAS, d)).filter((n) => n.endsWith(".json")).map((n) => `${d}/${n}`));

  test.each(files)("%s compiles, its $refs resolved", (f) => {
    expect(typeof compiled(f)).toBe("function");
  });

  test("a valid CDI spec and a valid OCI config pass", () => {
    expect(validate(CDI, "cdi/schema.json")).toEqual([]);
    expect(validate(OCI, "oci/config-schema.json")).toEqual([]);
    expect(validate({ ociVersion: "1.2.0", id: "c1", status: "running", pid: 4, bundle: "/b" }, "oci/state-schema.json")).toEqual([]);
  });

  const badCdi: [string, (s: any) => void, string][] = [
    ["no cdiVersion", (s) => delete s.cdiVersion, "must have required property 'cdiVersion'"],
    ["a device without containerEdits", (s) => delete s.devices[0].containerEdits, "must have required property 'containerEdits'"],
    ["a mount without containerPath (defs.json)", (s) => delete s.containerEdits.mounts[0].containerPath, "must have required property 'containerPath'"],
    ["a hook's args not strings (defs.json)", (s) => (s.containerEdits.hooks[0].args = [1]), "must be string"],
    ["a device node's uid negative (defs.json's uint32)", (s) => (s.devices[0].containerEdits.deviceNodes[0].uid = -1), "must be >= 0"],
  ];
  test.each(badCdi)("CDI refused: %s", (_d, breakIt, msg) => {
    const s = structuredClone(CDI);
    breakIt(s);
    const errs = validate(s, "cdi/schema.json");
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.join("\n")).toContain(msg);
  });

  const badOci: [string, (s: any) => void, string][] = [
    ["no ociVersion", (s) => delete s.ociVersion, "must have required property 'ociVersion'"],
    ["process.args not an array", (s) => (s.process.args = "sh"), "must be array"],
    ["a linux device of type x (config-linux.json -> defs-linux.json)", (s) => (s.linux.devices[0].type = "x"), 'must match pattern "^[cbup]$"'],
    ["a device major not an integer (-> defs.json)", (s) => (s.linux.devices[0].major = 1.5), "must be integer"],
    ["a namespace of an unknown type", (s) => (s.linux.namespaces[0].type = "gpu"), "must be equal to one of the allowed values"],
  ];
  test.each(badOci)("OCI refused: %s", (_d, breakIt, msg) => {
    const s = structuredClone(OCI);
    breakIt(s);
    const errs = validate(s, "oci/config-schema.json");
    expect(errs.length).toBeGreaterThan(0);
    expect(errs.join("\n")).toContain(msg);
  });

  test("an error names where it is", () => {
    const s: any = structuredClone(OCI);
    s.linux.devices[0].type = "x";
    expect(validate(s, "oci/config-schema.json")).toContain('$.linux.devices.0.type: must match pattern "^[cbup]$" {"pattern":"^[cbup]$"}');
  });
});

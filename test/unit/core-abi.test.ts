// The host binding nvct ships (generated from core.wit, src/core.ts over it) against jco's own
// transpiled binding of the same component: for every export, ok and error alike, both must lift
// the same values. A binding that drifts from the canonical ABI (a field's offset, a variant's
// discriminant, an enum's order, a code swapped with its message) fails here.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { core } from "../../src/core";
import { facts, gpu, planInput } from "./fixture";

const out = join(import.meta.dir, "../../build/out");

function jcoBinding(): any {
  const glue = require(join(out, "jco/core.component.js"));
  const getCoreModule = (p: string) => new WebAssembly.Module(readFileSync(join(out, "jco", p)));
  return glue.instantiate(getCoreModule, {});
}

const POLICY = { acceptEnvvarUnprivileged: true, acceptVolumeMounts: true, disableRequire: false, swarmResource: ["X"], supportedCapabilities: "", mode: "auto", annotationPrefixes: ["cdi.k8s.io/"], defaultKind: "nvidia.com/gpu", tegra: false, autoMode: "jit-cdi" };
const SPEC = (env: string[]) => ({ env, mounts: [{ destination: "/var/run/nvidia-container-devices/imex/1", source: "/dev/null" }], privileged: true, annotations: [{ key: "a", value: "ünïcödé" }] });
const MIG = facts([gpu(0, { migEnabled: true, migs: [{ index: 0, gi: 1, ci: 0, uuid: "MIG-a" }] }), gpu(1, { minor: 3 })]);
const OPTS = { devices: ["all"], migConfig: "all", migMonitor: "", imex: ["1"], libraries: true, compat32: true, binaries: true, ipcs: true, firmware: true, noPersistenced: false, noFabricmanager: true, mpsPipeDir: "" };
const CDI_OPTS = { mode: "nvml", vendor: "nvidia.com", class: "gpu", strategies: ["index", "uuid", "type-index"], hookPath: "/usr/bin/nvidia-cdi-hook", ldconfigPath: "", enabledHooks: ["chmod"], disabledHooks: [], noAllDevice: false, deviceIds: [] };
const SPEC_FILE = {
  file: "/etc/cdi/x.yaml",
  spec: {
    version: "0.6.0",
    kind: "nvidia.com/gpu",
    devices: [{ name: "0", edits: { env: ["A=1"], deviceNodes: [{ path: "/dev/nvidia0", hostPath: undefined, kind: "c", major: 195, minor: 0, fileMode: 0o666, permissions: "rw", uid: 0, gid: undefined }], mounts: [], hooks: [], additionalGids: [44] } }],
    edits: { env: ["B=2"], deviceNodes: [], mounts: [{ hostPath: "/a", containerPath: "/b", kind: "bind", options: ["ro"] }], hooks: [{ hookName: "createContainer", path: "/h", args: ["h", "x"], env: [], timeout: 5 }], additionalGids: [] },
  },
};
const HOOK = (name: string) => ({ name, links: ["a::/b/c"], folders: ["/usr/lib"], mode: "755", paths: ["/dev"], hostDriverVersion: "550.1", hostCudaVersion: "", compatRoot: "", params: "ModifyDeviceFiles: 1\n", compatFiles: ["libcuda.so.580.1"], compatFolders: [], gpuMinors: [0, 3], unique: "u" });
const CACHE = readFileSync("/etc/ld.so.cache");
const CSV_MATCH = { path: "/l/libcuda.so.1.1", kind: "file", resolved: "/l/libcuda.so.1.1", resolvedKind: "file", major: 0, minor: 0, mode: 0, gid: 0, chain: [], beside: [{ path: "/l/libcuda.so.1", target: "libcuda.so.1.1" }] };
const CSV_HOST = {
  root: "/r", devRoot: "/", tegraRelease: true, nvmlCuda: "12.6", orin: true, compatRoot: "",
  found: [
    { entry: { kind: "dev", path: "nvmap" }, matches: [{ ...CSV_MATCH, path: "/dev/nvmap", kind: "chardev", resolvedKind: "chardev", major: 10, minor: 120, mode: 0o660, gid: 44, beside: [] }] },
    { entry: { kind: "lib", path: "/l/libcuda.so.1.1" }, matches: [CSV_MATCH] },
    { entry: { kind: "sym", path: "/l/x.so" }, matches: [{ ...CSV_MATCH, path: "/l/x.so", kind: "symlink", chain: [{ path: "/l/x.so", target: "libcuda.so.1.1" }], beside: [] }] },
  ],
};

const CASES: [string, unknown[]][] = [
  ["request", [SPEC(["NVIDIA_VISIBLE_DEVICES=0,1", "NVIDIA_DRIVER_CAPABILITIES=all", "NVIDIA_REQUIRE_X=cuda>=1", "NVIDIA_GDS=enabled", "NVIDIA_MIG_CONFIG_DEVICES=all"]), POLICY]],
  ["request", [SPEC(["X=GPU-1"]), { ...POLICY, mode: "cdi" }]],
  ["request", [SPEC(["NVIDIA_VISIBLE_DEVICES=void"]), POLICY]],
  ["request", [SPEC(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=warp"]), POLICY]],
  ["plan", [planInput({ devices: ["all"], caps: ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"] }, MIG, { cgroup: "v2" })]],
  ["plan", [planInput({ devices: ["all"], migConfig: "all", noDevbind: true }, MIG)]],
  ["plan", [planInput({ devices: ["7"] }, MIG)]],
  ["listing", [{ options: OPTS, driver: MIG }]],
  ["listing", [{ options: { ...OPTS, devices: undefined, migConfig: "" }, driver: MIG }]],
  ["listing", [{ options: { ...OPTS, devices: ["GPU-"] }, driver: MIG }]],
  ["cdispec", [{ options: CDI_OPTS, driver: MIG }]],
  ["cdispec", [{ options: { ...CDI_OPTS, deviceIds: ["none"] }, driver: MIG }]],
  ["cdispec", [{ options: { ...CDI_OPTS, deviceIds: ["5"] }, driver: MIG }]],
  ["cdiedits", [{ names: ["0", "nvidia.com/gpu=0"], defaultKind: "nvidia.com/gpu", specs: [SPEC_FILE] }]],
  ["cdiedits", [{ names: ["9"], defaultKind: "nvidia.com/gpu", specs: [SPEC_FILE] }]],
  ["featureedits", [{ features: ["gds", "gdrcopy"], root: "/", devRoot: "/", nodes: [{ path: "/dev/nvidia-fs0", major: 234, minor: 0 }, { path: "/dev/gdrdrv", major: 234, minor: 1 }], files: [{ path: "/etc/cufile.json", resolved: "/etc/cufile.json" }] }]],
  ["cdihook", [HOOK("create-symlinks")]],
  ["cdihook", [HOOK("enable-cuda-compat")]],
  ["cdihook", [HOOK("disable-device-node-modification")]],
  ["cdihook", [HOOK("update-application-profile")]],
  ["cdihook", [HOOK("chmod")]],
  ["cdihook", [{ ...HOOK("create-symlinks"), links: ["bad"] }]],
  ["jitedits", [planInput({ devices: ["0"], caps: ["graphics", "utility"] }, MIG), "/usr/bin/nvidia-cdi-hook"]],
  ["ldcacheread", [new Uint8Array(CACHE), true]],
  ["ldcacheread", [new Uint8Array([1, 2, 3]), false]],
  ["ldcachewrite", [{ old: new Uint8Array(CACHE), add: [{ name: "libcuda.so.1", path: "/l/libcuda.so.1", bits: 64 }], candidates: [{ path: "/x/libx.so.1", head: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 2]) }], arch: "x64" }]],
  ["ldcachewrite", [{ old: new Uint8Array(), add: [{ name: "", path: "x", bits: 64 }], candidates: [], arch: "x64" }]],
  ["deviceprogram", [[{ kind: "c", major: 195, minor: 0, access: "rw" }, { kind: "b", major: 8, minor: 1, access: "m" }]]],
  ["deviceprogram", [[{ kind: "c", major: 1, minor: 3, access: "rx" }]]],
  ["vocabulary", []],
  ["csvparse", [{ files: [{ path: "/d/devices.csv", text: "dev, /dev/nvmap\nbad\nsym, /x/libé.so" }, { path: "/d/l4t.csv", text: undefined }], listed: true, env: ["NVIDIA_REQUIRE_JETPACK=csv-mounts=all"], ignorePatterns: ["**/none"] }]],
  ["csvedits", [{ host: CSV_HOST, hookPath: "/usr/bin/nvidia-cdi-hook", devices: ["all"], requires: ["cuda>=11"], cuda: "12.2", arch: "8.7" }]],
  ["csvedits", [{ host: CSV_HOST, hookPath: "/h", devices: ["3"], requires: [], cuda: "", arch: "" }]],
  ["wslspec", [{ options: CDI_OPTS, root: "/", dxg: { path: "/dev/dxg", major: 10, minor: 63 }, dxcore: ["/usr/lib/wsl/lib/libdxcore.so"], stores: ["/usr/lib/wsl/drivers/nv"], storeFiles: ["libcuda.so.1.1", "nvidia-smi", "x.dll"] }]],
  ["wslspec", [{ options: CDI_OPTS, root: "/", dxcore: [], stores: [], storeFiles: [] }]],
  ["csvspec", [{ host: CSV_HOST, options: CDI_OPTS }]],
  ["csvspec", [{ host: CSV_HOST, options: { ...CDI_OPTS, deviceIds: ["none"] } }]],
];

/** jco lifts list<u32> as a Uint32Array where nvct's binding gives number[]: the same values. */
function plain(v: any): any {
  if (ArrayBuffer.isView(v) && !(v instanceof Uint8Array)) return Array.from(v as any);
  if (Array.isArray(v)) return v.map(plain);
  if (v && typeof v === "object" && !(v instanceof Uint8Array)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  return v;
}

/** {tag: ok, val} or {tag: err, val: {code, message}}, from a call that may throw. */
function settle(f: () => unknown): unknown {
  try {
    return { tag: "ok", val: plain(f()) };
  } catch (e: any) {
    const p = e.payload ?? e;
    return { tag: "err", val: { code: p.code, message: p.message } };
  }
}

describe("core ABI: the shipped binding and jco's agree", () => {
  const jco = jcoBinding();
  const hand: any = core();
  test.each(CASES.map(([fn, args], i) => [`${fn} #${i}`, fn, args] as const))("%s", (_d, fn, args) => {
    const want = settle(() => jco[fn](...structuredClone(args)));
    const got = settle(() => hand[fn](...structuredClone(args)));
    expect(got).toEqual(want);
  });

  test("every export of the contract is exercised, ok and error where it can fail", () => {
    const fns = new Set(CASES.map(([f]) => f));
    const exported = Object.keys(hand).sort();
    expect([...fns].sort()).toEqual(exported);
    for (const f of exported) {
      if (f === "vocabulary" || f === "featureedits" || f === "jitedits" || f === "csvparse") continue;
      const outcomes = CASES.filter(([g]) => g === f).map(([, args]) => (settle(() => hand[f](...structuredClone(args))) as any).tag);
      expect({ f, outcomes: [...new Set(outcomes)].sort() }).toEqual({ f, outcomes: ["err", "ok"] });
    }
  });
});

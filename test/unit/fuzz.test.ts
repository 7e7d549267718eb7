// Fuzzing the core: every export called through the shipped binding (src/core.ts) with random
// and mutated inputs of its grammar, thousands per run. The core never throws: a call returns a
// value or a failure with a stable code (an NvctError here). A wasm trap (a RuntimeError,
// "Unreachable code should not be executed"), any other exception, or a call slower than a
// second is a finding. Seeded: the seed is printed, NVCT_FUZZ_SEED=<seed> repeats a run, and a
// finding prints the export, the case number and its input. NVCT_FUZZ_MS sets each export's
// time budget (default 300 ms; a CI run is about 4 s in all).
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { freshCore, type Core, type DriverFacts, type GpuFact, type Injection, type PlanInput } from "../../src/core";
import { NvctError } from "../../src/errors";
import { facts, gpu, V } from "./fixture";

const SEED = Number(process.env.NVCT_FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
const BUDGET_MS = Number(process.env.NVCT_FUZZ_MS ?? 300);
/** A call slower than this is a finding (a quadratic path on a large input). */
const SLOW_MS = 1000;
console.log(`fuzz: seed ${SEED} (NVCT_FUZZ_SEED=${SEED} repeats this run), ${BUDGET_MS} ms per export`);

/** mulberry32: small, fast, good enough to explore with. */
class Rng {
  private s: number;
  /** Large lists left to this case: one, so that a case stays a fraction of a second. */
  private big = 1;
  /** How much of this case is garbage: none, a little, a lot (deep paths need valid inputs). */
  readonly noise: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
    this.noise = [0, 0.05, 0.3][this.u32() % 3];
  }
  /** True where this case puts garbage. */
  bad(): boolean {
    return this.chance(this.noise);
  }
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** Takes the case's large input, when it has not been taken. */
  spendBig(): boolean {
    if (this.big <= 0) return false;
    this.big--;
    return true;
  }
  int(n: number): number {
    return n <= 0 ? 0 : this.u32() % n;
  }
  chance(p: number): boolean {
    return this.u32() / 2 ** 32 < p;
  }
  pick<T>(a: readonly T[]): T {
    return a[this.int(a.length)];
  }
  /** A list of n items, n mostly small, now and then large. */
  list<T>(f: () => T, max = 6): T[] {
    const large = this.chance(0.01) && this.spendBig();
    const n = large ? 500 + this.int(3000) : this.int(max + 1);
    return Array.from({ length: n }, f);
  }
}

// ---- strings ----

const ODD = ["", " ", ",", ",,", "=", "::", ":", ".", "..", "/", "//", "\0", "\n", "\r\n", "\t", "ü", "日本", "😀", "\ud800", "\udfff", "\u202e", "\\", '"', "'", "*", "%s", "-1", "0x10", "1e9", "99999999999999999999", "4294967296", "NaN", "undefined", "null"];
const WORDS = ["all", "none", "void", "compute", "utility", "video", "graphics", "display", "ngx", "compat32", "cuda", "driver", "arch", "brand", "tesla", "legacy", "cdi", "jit-cdi", "csv", "auto", "enabled", "true", "false", "1", "0"];

function ascii(r: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + r.int(95));
  return s;
}

function anyChars(r: Rng, n: number): string {
  let s = "";
  for (let i = 0; i < n; i++) {
    const k = r.int(10);
    s += k < 6 ? String.fromCharCode(0x20 + r.int(95)) : k < 8 ? String.fromCharCode(r.int(0x20)) : k < 9 ? String.fromCharCode(0x80 + r.int(0x780)) : String.fromCharCode(r.int(0x10000));
  }
  return s;
}

/** A string: grammar words, odd pieces, random characters, or (rarely) a long one. */
function str(r: Rng, words: readonly string[] = WORDS): string {
  const k = r.int(100);
  if (k < 35) return r.pick(words);
  if (k < 50) return r.pick(ODD);
  if (k < 70) return ascii(r, r.int(12));
  if (k < 85) return anyChars(r, r.int(12));
  if (k < 99 || !r.spendBig()) return Array.from({ length: 1 + r.int(4) }, () => (r.chance(0.5) ? r.pick(words) : r.pick(ODD))).join(r.pick([",", " ", "", ", ", "=", "/"]));
  return r.pick(words).repeat(1000 + r.int(20000)) + anyChars(r, 3);
}

/** Mutates a valid string: a character changed, dropped or inserted, a piece doubled. */
function mutate(r: Rng, s: string): string {
  if (s.length === 0 || r.chance(0.2)) return s + r.pick(ODD);
  const i = r.int(s.length);
  switch (r.int(5)) {
    case 0:
      return s.slice(0, i) + s.slice(i + 1);
    case 1:
      return s.slice(0, i) + r.pick(ODD) + s.slice(i);
    case 2:
      return s.slice(0, i) + String.fromCharCode(r.int(0x100)) + s.slice(i + 1);
    case 3:
      return s.slice(0, i) + s.slice(i);
    default:
      return s.toUpperCase();
  }
}

const u32 = (r: Rng) => r.pick([0, 1, 2, 3, 7, 63, 64, 65, 195, 254, 255, 510, 511, 0x7fffffff, 0x80000000, 0xffffffff, r.u32(), r.int(300)]);

// ---- grammar pieces ----

const CAPS = ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"] as const;
const caps = (r: Rng) => r.list(() => r.pick(CAPS), 7);

/** A fact changed with probability p, scaled by the case's noise (none in a clean case). */
const mut = (r: Rng, p: number) => r.chance(p * r.noise * 3);

function gpus(r: Rng): GpuFact[] {
  const n = r.int(5);
  return Array.from({ length: n }, (_, i) => {
    const g = gpu(r.chance(0.9) ? i : u32(r), { minor: r.chance(0.8) ? i : u32(r) });
    if (mut(r, 0.1)) g.uuid = r.chance(0.5) ? mutate(r, g.uuid) : str(r);
    if (mut(r, 0.1)) g.busId = r.pick([mutate(r, g.busId), str(r), "0000:3b:00.0", "3b:00.0", "ffffffff:ff:1f.7"]);
    if (mut(r, 0.1)) g.arch = r.pick(["8.0", "", "x", "9", "1.2.3", "99999999999.0"]);
    if (mut(r, 0.1)) g.brand = str(r);
    if (r.chance(0.4)) {
      g.migEnabled = r.chance(0.8);
      g.migs = r.list(() => ({ index: r.chance(0.8) ? r.int(4) : u32(r), gi: r.chance(0.8) ? r.int(15) : u32(r), ci: r.chance(0.8) ? r.int(8) : u32(r), uuid: r.chance(0.8) ? `MIG-${r.int(1000)}` : str(r) }), 4);
    }
    return g;
  });
}

/** A list with items dropped, duplicated or replaced by garbage. */
function shake<T>(r: Rng, a: T[], garbage: () => T): T[] {
  const out = a.filter(() => !r.chance(0.1));
  if (r.chance(0.2) && out.length) out.push(out[r.int(out.length)]);
  if (r.chance(0.3)) out.splice(r.int(out.length + 1), 0, garbage());
  if (r.chance(0.1)) out.reverse();
  return out;
}

const path = (r: Rng) => r.pick(["/dev/nvidia0", "/dev/nvidiactl", "/dev/nvidia-caps/nvidia-cap1", "/usr/lib/x86_64-linux-gnu/libcuda.so.1", "relative/path", "/", "", "/a/../../b", "/x//y/", "/proc/driver/nvidia/gpus", str(r)]);

function driverFacts(r: Rng): DriverFacts {
  const f = facts(gpus(r));
  if (mut(r, 0.2)) f.root = r.pick(["/run/nvidia/driver", "", "relative", "//", "/x/", str(r)]);
  if (mut(r, 0.2)) f.devRoot = r.pick(["/dev-root", "", "relative", "/x/", str(r)]);
  if (mut(r, 0.1)) f.inventory.driver = r.pick(["", "550", "x.y", "1.2.3.4.5.6", "*", str(r)]);
  if (mut(r, 0.1)) f.inventory.cuda = r.pick(["", "12", "x", "13.0", str(r)]);
  if (mut(r, 0.5)) f.libraries = shake(r, f.libraries, () => ({ name: r.pick(["libcuda.so.1", "libcuda.so", "libnvidia-ml.so.1", "lib.so", str(r)]), path: path(r), resolved: r.pick(["", path(r), `/usr/lib/x86_64-linux-gnu/libcuda.so.${V}`]), bits: r.pick([32, 64, 0, 7, 255]) }));
  if (mut(r, 0.3)) f.binaries = shake(r, f.binaries, () => ({ path: path(r), resolved: path(r) }));
  if (mut(r, 0.3)) f.firmware = shake(r, f.firmware, () => ({ path: path(r), resolved: path(r) }));
  if (mut(r, 0.3)) f.ipcs = shake(r, f.ipcs, () => ({ path: path(r), resolved: path(r), dir: r.chance(0.5) }));
  if (mut(r, 0.5)) f.nodes = shake(r, f.nodes, () => ({ path: r.pick([path(r), `/dev/nvidia${r.int(8)}`, `/dev/nvidia-caps-imex-channels/channel${r.int(4)}`, "/dev/nvidia-fs0", "/dev/gdrdrv"]), major: u32(r), minor: u32(r) }));
  if (mut(r, 0.3)) f.files = shake(r, f.files, () => ({ path: r.pick(["/etc/cufile.json", "/run/udev", path(r)]), resolved: path(r) }));
  if (mut(r, 0.3)) f.majors = shake(r, f.majors, () => ({ name: r.pick(["nvidia-uvm", "nvidia-caps", "nvidia-caps-imex-channels", str(r)]), value: u32(r) }));
  if (mut(r, 0.3)) f.migMinors = shake(r, f.migMinors, () => ({ name: r.pick(["config", "monitor", `gpu0/gi${r.int(20)}/access`, `gpu${r.int(4)}/gi1/ci${r.int(10)}/access`, str(r)]), value: u32(r) }));
  if (mut(r, 0.3)) f.procfs = shake(r, f.procfs, () => r.pick(["params", "gpus/0000:18:00.0/information", `capabilities/gpu0/mig/gi${r.int(3)}/access`, str(r)]));
  if (mut(r, 0.2)) f.params = r.pick(["", "ModifyDeviceFiles: 1", "ModifyDeviceFiles: 0\n", str(r)]);
  return f;
}

/** A device id: one the inventory knows, in any spelling, or garbage. */
function deviceId(r: Rng, f?: DriverFacts): string {
  const g = f?.inventory.gpus.length ? r.pick(f.inventory.gpus) : undefined;
  if (!r.bad()) {
    if (!g) return r.pick(["all", "0"]);
    const m = g.migs.length ? r.pick(g.migs) : undefined;
    return r.pick([String(g.index), g.uuid, g.busId, "all", m ? m.uuid : g.uuid, m ? `${g.index}:${m.index}` : String(g.index)]);
  }
  const k = r.int(12);
  if (g && k === 0) return r.chance(0.5) ? g.uuid : g.uuid.toUpperCase();
  if (g && k === 1) return r.pick([g.busId, g.busId.slice(9), g.busId.toUpperCase(), g.busId.slice(4)]);
  if (g && k === 2 && g.migs.length) return r.chance(0.5) ? r.pick(g.migs).uuid : `${g.index}:${r.pick(g.migs).index}`;
  if (k < 6) return String(r.int(6));
  if (k < 8) return r.pick(["all", "none", "void", "GPU-", "MIG-", "0:", ":1", "0:1:2", "00000000:18:00.0", "18:00.0", "zz:00.0", "0000:18:00.8", "-1", "99999999999"]);
  return r.chance(0.5) ? str(r) : mutate(r, String(r.int(4)));
}

function requirement(r: Rng): string {
  if (!r.bad()) return `${r.pick(["cuda>=12.0", "driver>=470", "arch>=8.0", "brand=tesla", "cuda<99", "arch!=7.5"])}${r.chance(0.5) ? "," + r.pick(["driver>=1", "brand!=geforce"]) : ""}${r.chance(0.3) ? " cuda>=1" : ""}`;
  const term = () => r.pick(["cuda", "driver", "arch", "brand", "", "cud", str(r)]) + r.pick([">=", "<=", "!=", "=", "<", ">", "==", "=>", ""]) + r.pick(["12.4", "550", "8.0", "tesla", "", ".", "1..2", "9".repeat(40), "1.2.3.4.5", str(r)]);
  const alt = () => Array.from({ length: 1 + r.int(3) }, term).join(r.pick([",", ", ", ",,"]));
  return Array.from({ length: 1 + r.int(3) }, alt).join(r.pick([" ", "  ", "\t"]));
}

function injection(r: Rng, f?: DriverFacts): Injection {
  return {
    devices: r.list(() => deviceId(r, f), 5),
    caps: caps(r),
    requires: r.list(() => requirement(r), 2),
    migConfig: r.bad() ? r.pick(["0", str(r)]) : r.pick(["", "", "all"]),
    migMonitor: r.bad() ? str(r) : r.pick(["", "", "all"]),
    imex: r.bad() ? r.list(() => r.pick(["0", "1", "all", "7", "-1", str(r)]), 3) : [],
    noDevbind: r.chance(0.2),
    noPersistenced: r.chance(0.2),
    noFabricmanager: r.chance(0.2),
    mpsPipeDir: r.pick(["", "/tmp/mps", "relative", str(r)]),
  };
}

function planInput(r: Rng): PlanInput {
  const driver = driverFacts(r);
  return {
    injection: injection(r, driver),
    driver,
    rootfs: { debian: r.chance(0.5), lib32: r.chance(0.5) },
    cgroup: r.pick(["none", "v1", "v2"] as const),
    arch: r.pick(["x64", "x64", "arm64", "", "ppc64", str(r)]),
  };
}

const ENV_NAMES = ["NVIDIA_VISIBLE_DEVICES", "NVIDIA_DRIVER_CAPABILITIES", "NVIDIA_REQUIRE_CUDA", "NVIDIA_REQUIRE_ARCH", "NVIDIA_REQUIRE_JETPACK", "NVIDIA_DISABLE_REQUIRE", "CUDA_VERSION", "NVIDIA_MIG_CONFIG_DEVICES", "NVIDIA_MIG_MONITOR_DEVICES", "NVIDIA_IMEX_CHANNELS", "NVIDIA_GDS", "NVIDIA_MOFED", "NVIDIA_NVSWITCH", "NVIDIA_GDRCOPY", "SWARM", "PATH", "", "NVIDIA_"];
const PREFIX = "/var/run/nvidia-container-devices/";

function envEntry(r: Rng): string {
  const name = r.chance(0.9) ? r.pick(ENV_NAMES) : str(r);
  const value = () => {
    if (name === "NVIDIA_VISIBLE_DEVICES" || name === "SWARM") return r.list(() => deviceId(r), 4).join(r.pick([",", ", ", " ,"]));
    if (name.startsWith("NVIDIA_REQUIRE")) return requirement(r);
    if (name === "NVIDIA_DRIVER_CAPABILITIES") return r.list(() => r.pick([...CAPS, "all", str(r)]), 4).join(",");
    if (name === "CUDA_VERSION") return r.pick(["12.4.1", "12", "x.y", "", "1." + "9".repeat(30), str(r)]);
    if (name === "NVIDIA_IMEX_CHANNELS") return r.list(() => r.pick(["0", "1", "all", str(r)]), 4).join(",");
    return str(r);
  };
  const k = r.int(20);
  if (k === 0) return name; // no `=`
  if (k === 1) return "=" + value();
  return `${name}=${value()}`;
}

function containerSpec(r: Rng) {
  return {
    env: r.list(() => envEntry(r), 8),
    mounts: r.list(() => ({ destination: r.chance(0.7) ? PREFIX + r.pick(["0", "all", "GPU-1", "imex/1", "cdi/nvidia.com/gpu/0", "cdi/x", "cdi/", "", str(r)]) : str(r), source: r.chance(0.8) ? "/dev/null" : str(r) }), 3),
    privileged: r.chance(0.5),
    annotations: r.bad() || r.chance(0.7) ? r.list(() => ({ key: r.pick(["cdi.k8s.io/x", "cdi.k8s.io/", "other", str(r)]), value: r.list(() => cdiName(r), 3).join(",") }), 3) : [{ key: "cdi.k8s.io/x", value: r.pick(["nvidia.com/gpu=0", "nvidia.com/gpu=0,nvidia.com/gpu=1"]) }],
  };
}

function policy(r: Rng) {
  return {
    acceptEnvvarUnprivileged: r.chance(0.7),
    acceptVolumeMounts: r.chance(0.5),
    disableRequire: r.chance(0.2),
    swarmResource: r.list(() => r.pick(["SWARM", "DOCKER_RESOURCE_GPU", "", str(r)]), 2),
    supportedCapabilities: r.chance(0.7) ? "compat32,compute,display,graphics,ngx,utility,video" : r.list(() => r.pick([...CAPS, "all", str(r)]), 4).join(","),
    mode: r.bad() ? str(r) : r.pick(["auto", "legacy", "cdi", "jit-cdi", "csv", ""]),
    annotationPrefixes: r.list(() => r.pick(["cdi.k8s.io/", "", str(r)]), 2),
    defaultKind: r.pick(["nvidia.com/gpu", "", "x", str(r)]),
    tegra: r.chance(0.1),
    autoMode: r.pick(["legacy", "jit-cdi"] as const),
  };
}

const KINDS = ["nvidia.com/gpu", "example.com/net", "nvidia.com/gpu.sub", "Bad/Kind", "x", ""];
const kind = (r: Rng) => (r.bad() ? r.pick(KINDS) : r.pick(KINDS.slice(0, 2)));
const cdiName = (r: Rng) => !r.bad() ? r.pick(["nvidia.com/gpu=0", "nvidia.com/gpu=1", "nvidia.com/gpu=all", "0", "all", "example.com/net=0"]) : r.pick([`${r.pick(KINDS)}=${r.pick(["0", "1", "all", ""])}`, r.pick(["0", "all", "gpu0"]), "nvidia.com/gpu=", "=0", "a/b/c=d", str(r)]);

function cdiEdits(r: Rng) {
  const opt = <T>(f: () => T) => (r.chance(0.5) ? f() : undefined);
  return {
    env: r.list(() => envEntry(r), 3),
    deviceNodes: r.list(() => ({ path: path(r), hostPath: opt(() => path(r)), kind: opt(() => r.pick(["c", "b", "u", "p", "x", ""])), major: opt(() => u32(r)), minor: opt(() => u32(r)), fileMode: opt(() => u32(r)), permissions: opt(() => r.pick(["rw", "rwm", "", "x"])), uid: opt(() => u32(r)), gid: opt(() => u32(r)) }), 3),
    mounts: r.list(() => ({ hostPath: path(r), containerPath: path(r), kind: opt(() => r.pick(["bind", "tmpfs", ""])), options: r.list(() => r.pick(["ro", "rbind", "nosuid", str(r)]), 3) }), 3),
    hooks: r.list(() => ({ hookName: r.pick(["createContainer", "prestart", "poststop", "", str(r)]), path: path(r), args: r.list(() => str(r), 3), env: r.list(() => envEntry(r), 2), timeout: opt(() => u32(r)) }), 2),
    additionalGids: r.list(() => u32(r), 3),
  };
}

const HOOKS = ["create-symlinks", "enable-cuda-compat", "update-ldcache", "disable-device-node-modification", "update-application-profile", "chmod", "noop", "all"];

function hookInput(r: Rng) {
  if (!r.bad() && r.chance(0.5)) {
    return {
      name: r.pick(HOOKS), links: ["libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so"], folders: ["/usr/lib/x86_64-linux-gnu"], mode: "755", paths: ["/dev/dri"],
      hostDriverVersion: "550.54.14", hostCudaVersion: "12.4", compatRoot: "", params: "ModifyDeviceFiles: 1\n", compatFiles: [r.pick(["libcuda.so.580.1", "libcuda.so.470.1"])],
      compatFolders: [], gpuMinors: r.list(() => r.int(70), 3), unique: "u1",
    };
  }
  return {
    name: r.chance(0.9) ? r.pick(HOOKS) : str(r),
    links: r.list(() => r.pick(["libcuda.so.1::/usr/lib/libcuda.so", "a::/b", "::/b", "a::", "a::b", "a::/", "a::/b::/c", "a:/b", str(r)]), 4),
    folders: r.list(() => r.pick(["/usr/lib/x86_64-linux-gnu", "/usr/local/cuda/compat", "relative", "", str(r)]), 3),
    mode: r.pick(["755", "0755", "7777", "77777", "8", "", "abc", "-1", str(r)]),
    paths: r.list(() => r.pick(["/dev/dri", "relative", "", str(r)]), 3),
    hostDriverVersion: r.pick(["550.54.14", "", "abc", "99999999999.1", ".", str(r)]),
    hostCudaVersion: r.pick(["12.4", "", str(r)]),
    compatRoot: r.pick(["", "/usr/local/cuda/compat", "relative", str(r)]),
    params: r.pick(["ModifyDeviceFiles: 1\n", "ModifyDeviceFiles: 1", "a\nModifyDeviceFiles: 1\n\n", "", str(r)]),
    compatFiles: r.list(() => r.pick(["libcuda.so.580.1", "libcuda.so.580", "libcuda.so.1.2.3", "libcuda.so.99999999999.1", "libcuda.so.", str(r)]), 3),
    compatFolders: r.list(() => r.pick(["/usr/local/cuda/compat", "relative", str(r)]), 2),
    gpuMinors: r.list(() => u32(r), 4),
    unique: r.pick(["u1", "", "../x", str(r)]),
  };
}

// ---- ld.so.cache bytes ----

const HOST_CACHE = new Uint8Array(readFileSync("/etc/ld.so.cache"));
const ELF_HEAD = new Uint8Array(readFileSync("/bin/sh").subarray(0, 64));

function mutateBytes(r: Rng, b: Uint8Array): Uint8Array {
  let out = new Uint8Array(b);
  const n = r.noise === 0 ? r.int(2) : 1 + r.int(4);
  for (let i = 0; i < n; i++) {
    const k = r.int(7);
    if (k === 0 && out.length) out[r.int(out.length)] = r.int(256);
    else if (k === 1 && out.length > 4) {
      // A 32-bit field set to an edge: the header's counts and lengths, an entry's offsets.
      const at = r.chance(0.5) ? r.pick([12, 20, 24, 28, 32, 48 + 4, 48 + 8, 48 + 24 + 4]) : r.int(out.length - 4);
      if (at + 4 <= out.length) new DataView(out.buffer).setUint32(at, u32(r), true);
    } else if (k === 2) out = out.slice(0, r.int(out.length + 1));
    else if (k === 3) out = new Uint8Array([...out, ...Array.from({ length: r.int(64) }, () => r.int(256))]);
    else if (k === 4) {
      const old = new Uint8Array(16 + 12 * 2);
      old.set(new TextEncoder().encode("ld.so-1.7.0\0"));
      new DataView(old.buffer).setUint32(12, r.chance(0.5) ? 2 : u32(r), true);
      out = new Uint8Array([...old, ...out]);
    } else if (k === 5 && out.length) out.fill(0, r.int(out.length), r.int(out.length));
    else if (k === 6) out = new Uint8Array(Array.from({ length: r.int(200) }, () => r.int(256)));
  }
  return out;
}

// ---- the harness ----

interface Finding {
  export: string;
  case: number;
  error: string;
  input: string;
}

/** Only a failure with one of the core's codes is an answer; anything else thrown is a finding. */
const isFinding = (e: unknown) => !(e instanceof NvctError && e.code !== "internal");

const show = (v: unknown) => {
  const s = JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? `<${x.length} bytes: ${Buffer.from(x.subarray(0, 96)).toString("hex")}${x.length > 96 ? "..." : ""}>` : typeof x === "string" && x.length > 300 ? `${x.slice(0, 300)}...(${x.length} chars)` : x));
  return s.length > 4000 ? s.slice(0, 4000) + "..." : s;
};

function fuzz(name: string, gen: (r: Rng) => unknown[], call: (c: Core, args: any[]) => unknown, budgetMs = BUDGET_MS) {
  test(`${name}: no trap, no other exception, no slow call`, () => {
    const findings: Finding[] = [];
    let c = freshCore();
    let n = 0;
    const codes = new Map<string, number>();
    const start = performance.now();
    const salt = [...name].reduce((h, ch) => Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0, 2166136261);
    while (performance.now() - start < budgetMs || n < 200) {
      // Each case has its own seed: a finding is reproduced from SEED and its number alone.
      const r = new Rng(SEED ^ salt ^ Math.imul(n + 1, 0x9e3779b1));
      const args = gen(r);
      // The core's runtime never frees: a fresh instance every few hundred calls.
      if (n % 200 === 0) c = freshCore();
      const t = performance.now();
      try {
        call(c, args);
      } catch (e) {
        if (!isFinding(e)) codes.set((e as NvctError).code, (codes.get((e as NvctError).code) ?? 0) + 1);
        else {
          findings.push({ export: name, case: n, error: `${(e as Error)?.name}: ${(e as Error)?.message}`, input: show(args) });
          c = freshCore();
        }
      }
      const ms = performance.now() - t;
      if (ms > SLOW_MS) findings.push({ export: name, case: n, error: `slow: ${ms.toFixed(0)} ms`, input: show(args) });
      n++;
      if (findings.length >= 3) break;
    }
    const answers = [...codes].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`fuzz ${name}: ${n} calls (${n - [...codes.values()].reduce((a, b) => a + b, 0)} ok; ${answers || "no failure"}) in ${(performance.now() - start).toFixed(0)} ms, ${findings.length} finding(s)`);
    for (const f of findings) console.log(`FINDING seed ${SEED} ${f.export} case ${f.case}: ${f.error}\n  input: ${f.input}`);
    expect(findings).toEqual([]);
  });
}

describe("core fuzzing", () => {
  fuzz("request", (r) => [containerSpec(r), policy(r)], (c, a) => c.request(a[0], a[1]));
  fuzz("plan", (r) => [planInput(r)], (c, a) => c.plan(a[0]));
  fuzz("listing", (r) => {
    const driver = driverFacts(r);
    return [{
      options: {
        devices: r.chance(0.3) ? undefined : r.list(() => deviceId(r, driver), 4),
        migConfig: r.bad() ? str(r) : r.pick(["", "all"]),
        migMonitor: r.bad() ? str(r) : r.pick(["", "all"]),
        imex: r.bad() ? r.list(() => r.pick(["0", "1", "all", str(r)]), 2) : [],
        libraries: r.chance(0.5), compat32: r.chance(0.5), binaries: r.chance(0.5), ipcs: r.chance(0.5), firmware: r.chance(0.5),
        noPersistenced: r.chance(0.3), noFabricmanager: r.chance(0.3),
        mpsPipeDir: r.pick(["", "/tmp/x", str(r)]),
      },
      driver,
    }];
  }, (c, a) => c.listing(a[0]));
  fuzz("cdispec", (r) => {
    const driver = driverFacts(r);
    return [{
      options: {
        mode: r.pick(["nvml", "nvml", "management", "imex", "gds", "mofed", "nvswitch", "gdrcopy"] as const),
        vendor: r.pick(["nvidia.com", "", "x", str(r)]),
        class: r.pick(["gpu", "", str(r)]),
        strategies: r.list(() => r.pick(["index", "uuid", "type-index"] as const), 4),
        hookPath: r.pick(["/usr/bin/nvidia-cdi-hook", "/usr/bin/nvidia-ctk", "nvidia-ctk", "", str(r)]),
        ldconfigPath: r.pick(["", "/sbin/ldconfig", str(r)]),
        enabledHooks: r.list(() => r.chance(0.8) ? r.pick(HOOKS) : str(r), 3),
        disabledHooks: r.list(() => r.chance(0.8) ? r.pick(HOOKS) : str(r), 3),
        noAllDevice: r.chance(0.3),
        deviceIds: r.list(() => deviceId(r, driver), 4),
      },
      driver,
    }];
  }, (c, a) => c.cdispec(a[0]));
  fuzz("cdiedits", (r) => [{
    names: r.list(() => cdiName(r), 4),
    defaultKind: r.pick(["nvidia.com/gpu", "", "x", "Bad/Kind", str(r)]),
    specs: r.list(() => ({ file: r.pick(["/etc/cdi/a.yaml", "", str(r)]), spec: { version: r.pick(["0.6.0", "", str(r)]), kind: kind(r), devices: r.list(() => ({ name: r.bad() ? r.pick(["", str(r)]) : r.pick(["0", "1", "all"]), edits: cdiEdits(r) }), 4), edits: cdiEdits(r) } }), 4),
  }], (c, a) => c.cdiedits(a[0]));
  fuzz("featureedits", (r) => {
    const devRoot = r.pick(["/", "", "/dev-root", "/dev-root/", "//", str(r)]);
    return [{
      features: r.list(() => r.pick(["gds", "mofed", "nvswitch", "gdrcopy"] as const), 5),
      root: r.pick(["/", "", "/run/nvidia/driver", str(r)]),
      devRoot,
      nodes: r.list(() => ({ path: (r.chance(0.5) ? devRoot : "") + r.pick(["/dev/nvidia-fs0", "/dev/infiniband/uverbs0", "/dev/infiniband/rdma_cm", "/dev/nvidia-nvswitch0", "/dev/gdrdrv", path(r)]), major: u32(r), minor: u32(r) }), 6),
      files: r.list(() => ({ path: r.pick(["/etc/cufile.json", "/run/udev", path(r)]), resolved: path(r) }), 3),
    }];
  }, (c, a) => c.featureedits(a[0]));
  fuzz("cdihook", (r) => [hookInput(r)], (c, a) => c.cdihook(a[0]));
  fuzz("jitedits", (r) => [planInput(r), r.pick(["/usr/bin/nvidia-cdi-hook", "nvidia-ctk", "", str(r)])], (c, a) => c.jitedits(a[0], a[1]));
  fuzz("ldcacheread", (r) => [r.chance(0.9) ? mutateBytes(r, HOST_CACHE) : new Uint8Array(Array.from({ length: r.int(100) }, () => r.int(256))), r.chance(0.5)], (c, a) => c.ldcacheread(a[0], a[1]));
  fuzz("ldcachewrite", (r) => [{
    old: r.chance(0.8) ? mutateBytes(r, HOST_CACHE) : new Uint8Array(0),
    add: r.list(() => (r.bad() ? { name: r.pick(["libcuda.so.1", "libfoo.so", "", "a/b", str(r)]), path: r.pick(["/usr/lib/libcuda.so.1", "relative", "", path(r)]), bits: r.pick([32, 64, 64, 0, 7, 255]) } : { name: r.pick(["libcuda.so.1", "libfoo.so", "libnvidia-ml.so.1"]), path: r.pick(["/usr/lib/libcuda.so.1", "/usr/lib32/libx.so.2"]), bits: r.pick([32, 64]) }), 4),
    candidates: r.list(() => ({ path: r.pick(["/usr/lib/libfoo.so.1", "/usr/lib/libfoo.so.1.2", "/usr/lib/libfoo.so.", "/usr/lib/libfoo.so.x", "/libx.so.1", path(r)]), head: r.chance(0.7) ? mutateBytes(r, ELF_HEAD) : ELF_HEAD.subarray(0, r.int(8)) }), 4),
    arch: r.pick(["x64", "arm64", "", str(r)]),
  }], (c, a) => c.ldcachewrite(a[0]));
  fuzz("deviceprogram", (r) => [r.list(() => (r.bad() ? { kind: r.pick(["c", "b", "a", "", "cc", str(r)]), major: u32(r), minor: u32(r), access: r.pick(["rwm", "rw", "r", "", "x", "rwmrwm", str(r)]) } : { kind: r.pick(["c", "b"]), major: u32(r), minor: u32(r), access: r.pick(["rwm", "rw", "r", "", "m", "mr"]) }), 5)], (c, a) => c.deviceprogram(a[0]));
  fuzz("vocabulary", () => [], (c) => c.vocabulary(), 20);

  test("the harness counts a real wasm trap as a finding, and the core's failures as answers", () => {
    // (module (func (export "f") unreachable)): a trap as the core's would surface.
    const bytes = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 4, 1, 96, 0, 0, 3, 2, 1, 0, 7, 5, 1, 1, 102, 0, 0, 10, 5, 1, 3, 0, 0, 11]);
    const f = new WebAssembly.Instance(new WebAssembly.Module(bytes), {}).exports.f as () => void;
    let trapped: unknown;
    try {
      f();
    } catch (e) {
      trapped = e;
    }
    expect(String(trapped)).toContain("Unreachable");
    expect(isFinding(trapped)).toBe(true);
    expect(isFinding(new TypeError("x"))).toBe(true);
    let answered: unknown;
    try {
      freshCore().deviceprogram([{ kind: "x", major: 1, minor: 1, access: "r" }]);
    } catch (e) {
      answered = e;
    }
    expect((answered as NvctError).code).toBe("bad-device-rule");
    expect(isFinding(answered)).toBe(false);
  });
});

describe("the core on the largest inputs a tool can hand it", () => {
  const POLICY = { acceptEnvvarUnprivileged: true, acceptVolumeMounts: true, disableRequire: false, swarmResource: [], supportedCapabilities: "", mode: "auto", annotationPrefixes: ["cdi.k8s.io/"], defaultKind: "nvidia.com/gpu", tegra: false, autoMode: "jit-cdi" as const };
  const spec = (env: string[], o: object = {}) => ({ env, mounts: [], privileged: false, annotations: [], ...o });
  const ids = (n: number) => Array.from({ length: n }, (_, i) => String(i % 8)).join(",");
  const eight = facts(Array.from({ length: 8 }, (_, i) => gpu(i)));
  const edits = (n: number) => ({ env: Array.from({ length: n }, (_, i) => `V${i % 1000}=${i}`), deviceNodes: [], mounts: [], hooks: [], additionalGids: Array.from({ length: n }, (_, i) => i) });
  const cases: [string, (c: Core) => unknown, string | null][] = [
    ["1 MB NVIDIA_VISIBLE_DEVICES of one id", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=" + "7".repeat(1 << 20)]), POLICY), null],
    ["4096 device ids (the most a request takes)", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=" + ids(4096)]), POLICY), null],
    ["20,000 device ids", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=" + ids(20000)]), POLICY), "too-many-devices"],
    ["200,000 device ids", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=" + ids(200000)]), POLICY), "too-many-devices"],
    ["100,000 IMEX channels", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=" + Array.from({ length: 100000 }, (_, i) => i).join(",")]), POLICY), "too-many-devices"],
    ["4096 IMEX channels", (c) => c.request(spec(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=" + Array.from({ length: 4096 }, (_, i) => i).join(",")]), POLICY), null],
    ["100,000 volume-mount devices", (c) => c.request(spec([], { mounts: Array.from({ length: 100000 }, (_, i) => ({ destination: PREFIX + (i % 8), source: "/dev/null" })) }), POLICY), "too-many-devices"],
    ["100,000 env entries", (c) => c.request(spec(Array.from({ length: 100000 }, (_, i) => `NVIDIA_REQUIRE_${i}=cuda>=1`)), POLICY), null],
    ["a 100,000-term requirement, checked", (c) => c.plan({ injection: { devices: ["all"], caps: ["utility"], requires: [Array.from({ length: 100000 }, () => "cuda>=99").join(" ")], migConfig: "", migMonitor: "", imex: [], noDevbind: false, noPersistenced: false, noFabricmanager: false, mpsPipeDir: "" }, driver: eight, rootfs: { debian: true, lib32: false }, cgroup: "v1", arch: "x64" }), "unsatisfied"],
    ["4096 device ids planned on 8 GPUs", (c) => c.plan({ injection: { devices: ids(4096).split(","), caps: ["utility", "compute"], requires: [], migConfig: "", migMonitor: "", imex: [], noDevbind: false, noPersistenced: false, noFabricmanager: false, mpsPipeDir: "" }, driver: eight, rootfs: { debian: true, lib32: false }, cgroup: "v2", arch: "x64" }), null],
    ["CDI edits of 4096 names over specs with 50,000 env entries and gids", (c) => c.cdiedits({ names: Array.from({ length: 4096 }, (_, i) => String(i % 2)), defaultKind: "nvidia.com/gpu", specs: [{ file: "/etc/cdi/a.yaml", spec: { version: "0.6.0", kind: "nvidia.com/gpu", devices: [{ name: "0", edits: edits(50000) }, { name: "1", edits: edits(50000) }], edits: edits(50000) } }] }), null],
    ["CDI edits: 4096 names against 20,000 devices", (c) => c.cdiedits({ names: Array.from({ length: 4096 }, (_, i) => `d${i * 4}`), defaultKind: "nvidia.com/gpu", specs: [{ file: "/etc/cdi/a.yaml", spec: { version: "0.6.0", kind: "nvidia.com/gpu", devices: Array.from({ length: 20000 }, (_, i) => ({ name: `d${i}`, edits: edits(0) })), edits: edits(0) } }] }), null],
    ["an ld.so.cache claiming 2^32-1 entries", (c) => {
      const b = new Uint8Array(HOST_CACHE);
      new DataView(b.buffer).setUint32(20, 0xffffffff, true);
      return c.ldcacheread(b, true);
    }, "bad-ldcache"],
    ["create-symlinks with 20,000 links", (c) => c.cdihook({ ...hookInput(new Rng(1)), name: "create-symlinks", links: Array.from({ length: 20000 }, (_, i) => `t${i % 100}::/l/${i % 100}`) }), null],
  ];
  test.each(cases)("%s: an answer within a second", (_d, call, code) => {
    const t = performance.now();
    let got: string | null = null;
    try {
      call(freshCore());
    } catch (e) {
      expect(isFinding(e)).toBe(false);
      got = (e as NvctError).code;
    }
    expect(got).toBe(code);
    expect(performance.now() - t).toBeLessThan(SLOW_MS);
  });
});

// The injection plan: which of the driver's files and nodes a container gets, where, with which
// mount flags; the device cgroup's rules. One selection and one discovery serve the hook,
// `nvidia-container-cli configure` and `list`, CDI generation and the runtime's jit-cdi mode.
import {
  BindKind, BindOp, Capability, CgroupPlan, CgroupVersion, Code, DeviceOp, DeviceRule, DriverFacts, Failure, GpuFact, Injection,
  LdcacheOp, LdEntry, LibFact, MountFlag, NodeFact, Op, Outcome, Plan, PlanInput, SymlinkOp, TmpfsFile, TmpfsOp, ok,
} from "../build/out/gen/types";
import { computeLike, graphicsLike, wantsLibraryGroup } from "./capabilities";
import { prologue } from "./bpf";
import { drmNodes, graphicsFiles } from "./graphics";
import { select, Selection } from "./devices";
import { failed, failure } from "./outcome";
import { check } from "./requirement";
import { basename, hexPad, parseUint, stem, under } from "./text";
import {
  APP_PROFILES, BINARIES, BINARY_GROUPS, CAPS_DIR, CTL, CTL_MINOR, FABRICMANAGER_SOCKET, fileFlags, FIRMWARE_DIR, IMEX_DIR,
  ipcFlags, LIBRARIES, LIBRARY_GROUPS, MODESET, MODESET_MINOR, MPS_PIPE_DIR, nodeFlags, NVIDIA_MAJOR, PERSISTENCED_SOCKET, PROC,
  procFlags, UVM, UVM_TOOLS,
} from "./vocabulary";

/** The driver's facts, indexed once. */
export class Driver {
  nodes: Map<string, NodeFact> = new Map();
  majors: Map<string, u32> = new Map();
  migMinors: Map<string, u32> = new Map();
  procfs: Set<string> = new Set();
  devRoot: string = "";
  constructor(public f: DriverFacts) {
    let d = f.devRoot;
    while (d.length > 1 && d.endsWith("/")) d = d.substring(0, d.length - 1);
    this.devRoot = d == "/" ? "" : d;
    for (let i = 0; i < f.nodes.length; i++) this.nodes.set(this.inContainer(f.nodes[i].path), f.nodes[i]);
    for (let i = 0; i < f.majors.length; i++) this.majors.set(f.majors[i].name, f.majors[i].value);
    for (let i = 0; i < f.migMinors.length; i++) this.migMinors.set(f.migMinors[i].name, f.migMinors[i].value);
    for (let i = 0; i < f.procfs.length; i++) this.procfs.add(f.procfs[i]);
  }
  /** A node's path as the container sees it (without the dev root). */
  inContainer(host: string): string {
    return this.devRoot.length > 0 && host.startsWith(this.devRoot + "/") ? host.substring(this.devRoot.length) : host;
  }
  /** A container device path's host path. */
  host(path: string): string {
    return this.devRoot + path;
  }
  node(path: string): NodeFact | null {
    return this.nodes.has(path) ? this.nodes.get(path) : null;
  }
}

/** Where the container keeps libraries: Debian's multiarch directories, else lib64/lib32. */
export class Layout {
  constructor(public lib64: string, public lib32: string) {}
}

export function layoutOf(debian: bool, lib32: bool, arch: string): Layout {
  if (debian) return arch == "arm64" ? new Layout("/usr/lib/aarch64-linux-gnu", "/usr/lib/arm-linux-gnueabihf") : new Layout("/usr/lib/x86_64-linux-gnu", "/usr/lib/i386-linux-gnu");
  return new Layout("/usr/lib64", lib32 ? "/usr/lib32" : "/usr/lib");
}

/** The plan's pieces as they are found, in the order they are applied. */
export class Builder {
  devices: Op[] = [];
  binds: Op[] = [];
  links: Op[] = [];
  tmpfs: Op[] = [];
  procFiles: TmpfsFile[] = [];
  procDirs: string[] = [];
  cache: LdEntry[] = [];
  /** Extra device cgroup rules: nodes allowed without being bound (MIG config). */
  rules: DeviceRule[] = [];
  warnings: string[] = [];
  private linkSeen: Set<string> = new Set();
  private cacheSeen: Set<string> = new Set();
  private bindSeen: Set<string> = new Set();

  device(host: string, path: string, major: u32, minor: u32): void {
    const d = new DeviceOp();
    d.host = host;
    d.path = path;
    d.major = major;
    d.minor = minor;
    d.bind = true;
    d.mountFlags = nodeFlags();
    this.devices.push(Op.device(d));
  }

  bind(kind: BindKind, host: string, path: string, flags: MountFlag[]): void {
    if (this.bindSeen.has(path)) return;
    this.bindSeen.add(path);
    const b = new BindOp();
    b.kind = kind;
    b.host = host;
    b.path = path;
    b.mountFlags = flags;
    this.binds.push(Op.bind(b));
  }

  link(dir: string, name: string, target: string): void {
    const key = dir + "/" + name;
    if (this.linkSeen.has(key)) return;
    this.linkSeen.add(key);
    const s = new SymlinkOp();
    s.dir = dir;
    s.name = name;
    s.target = target;
    s.keepFile = true;
    this.links.push(Op.symlink(s));
  }

  cacheEntry(name: string, path: string, bits: u8): void {
    if (this.cacheSeen.has(path)) return;
    this.cacheSeen.add(path);
    const e = new LdEntry();
    e.name = name;
    e.path = path;
    e.bits = bits;
    this.cache.push(e);
  }

  rule(major: u32, minor: u32): void {
    const r = new DeviceRule();
    r.kind = "c";
    r.major = major;
    r.minor = minor;
    r.access = "rw";
    this.rules.push(r);
  }
}

function tmpfsFile(path: string, host: string, content: string | null, mode: u32): TmpfsFile {
  const f = new TmpfsFile();
  f.path = path;
  f.host = host;
  f.content = content;
  f.mode = mode;
  return f;
}

function mismatch(path: string, n: NodeFact, major: u32, minor: u32): Failure {
  return failure(Code.DeviceMismatch, "`" + path + "` is " + n.major.toString() + ":" + n.minor.toString() + ", expected " + major.toString() + ":" + minor.toString());
}

/** A node that must be there with this rdev. */
function required(d: Driver, b: Builder, path: string, major: u32, minor: u32): Failure | null {
  const n = d.node(path);
  if (n === null) return failure(Code.DeviceMissing, "`" + path + "` is missing");
  if (n.major != major || n.minor != minor) return mismatch(path, n, major, minor);
  b.device(n.path, path, major, minor);
  return null;
}

/** The GPUs whose nodes a selection needs: its GPUs, then the parents of its MIG devices. */
export function gpusOf(sel: Selection): i32[] {
  const out = new Array<i32>();
  for (let i = 0; i < sel.gpus.length; i++) if (!out.includes(sel.gpus[i])) out.push(sel.gpus[i]);
  for (let i = 0; i < sel.migs.length; i++) if (!out.includes(sel.migs[i][0])) out.push(sel.migs[i][0]);
  return out;
}

/** The MIG capability files of a MIG device: its GPU instance's, then its compute instance's. */
export function migKeys(gpu: GpuFact, mig: i32): string[] {
  const m = gpu.migs[mig];
  const base = "gpu" + gpu.minor.toString() + "/gi" + m.gi.toString();
  return [base + "/access", base + "/ci" + m.ci.toString() + "/access"];
}

/** Control nodes: nvidiactl always; the uvm nodes with compute; modeset with display. */
function controlNodes(d: Driver, b: Builder, caps: Capability[]): Failure | null {
  const err = required(d, b, CTL, NVIDIA_MAJOR, CTL_MINOR);
  if (err !== null) return err;
  if (computeLike(caps)) {
    const uvm = [UVM, UVM_TOOLS];
    for (let i = 0; i < uvm.length; i++) {
      const n = d.node(uvm[i]);
      if (n === null) continue;
      const major = d.majors.has("nvidia-uvm") ? d.majors.get("nvidia-uvm") : 0xffffffff;
      if (n.major != major) return failure(Code.DeviceMismatch, "`" + uvm[i] + "` is " + n.major.toString() + ":" + n.minor.toString() + ", but nvidia-uvm is major " + (major == 0xffffffff ? "unknown" : major.toString()));
      b.device(n.path, uvm[i], n.major, n.minor);
    }
  }
  if (caps.includes(Capability.Display)) {
    const n = d.node(MODESET);
    if (n !== null) {
      if (n.major != NVIDIA_MAJOR || n.minor != MODESET_MINOR) return mismatch(MODESET, n, NVIDIA_MAJOR, MODESET_MINOR);
      b.device(n.path, MODESET, n.major, n.minor);
    }
  }
  return null;
}

/** A GPU's directory in /proc/driver/nvidia/gpus: NVML's 32-bit domain form, else the driver's 16-bit one. */
export function procGpuDir(d: Driver, busId: string): string {
  const long = "gpus/" + busId.toLowerCase();
  const short = busId.length > 4 ? "gpus/" + busId.substring(4).toLowerCase() : long;
  const files = d.f.procfs;
  for (let i = 0; i < files.length; i++) if (files[i].startsWith(long + "/")) return long;
  for (let i = 0; i < files.length; i++) if (files[i].startsWith(short + "/")) return short;
  return "";
}

/** MIG: per device access files and nodes; or, with config/monitor `all`, the whole capability trees. */
function migCapabilities(d: Driver, b: Builder, inj: Injection, sel: Selection, used: i32[]): Failure | null {
  const inv = d.f.inventory;
  const capsMajor: u32 = d.majors.has("nvidia-caps") ? d.majors.get("nvidia-caps") : 0xffffffff;
  const migAll = inj.migConfig == "all" || inj.migMonitor == "all";
  if (!migAll) {
    for (let i = 0; i < sel.migs.length; i++) {
      const gpu = inv.gpus[sel.migs[i][0]];
      const keys = migKeys(gpu, sel.migs[i][1]);
      for (let k = 0; k < keys.length; k++) {
        const rel = "capabilities/" + keys[k].replace("/gi", "/mig/gi");
        if (!d.procfs.has(rel)) return failure(Code.MigCapability, "no MIG capability `" + PROC + "/" + rel + "`");
        b.procFiles.push(tmpfsFile(rel, PROC + "/" + rel, null, 0o444));
        if (capsMajor == 0xffffffff) continue;
        if (!d.migMinors.has(keys[k])) return failure(Code.MigCapability, "no MIG capability `" + keys[k] + "` in /proc/driver/nvidia-caps/mig-minors");
        const minor = d.migMinors.get(keys[k]);
        const err = required(d, b, CAPS_DIR + "/nvidia-cap" + minor.toString(), capsMajor, minor);
        if (err !== null) return err;
      }
    }
    return null;
  }
  if (used.length == 0) return null;
  // Creating MIG instances inside the container needs the whole capability tree of procfs and
  // /dev/nvidia-caps, and the device cgroup open to every capability of the GPUs.
  b.procDirs.push("capabilities");
  b.bind(BindKind.Dir, PROC + "/capabilities", PROC + "/capabilities", procFlags());
  if (capsMajor == 0xffffffff) return null;
  b.bind(BindKind.Dir, d.host(CAPS_DIR), CAPS_DIR, [MountFlag.Nosuid, MountFlag.Noexec]);
  const globals: string[] = [];
  if (inj.migConfig == "all") globals.push("config");
  if (inj.migMonitor == "all") globals.push("monitor");
  for (let i = 0; i < globals.length; i++) {
    if (!d.migMinors.has(globals[i])) return failure(Code.MigCapability, "no MIG capability `" + globals[i] + "` in /proc/driver/nvidia-caps/mig-minors");
    b.rule(capsMajor, d.migMinors.get(globals[i]));
  }
  const keys = d.migMinors.keys();
  for (let g = 0; g < used.length; g++) {
    const gpu = inv.gpus[used[g]];
    if (!gpu.migCapable) continue;
    const prefix = "gpu" + gpu.minor.toString() + "/";
    for (let k = 0; k < keys.length; k++) if (keys[k].startsWith(prefix)) b.rule(capsMajor, d.migMinors.get(keys[k]));
  }
  return null;
}

function imexChannels(d: Driver, b: Builder, channels: string[]): Failure | null {
  if (channels.length == 0) return null;
  if (!d.majors.has("nvidia-caps-imex-channels")) return failure(Code.ImexUnsupported, "IMEX channel `" + channels[0] + "` requested but the driver has no nvidia-caps-imex-channels");
  const major = d.majors.get("nvidia-caps-imex-channels");
  if (channels.includes("all")) {
    const paths = d.nodes.keys();
    paths.sort();
    for (let i = 0; i < paths.length; i++) {
      const n = d.nodes.get(paths[i]);
      if (paths[i].startsWith(IMEX_DIR + "/channel") && n.major == major) b.device(n.path, paths[i], n.major, n.minor);
    }
    return null;
  }
  for (let i = 0; i < channels.length; i++) {
    const err = required(d, b, IMEX_DIR + "/channel" + channels[i], major, <u32>parseUint(channels[i]));
    if (err !== null) return err;
  }
  return null;
}

/** The stem of a library name: `libcuda` of `libcuda.so.1`. */
function groupOf(s: string): string {
  for (let g = 0; g < LIBRARIES.length; g++) if (LIBRARIES[g].includes(s)) return LIBRARY_GROUPS[g];
  return "";
}

/** A library of the driver in dir: the file, its SONAME link, its ld.so.cache entry; returns the file's name. */
export function mountLibrary(d: Driver, b: Builder, l: LibFact, dir: string): string {
  const file = basename(l.resolved);
  b.bind(BindKind.File, under(d.f.root, l.resolved), dir + "/" + file, fileFlags());
  if (l.name != file) b.link(dir, l.name, file);
  b.cacheEntry(l.name, dir + "/" + l.name, l.bits);
  return file;
}

/** The driver's libraries for the capabilities: the files, their SONAME and compatibility links. */
export function libraries(d: Driver, b: Builder, caps: Capability[], layout: Layout): void {
  const version = ".so." + d.f.inventory.driver;
  const seen = new Set<string>();
  const widths: u8[] = [64, 32];
  for (let w = 0; w < widths.length; w++) {
    const bits = widths[w];
    if (bits == 32 && !caps.includes(Capability.Compat32)) continue;
    const dir = bits == 32 ? layout.lib32 : layout.lib64;
    for (let g = 0; g < LIBRARY_GROUPS.length; g++) {
      if (!wantsLibraryGroup(caps, LIBRARY_GROUPS[g])) continue;
      for (let s = 0; s < LIBRARIES[g].length; s++) {
        for (let i = 0; i < d.f.libraries.length; i++) {
          const l = d.f.libraries[i];
          if (l.bits != bits || stem(l.name) != LIBRARIES[g][s] || l.name.indexOf(".so.") < 0) continue;
          if (!l.resolved.endsWith(version) || seen.has(l.resolved)) continue;
          seen.add(l.resolved);
          const file = mountLibrary(d, b, l, dir);
          // The development and compatibility links libnvidia-container makes.
          const st = LIBRARIES[g][s];
          if (st == "libcuda") b.link(dir, "libcuda.so", "libcuda.so.1");
          else if (st == "libnvidia-opticalflow") b.link(dir, "libnvidia-opticalflow.so", "libnvidia-opticalflow.so.1");
          else if (st == "libGLX_nvidia") b.link(dir, "libGLX_indirect.so.0", file);
        }
      }
    }
  }
}

export function binaries(d: Driver, b: Builder, caps: Capability[]): void {
  for (let g = 0; g < BINARIES.length; g++) {
    const group = BINARY_GROUPS[g];
    if (group == "utility" ? !caps.includes(Capability.Utility) : !computeLike(caps)) continue;
    for (let n = 0; n < BINARIES[g].length; n++) {
      for (let i = 0; i < d.f.binaries.length; i++) {
        const f = d.f.binaries[i];
        if (basename(f.path) != BINARIES[g][n]) continue;
        b.bind(BindKind.File, under(d.f.root, f.resolved), "/usr/bin/" + BINARIES[g][n], fileFlags());
        break;
      }
    }
  }
}

/** GSP firmware, whatever the capabilities: the driver needs it for any use of the GPU. */
export function firmware(d: Driver, b: Builder): void {
  const dir = FIRMWARE_DIR + d.f.inventory.driver + "/";
  const names = new Array<string>();
  for (let i = 0; i < d.f.firmware.length; i++) {
    const f = d.f.firmware[i];
    const n = basename(f.path);
    if (f.path.startsWith(dir) && n.startsWith("gsp") && n.endsWith(".bin")) names.push(f.path);
  }
  names.sort();
  for (let k = 0; k < names.length; k++) {
    for (let i = 0; i < d.f.firmware.length; i++) {
      if (d.f.firmware[i].path == names[k]) b.bind(BindKind.File, under(d.f.root, d.f.firmware[i].resolved), names[k], fileFlags());
    }
  }
}

/** IPC: the persistenced and fabricmanager sockets (utility), the MPS pipe directory (compute). */
export function ipcs(d: Driver, b: Builder, caps: Capability[], inj: Injection): void {
  const wanted = new Array<string>();
  if (caps.includes(Capability.Utility)) {
    if (!inj.noPersistenced) wanted.push(PERSISTENCED_SOCKET);
    if (!inj.noFabricmanager) wanted.push(FABRICMANAGER_SOCKET);
  }
  if (computeLike(caps)) wanted.push(inj.mpsPipeDir.length > 0 ? inj.mpsPipeDir : MPS_PIPE_DIR);
  for (let w = 0; w < wanted.length; w++) {
    for (let i = 0; i < d.f.ipcs.length; i++) {
      const f = d.f.ipcs[i];
      if (f.path != wanted[w]) continue;
      // In the container it goes where the host path resolves (/var/run is /run).
      b.bind(f.dir ? BindKind.Dir : BindKind.Socket, under(d.f.root, f.resolved), f.resolved, ipcFlags());
    }
  }
}

/** The application profile that makes EGL see only the container's GPUs (graphics, display). */
function appProfile(b: Builder, gpus: GpuFact[]): void {
  let mask: u64 = 0;
  for (let i = 0; i < gpus.length; i++) if (gpus[i].minor < 64) mask |= (<u64>1) << <u64>gpus[i].minor;
  const t = new TmpfsOp();
  t.path = APP_PROFILES;
  t.mode = 0o555;
  t.mountFlags = [MountFlag.Nosuid, MountFlag.Nodev, MountFlag.Noexec];
  if (gpus.length > 0) {
    const conf =
      '{ "profiles": [{"name": "_container_", "settings": ["EGLVisibleDGPUDevices", 0x' + u64ToHex(mask) +
      ']}], "rules": [{"pattern": [], "profile": "_container_"}]}';
    t.files.push(tmpfsFile("10-container.conf", "", conf, 0o555));
  }
  b.tmpfs.push(Op.tmpfs(t));
}

function u64ToHex(v: u64): string {
  const hi = <u32>(v >> 32);
  const lo = <u32>(v & 0xffffffff);
  return hi == 0 ? lo.toString(16) : hi.toString(16) + hexPad(lo, 8);
}

/** /proc/driver/nvidia as the container sees it: the driver's files and its GPUs only. */
function procfs(d: Driver, b: Builder, gpus: GpuFact[]): Failure | null {
  const files = new Array<TmpfsFile>();
  const top: string[] = ["params", "version", "registry"];
  for (let i = 0; i < top.length; i++) {
    if (!d.procfs.has(top[i])) {
      b.warnings.push(PROC + "/" + top[i] + " not found; skipping");
      continue;
    }
    // The container must not recreate device files itself.
    const content = top[i] == "params" ? d.f.params.replace("ModifyDeviceFiles: 1", "ModifyDeviceFiles: 0") : null;
    files.push(tmpfsFile(top[i], PROC + "/" + top[i], content, 0o444));
  }
  for (let i = 0; i < gpus.length; i++) {
    const dir = procGpuDir(d, gpus[i].busId);
    if (dir.length == 0) return failure(Code.ProcfsMissing, "no `" + PROC + "/gpus/" + gpus[i].busId.substring(4) + "` for GPU " + gpus[i].index.toString() + " (" + gpus[i].busId + ")");
    // The GPU's directory itself, read-only, as the reference does: its files stay live (the
    // power state, the registry), and one bind costs less than copying them.
    b.procDirs.push(dir);
    b.bind(BindKind.Dir, PROC + "/" + dir, PROC + "/" + dir, procFlags());
  }
  for (let i = 0; i < b.procFiles.length; i++) files.push(b.procFiles[i]);
  const t = new TmpfsOp();
  t.path = PROC;
  t.mode = 0o555;
  t.mountFlags = procFlags();
  t.files = files;
  t.dirs = b.procDirs;
  b.tmpfs.unshift(Op.procfs(t));
  return null;
}

function cgroupPlan(version: CgroupVersion, rules: DeviceRule[]): Outcome<CgroupPlan> {
  const c = new CgroupPlan();
  if (version == CgroupVersion.V1) {
    for (let i = 0; i < rules.length; i++) c.rules.push(rules[i].kind + " " + rules[i].major.toString() + ":" + rules[i].minor.toString() + " " + rules[i].access);
  } else if (version == CgroupVersion.V2 && rules.length > 0) {
    const p = prologue(rules);
    if (p.failure !== null) return failed<CgroupPlan>(changetype<Failure>(p.failure));
    c.prologue = p.value;
  }
  return ok<CgroupPlan>(c);
}

/** Selection and requirements: the GPUs the container gets, or why not. */
export function selectAndCheck(inv: DriverFacts, inj: Injection): Outcome<Selection> {
  const s = select(inj.devices, inv.inventory);
  if (s.failure !== null) return s;
  const used = gpusOf(s.value);
  for (let r = 0; r < inj.requires.length; r++) {
    for (let i = 0; i < used.length; i++) {
      const g = inv.inventory.gpus[used[i]];
      const err = check(inj.requires[r], inv.inventory.cuda, inv.inventory.driver, g.arch, g.brand.toLowerCase());
      if (err !== null) return failed<Selection>(err);
    }
  }
  return s;
}

/**
 * plan(input). Selects the devices of the injection (see devices.ts; an empty list is the driver
 * alone), checks every requirement on each selected GPU (a MIG device checks its parent), and
 * lays out: the control nodes (nvidiactl; nvidia-uvm and -tools with compute or video;
 * nvidia-modeset with display), each selected GPU's node, its MIG capability nodes and access
 * files (or, with NVIDIA_MIG_CONFIG/MONITOR_DEVICES=all, the capability trees), IMEX channel
 * nodes; the libraries of the capabilities (utility, compute, ngx, video, graphics; compat32
 * adds the 32-bit ones) in the container's library directory, with SONAME links and
 * libcuda.so, libnvidia-opticalflow.so, libGLX_indirect.so.0; binaries in /usr/bin; GSP
 * firmware; IPC sockets and the MPS directory where their host paths resolve; a tmpfs at
 * /proc/driver/nvidia with params (ModifyDeviceFiles: 0), version, registry and the selected
 * GPUs' directories; with graphics or display, each whole GPU's DRM nodes and by-path links,
 * the driver's graphics files (graphics.ts) and the application profiles tmpfs; the ld.so.cache
 * entries; and the device cgroup's rules (v1) or eBPF prologue (v2).
 * Failures: unknown-device, bad-device-id, unsatisfied, bad-requirement, device-missing,
 * device-mismatch, mig-capability, imex-unsupported, procfs-missing.
 */
export function plan(input: PlanInput): Outcome<Plan> {
  return planWith(input, layoutOf(input.rootfs.debian, input.rootfs.lib32, input.arch));
}

/** The plan with the libraries in `layout`'s directories. */
export function planWith(input: PlanInput, layout: Layout): Outcome<Plan> {
  const inj = input.injection;
  const d = new Driver(input.driver);
  const s = selectAndCheck(input.driver, inj);
  if (s.failure !== null) return failed<Plan>(changetype<Failure>(s.failure));
  const sel = s.value;
  const used = gpusOf(sel);
  const gpus = new Array<GpuFact>();
  for (let i = 0; i < used.length; i++) gpus.push(input.driver.inventory.gpus[used[i]]);
  const b = new Builder();
  const caps = inj.caps;

  let err = controlNodes(d, b, caps);
  for (let i = 0; i < gpus.length && err === null; i++) err = required(d, b, "/dev/nvidia" + gpus[i].minor.toString(), NVIDIA_MAJOR, gpus[i].minor);
  // A whole GPU's DRM nodes with graphics or display (a MIG device has none to render with).
  if (graphicsLike(caps)) for (let i = 0; i < sel.gpus.length; i++) drmNodes(d, b, input.driver.inventory.gpus[sel.gpus[i]]);
  if (err === null) err = migCapabilities(d, b, inj, sel, used);
  if (err === null) err = imexChannels(d, b, inj.imex);
  if (err !== null) return failed<Plan>(changetype<Failure>(err));

  libraries(d, b, caps, layout);
  if (graphicsLike(caps)) graphicsFiles(d, b, layout.lib64);
  binaries(d, b, caps);
  firmware(d, b);
  ipcs(d, b, caps, inj);
  err = procfs(d, b, gpus);
  if (err !== null) return failed<Plan>(changetype<Failure>(err));
  if (graphicsLike(caps)) appProfile(b, gpus);

  const p = new Plan();
  for (let i = 0; i < used.length; i++) p.gpus.push(<u32>input.driver.inventory.gpus[used[i]].index);
  if (inj.noDevbind) for (let i = 0; i < b.devices.length; i++) changetype<DeviceOp>(b.devices[i].device).bind = false;
  // The tmpfs views first: later binds may land on directories they hold.
  p.ops = b.tmpfs.concat(b.devices).concat(b.binds).concat(b.links);
  if (b.cache.length > 0) {
    const l = new LdcacheOp();
    l.entries = b.cache;
    p.ops.push(Op.ldcache(l));
  }
  const rules = new Array<DeviceRule>();
  for (let i = 0; i < b.devices.length; i++) {
    const dv = changetype<DeviceOp>(b.devices[i].device);
    const r = new DeviceRule();
    r.kind = "c";
    r.major = dv.major;
    r.minor = dv.minor;
    r.access = "rw";
    rules.push(r);
  }
  for (let i = 0; i < b.rules.length; i++) rules.push(b.rules[i]);
  const cg = cgroupPlan(input.cgroup, rules);
  if (cg.failure !== null) return failed<Plan>(changetype<Failure>(cg.failure));
  p.cgroup = cg.value;
  p.warnings = b.warnings;
  return ok<Plan>(p);
}

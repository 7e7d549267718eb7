// CDI: specs generated from the driver, the runtime's in-memory edits (jit-cdi), and the edits
// of named devices merged from specs on disk. All built from the same plan as the hook's.
import {
  BindOp, Capability, CdiDevice, CdiOptions, GenerateMode, NodeFact, PathFact, CdiDeviceNode, CdiEdits, CdiHook, CdiInput, CdiMount, CdiRequest, CdiSpec, CdiSpecFile, Code, DeviceOp, Failure,
  Feature, FeatureInput, GpuFact, Injection, LdcacheOp, MountFlag, NameStrategy, Op, Outcome, PlanInput, SymlinkOp, TmpfsOp, ok,
} from "../build/out/gen/types";
import { select } from "./devices";
import { fail, failed, failure } from "./outcome";
import { binaries, Builder, Driver, firmware, ipcs, Layout, libraries, migKeys, planWith } from "./plan";
import { drmNodes, graphicsFiles } from "./graphics";
import { isQualified } from "./request";
import { basename, dirname, parseUint, under } from "./text";
import { CAPS_DIR, CTL, CUFILE, fileFlags, IMEX_DIR, MODESET, MOUNT_OPTION, UDEV, UVM, UVM_TOOLS } from "./vocabulary";

/** Hooks nvct writes carry this environment and no other: an image's LD_PRELOAD never reaches them. */
export const HOOK_ENV: string[] = ["NVIDIA_CTK_DEBUG=false"];
/** The hooks a generated spec may hold, in the order it holds them. */
export const HOOKS: string[] = ["create-symlinks", "enable-cuda-compat", "update-ldcache", "disable-device-node-modification", "update-application-profile", "chmod"];

/** A bind's CDI mount options: its flags' OCI options, then a private recursive bind. */
export function mountOptions(flags: MountFlag[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < flags.length; i++) out.push(MOUNT_OPTION[<i32>flags[i]]);
  out.push("rbind");
  out.push("rprivate");
  return out;
}

/** Which hooks are written: all but chmod, unless enabled or disabled by name (or `all`). */
export class HookChoice {
  constructor(public enabled: string[], public disabled: string[]) {}
  on(name: string): bool {
    if (this.enabled.includes(name)) return true;
    if (this.disabled.includes(name) || this.disabled.includes("all")) return false;
    return name != "chmod";
  }
}

/** The update-ldcache hook for these container folders (`--ldconfig-path` when one is given). */
export function ldcacheHook(path: string, ldconfigPath: string, folders: string[]): CdiHook {
  const args: string[] = ["update-ldcache"];
  if (ldconfigPath.length > 0) {
    args.push("--ldconfig-path");
    args.push(ldconfigPath);
  }
  for (let i = 0; i < folders.length; i++) {
    args.push("--folder");
    args.push(folders[i]);
  }
  return hook(path, args);
}

export function hook(path: string, args: string[]): CdiHook {
  const h = new CdiHook();
  h.hookName = "createContainer";
  h.path = path;
  const tool = basename(path);
  // nvidia-ctk runs the same hooks as a subcommand.
  h.args = tool == "nvidia-ctk" ? ["nvidia-ctk", "hook"].concat(args) : [tool].concat(args);
  h.env = HOOK_ENV;
  return h;
}

export function node(path: string, host: string): CdiDeviceNode {
  const n = new CdiDeviceNode();
  n.path = path;
  if (host != path) n.hostPath = host;
  return n;
}

/** A plan's operations as CDI edits: nodes, mounts, and the hooks that do the rest. */
export function editsOf(ops: Op[], hookPath: string, ldconfigPath: string, driverVersion: string, hooks: HookChoice): CdiEdits {
  const e = new CdiEdits();
  const links = new Array<string>();
  const folders = new Array<string>();
  let procfs = false;
  let profile = false;
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o.device !== null) {
      const d = changetype<DeviceOp>(o.device);
      e.deviceNodes.push(node(d.path, d.host));
    } else if (o.bind !== null) {
      const b = changetype<BindOp>(o.bind);
      // runc mounts nothing inside /proc: the procfs view is the hooks' (as the reference's specs).
      if (b.path.startsWith("/proc/")) continue;
      const m = new CdiMount();
      m.hostPath = b.host;
      m.containerPath = b.path;
      m.options = mountOptions(b.mountFlags);
      e.mounts.push(m);
    } else if (o.symlink !== null) {
      const s = changetype<SymlinkOp>(o.symlink);
      links.push("--link");
      links.push(s.target + "::" + s.dir + "/" + s.name);
    } else if (o.ldcache !== null) {
      const l = changetype<LdcacheOp>(o.ldcache);
      for (let k = 0; k < l.entries.length; k++) {
        const f = dirname(l.entries[k].path);
        if (!folders.includes(f)) folders.push(f);
      }
    } else if (o.procfs !== null) procfs = true;
    else if (o.tmpfs !== null && changetype<TmpfsOp>(o.tmpfs).path.endsWith("nvidia-application-profiles-rc.d")) profile = true;
  }
  if (links.length > 0 && hooks.on("create-symlinks")) e.hooks.push(hook(hookPath, ["create-symlinks"].concat(links)));
  if (driverVersion.length > 0 && driverVersion.indexOf("*") < 0 && hooks.on("enable-cuda-compat")) e.hooks.push(hook(hookPath, ["enable-cuda-compat", "--host-driver-version=" + driverVersion]));
  if (folders.length > 0 && hooks.on("update-ldcache")) e.hooks.push(ldcacheHook(hookPath, ldconfigPath, folders));
  if (procfs && hooks.on("disable-device-node-modification")) e.hooks.push(hook(hookPath, ["disable-device-node-modification"]));
  if (profile && hooks.on("update-application-profile")) e.hooks.push(hook(hookPath, ["update-application-profile"]));
  return e;
}

/** The host's own library directory for a width: where its first driver library resolves. */
function hostLibDir(d: Driver, bits: u8, dflt: string): string {
  for (let i = 0; i < d.f.libraries.length; i++) {
    const l = d.f.libraries[i];
    if (l.bits == bits && l.resolved.length > 0 && l.name.indexOf(".so.") > 0) return dirname(l.resolved);
  }
  return dflt;
}

/** Control nodes that exist (a spec is written for whatever the host has). */
function presentControlNodes(d: Driver, b: Builder): void {
  const paths: string[] = [CTL, UVM, UVM_TOOLS, MODESET];
  for (let i = 0; i < paths.length; i++) {
    const n = d.node(paths[i]);
    if (n !== null) b.device(n.path, paths[i], n.major, n.minor);
  }
}

function deviceNames(strategies: NameStrategy[], gpu: GpuFact, mig: i32): string[] {
  const out = new Array<string>();
  for (let i = 0; i < strategies.length; i++) {
    const s = strategies[i];
    let n = "";
    if (mig < 0) n = s == NameStrategy.Uuid ? gpu.uuid : s == NameStrategy.TypeIndex ? "gpu" + gpu.index.toString() : gpu.index.toString();
    else {
      const m = gpu.migs[mig];
      n = s == NameStrategy.Uuid ? m.uuid : (s == NameStrategy.TypeIndex ? "mig" : "") + gpu.index.toString() + ":" + m.index.toString();
    }
    if (!out.includes(n)) out.push(n);
  }
  return out;
}

/** A GPU's or MIG device's own nodes: its GPU node, and a MIG device's capability nodes. */
function deviceNodes(d: Driver, gpu: GpuFact, mig: i32): CdiDeviceNode[] {
  const out = new Array<CdiDeviceNode>();
  const path = "/dev/nvidia" + gpu.minor.toString();
  out.push(node(path, d.host(path)));
  if (mig >= 0) {
    const keys = migKeys(gpu, mig);
    for (let k = 0; k < keys.length; k++) {
      if (!d.migMinors.has(keys[k])) continue;
      const p = CAPS_DIR + "/nvidia-cap" + d.migMinors.get(keys[k]).toString();
      if (d.node(p) !== null) out.push(node(p, d.host(p)));
    }
  }
  return out;
}

/**
 * The smallest cdiVersion that allows what the spec uses: 0.7.0 additionalGids; 0.6.0 a class
 * with a dot; 0.5.0 a device name starting with a digit, a device node's hostPath; 0.4.0 a
 * mount's type; else 0.3.0.
 */
export function minimumVersion(s: CdiSpec): string {
  const edits = new Array<CdiEdits>();
  edits.push(s.edits);
  for (let i = 0; i < s.devices.length; i++) edits.push(s.devices[i].edits);
  let gids = false;
  let hostPath = false;
  let mountType = false;
  for (let i = 0; i < edits.length; i++) {
    if (edits[i].additionalGids.length > 0) gids = true;
    for (let k = 0; k < edits[i].deviceNodes.length; k++) if (edits[i].deviceNodes[k].hostPath !== null) hostPath = true;
    for (let k = 0; k < edits[i].mounts.length; k++) if (edits[i].mounts[k].kind !== null) mountType = true;
  }
  if (gids) return "0.7.0";
  const slash = s.kind.indexOf("/");
  if (slash >= 0 && s.kind.substring(slash + 1).indexOf(".") >= 0) return "0.6.0";
  let digit = false;
  for (let i = 0; i < s.devices.length; i++) {
    const c = s.devices[i].name.charCodeAt(0);
    if (c >= 0x30 && c <= 0x39) digit = true;
  }
  if (digit || hostPath) return "0.5.0";
  if (mountType) return "0.4.0";
  return "0.3.0";
}

/**
 * cdispec(input). A spec of kind vendor/class: a device per GPU and per MIG device, named by each
 * strategy (index `0` / `0:1`, uuid, type-index `gpu0` / `mig0:1`), holding its nodes; `all`
 * (unless no-all-device) with every device's nodes; device-ids `none`: one device `none` with no
 * nodes. Common edits: the control nodes that exist, every driver library (at the host's paths,
 * without the driver root), binary, firmware and IPC as mounts, the hooks (create-symlinks,
 * enable-cuda-compat, update-ldcache, disable-device-node-modification,
 * update-application-profile; chmod only when enabled), env NVIDIA_CTK_LIBCUDA_DIR and
 * NVIDIA_VISIBLE_DEVICES=void. cdiVersion: the minimum the content needs.
 * Failures: bad-device-id, unknown-device.
 */
export function cdispec(input: CdiInput): Outcome<CdiSpec> {
  const o = input.options;
  if (o.mode == GenerateMode.Management) return managementSpec(input);
  if (o.mode == GenerateMode.Imex) return imexSpec(input);
  if (o.mode != GenerateMode.Nvml) return featureSpec(input);
  const d = new Driver(input.driver);
  const inv = input.driver.inventory;
  const spec = new CdiSpec();
  spec.kind = o.vendor + "/" + o.class;
  const choice = new HookChoice(o.enabledHooks, o.disabledHooks);
  const strategies = o.strategies.length > 0 ? o.strategies : [NameStrategy.Index];
  const ids = o.deviceIds.length > 0 ? o.deviceIds : ["all"];
  let noAll = o.noAllDevice;
  if (ids.includes("none")) {
    const none = new CdiDevice();
    none.name = "none";
    none.edits.env = ["NVCT_EMPTY_DEVICE="];
    spec.devices.push(none);
    noAll = true;
  } else {
    const s = select(ids, inv);
    if (s.failure !== null) return failed<CdiSpec>(changetype<Failure>(s.failure));
    const allNodes = new Array<CdiDeviceNode>();
    const seen = new Set<string>();
    // Every whole GPU's DRM by-path links, for the `all` device's one create-symlinks hook.
    const allDrm = new Builder();
    // Every selected GPU, each followed by its selected MIG devices.
    for (let g = 0; g < inv.gpus.length; g++) {
      const gpu = inv.gpus[g];
      const entries = new Array<i32>();
      if (s.value.gpus.includes(g)) entries.push(-1);
      for (let k = 0; k < s.value.migs.length; k++) if (s.value.migs[k][0] == g) entries.push(s.value.migs[k][1]);
      for (let k = 0; k < entries.length; k++) {
        let nodes = deviceNodes(d, gpu, entries[k]);
        // A whole GPU's DRM nodes, and the hook that makes its by-path links.
        let hooks = new Array<CdiHook>();
        if (entries[k] < 0) {
          const drm = new Builder();
          drmNodes(d, drm, gpu);
          drmNodes(d, allDrm, gpu);
          const e = editsOf(drm.devices.concat(drm.links), o.hookPath, "", "", choice);
          nodes = nodes.concat(e.deviceNodes);
          hooks = e.hooks;
        }
        const names = deviceNames(strategies, gpu, entries[k]);
        for (let n = 0; n < names.length; n++) {
          const dev = new CdiDevice();
          dev.name = names[n];
          dev.edits.deviceNodes = nodes;
          dev.edits.hooks = hooks;
          spec.devices.push(dev);
        }
        for (let n = 0; n < nodes.length; n++) {
          if (seen.has(nodes[n].path)) continue;
          seen.add(nodes[n].path);
          allNodes.push(nodes[n]);
        }
      }
    }
    if (!noAll) {
      const all = new CdiDevice();
      all.name = "all";
      all.edits.deviceNodes = allNodes;
      all.edits.hooks = editsOf(allDrm.links, o.hookPath, "", "", choice).hooks;
      spec.devices.push(all);
    }
  }
  // The libraries stay where the host keeps them, as the reference's do.
  const b = new Builder();
  presentControlNodes(d, b);
  const layout = new Layout(hostLibDir(d, 64, "/usr/lib/x86_64-linux-gnu"), hostLibDir(d, 32, "/usr/lib/i386-linux-gnu"));
  const every: Capability[] = [Capability.Compat32, Capability.Compute, Capability.Display, Capability.Graphics, Capability.Ngx, Capability.Utility, Capability.Video];
  libraries(d, b, every, layout);
  // The graphics files in every spec, as the newest toolkit writes them.
  graphicsFiles(d, b, layout.lib64);
  binaries(d, b, every);
  firmware(d, b);
  ipcs(d, b, every, new Injection());
  const ops = b.devices.concat(b.binds).concat(b.links);
  const cache = new LdcacheOp();
  cache.entries = b.cache;
  ops.push(Op.ldcache(cache));
  ops.push(Op.procfs(new TmpfsOp()));
  const profile = new TmpfsOp();
  profile.path = "/etc/nvidia/nvidia-application-profiles-rc.d";
  ops.push(Op.tmpfs(profile));
  spec.edits = editsOf(ops, o.hookPath, o.ldconfigPath, inv.driver, choice);
  const dirs = new Array<string>();
  for (let i = 0; i < b.cache.length; i++) {
    const dir = dirname(b.cache[i].path);
    if (b.cache[i].bits == 64 && !dirs.includes(dir)) dirs.push(dir);
  }
  spec.edits.env = ["NVIDIA_CTK_LIBCUDA_DIR=" + dirs.join(":"), "NVIDIA_VISIBLE_DEVICES=void"];
  spec.version = minimumVersion(spec);
  return ok<CdiSpec>(spec);
}

/** A spec of one device `all` (the modes that name no devices of their own), env NVIDIA_VISIBLE_DEVICES=void. */
function singleDeviceSpec(o: CdiOptions, edits: CdiEdits, common: CdiEdits): CdiSpec {
  const spec = new CdiSpec();
  spec.kind = o.vendor + "/" + o.class;
  const all = new CdiDevice();
  all.name = "all";
  all.edits = edits;
  spec.devices.push(all);
  spec.edits = common;
  spec.edits.env.push("NVIDIA_VISIBLE_DEVICES=void");
  spec.version = minimumVersion(spec);
  return spec;
}

/**
 * management: one device `all` with every NVIDIA node the host has (GPUs, control nodes, MIG
 * capabilities, IMEX channels; not GDS's, NVSwitch's or NVLink's), for monitoring tools; the
 * driver's libraries, binaries, firmware and IPC, its hooks but disable-device-node-modification.
 */
function managementSpec(input: CdiInput): Outcome<CdiSpec> {
  const o = input.options;
  const d = new Driver(input.driver);
  const edits = new CdiEdits();
  const paths = d.nodes.keys();
  paths.sort();
  for (let i = 0; i < paths.length; i++) {
    const p = paths[i];
    const name = basename(p);
    const wanted = (p.startsWith("/dev/nvidia") && dirname(p) == "/dev") || p.startsWith(CAPS_DIR + "/nvidia-cap") || p.startsWith(IMEX_DIR + "/channel");
    if (!wanted || name.startsWith("nvidia-fs") || name.startsWith("nvidia-nvswitch") || name.startsWith("nvidia-nvlink")) continue;
    edits.deviceNodes.push(node(p, d.node(p)!.path));
  }
  if (edits.deviceNodes.length == 0) return fail<CdiSpec>(Code.DeviceMissing, "no NVIDIA device nodes found");
  const choice = new HookChoice(o.enabledHooks, o.disabledHooks.concat(["disable-device-node-modification"]));
  if (choice.on("chmod")) {
    const dirs = new Array<string>();
    for (let i = 0; i < edits.deviceNodes.length; i++) {
      const dir = dirname(edits.deviceNodes[i].path);
      if (dir != "/dev" && !dirs.includes(dir)) dirs.push(dir);
    }
    const args = ["chmod", "--mode", "755"];
    for (let i = 0; i < dirs.length; i++) args.push("--path=" + dirs[i]);
    if (dirs.length > 0) edits.hooks.push(hook(o.hookPath, args));
  }
  const b = new Builder();
  const layout = new Layout(hostLibDir(d, 64, "/usr/lib/x86_64-linux-gnu"), hostLibDir(d, 32, "/usr/lib/i386-linux-gnu"));
  const every: Capability[] = [Capability.Compat32, Capability.Compute, Capability.Ngx, Capability.Utility, Capability.Video, Capability.Graphics];
  libraries(d, b, every, layout);
  binaries(d, b, every);
  firmware(d, b);
  ipcs(d, b, every, new Injection());
  const ops = b.binds.concat(b.links);
  const cache = new LdcacheOp();
  cache.entries = b.cache;
  ops.push(Op.ldcache(cache));
  return ok<CdiSpec>(singleDeviceSpec(o, edits, editsOf(ops, o.hookPath, o.ldconfigPath, input.driver.inventory.driver, choice)));
}

/** imex: a device per IMEX channel named by its number (`all`: every channel the host has), and `all`. */
function imexSpec(input: CdiInput): Outcome<CdiSpec> {
  const o = input.options;
  const d = new Driver(input.driver);
  const spec = new CdiSpec();
  spec.kind = o.vendor + "/" + o.class;
  const ids = o.deviceIds.length > 0 ? o.deviceIds : ["all"];
  const channels = new Array<string>();
  if (ids.includes("all")) {
    const paths = d.nodes.keys();
    for (let i = 0; i < paths.length; i++) if (paths[i].startsWith(IMEX_DIR + "/channel")) channels.push(paths[i].substring(IMEX_DIR.length + 8));
    // By number, as the channels are.
    channels.sort((a: string, b: string): i32 => <i32>(parseUint(a) - parseUint(b)));
  } else {
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i].startsWith("channel") ? ids[i].substring(7) : ids[i];
      const n = parseUint(id);
      if (n < 0 || n > 1048575) return fail<CdiSpec>(Code.BadImexChannel, "invalid channel ID `" + ids[i] + "`: must be a number in the range [0, 1048575]");
      if (d.node(IMEX_DIR + "/channel" + id) === null) return fail<CdiSpec>(Code.DeviceMissing, "IMEX channel " + id + " not found at " + d.host(IMEX_DIR + "/channel" + id));
      if (!channels.includes(id)) channels.push(id);
    }
  }
  const all = new CdiDevice();
  all.name = "all";
  for (let i = 0; i < channels.length; i++) {
    const p = IMEX_DIR + "/channel" + channels[i];
    const dev = new CdiDevice();
    dev.name = channels[i];
    dev.edits.deviceNodes.push(node(p, d.host(p)));
    spec.devices.push(dev);
    all.edits.deviceNodes.push(node(p, d.host(p)));
  }
  if (!o.noAllDevice && channels.length > 0) spec.devices.push(all);
  spec.edits.env = ["NVIDIA_VISIBLE_DEVICES=void"];
  spec.version = minimumVersion(spec);
  return ok<CdiSpec>(spec);
}

/** gds, mofed, nvswitch, gdrcopy: one device `all` with the feature's nodes (and GDS's files). */
function featureSpec(input: CdiInput): Outcome<CdiSpec> {
  const o = input.options;
  const f = o.mode == GenerateMode.Gds ? Feature.Gds : o.mode == GenerateMode.Mofed ? Feature.Mofed : o.mode == GenerateMode.Nvswitch ? Feature.Nvswitch : Feature.Gdrcopy;
  const e = featureEdits([f], input.driver.root, input.driver.devRoot, input.driver.nodes, input.driver.files);
  return ok<CdiSpec>(singleDeviceSpec(o, e, new CdiEdits()));
}

/**
 * jitedits(input, hook-path). The plan of the injection as CDI edits (nodes and mounts; links,
 * the ld.so.cache, procfs and the application profile as the hooks that make them), for the
 * runtime to write into the container's spec. Failures: those of plan.
 */
export function jitedits(input: PlanInput, hookPath: string): Outcome<CdiEdits> {
  // As in a generated spec, the libraries stay where the host keeps them.
  const d = new Driver(input.driver);
  const p = planWith(input, new Layout(hostLibDir(d, 64, "/usr/lib/x86_64-linux-gnu"), hostLibDir(d, 32, "/usr/lib/i386-linux-gnu")));
  if (p.failure !== null) return failed<CdiEdits>(changetype<Failure>(p.failure));
  const e = editsOf(p.value.ops, hookPath, "", input.driver.inventory.driver, new HookChoice([], []));
  // The devices are in the spec now: a hook that reads the env must not inject them again.
  e.env = ["NVIDIA_VISIBLE_DEVICES=void"];
  return ok<CdiEdits>(e);
}

function envKey(e: string): string {
  const eq = e.indexOf("=");
  return eq < 0 ? e : e.substring(0, eq);
}

/**
 * Adds edits to merged ones: nodes by path, mounts by container path, hooks once. The env is
 * collected whole and settled by settleEnv once all edits are in.
 */
function merge(into: CdiEdits, e: CdiEdits, seen: Set<string>, gids: Set<u32>): void {
  for (let i = 0; i < e.env.length; i++) into.env.push(e.env[i]);
  for (let i = 0; i < e.deviceNodes.length; i++) {
    const key = "dev:" + e.deviceNodes[i].path;
    if (seen.has(key)) continue;
    seen.add(key);
    into.deviceNodes.push(e.deviceNodes[i]);
  }
  for (let i = 0; i < e.mounts.length; i++) {
    const key = "mount:" + e.mounts[i].containerPath;
    if (seen.has(key)) continue;
    seen.add(key);
    into.mounts.push(e.mounts[i]);
  }
  for (let i = 0; i < e.hooks.length; i++) {
    const h = e.hooks[i];
    const key = "hook:" + h.hookName + "\n" + h.path + "\n" + h.args.join("\n");
    if (seen.has(key)) continue;
    seen.add(key);
    into.hooks.push(h);
  }
  for (let i = 0; i < e.additionalGids.length; i++) {
    if (gids.has(e.additionalGids[i])) continue;
    gids.add(e.additionalGids[i]);
    into.additionalGids.push(e.additionalGids[i]);
  }
}

/** The env by name, the later entry winning in the later one's place; one pass, however long. */
function settleEnv(env: string[]): string[] {
  const keys = new Set<string>();
  const kept = new Array<string>();
  for (let i = env.length - 1; i >= 0; i--) {
    const k = envKey(env[i]);
    if (keys.has(k)) continue;
    keys.add(k);
    kept.push(env[i]);
  }
  return kept.reverse();
}

const HOOK_NAMES: string[] = ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"];

/** A path with a `..` component: in a container's view, it may point above the root. */
function climbs(p: string): bool {
  const parts = p.split("/");
  return parts.includes("..");
}

function checkSpec(f: CdiSpecFile): Failure | null {
  const all = new Array<CdiEdits>();
  all.push(f.spec.edits);
  for (let i = 0; i < f.spec.devices.length; i++) all.push(f.spec.devices[i].edits);
  for (let i = 0; i < all.length; i++) {
    for (let k = 0; k < all[i].hooks.length; k++) {
      if (!HOOK_NAMES.includes(all[i].hooks[k].hookName)) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: hook with unknown hookName `" + all[i].hooks[k].hookName + "`");
    }
    for (let k = 0; k < all[i].deviceNodes.length; k++) {
      const n = all[i].deviceNodes[k];
      if (!n.path.startsWith("/")) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: device node path `" + n.path + "` is not absolute");
      if (climbs(n.path)) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: device node path `" + n.path + "` leaves the container's root");
      if (n.hostPath !== null && !changetype<string>(n.hostPath).startsWith("/")) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: device node host path `" + changetype<string>(n.hostPath) + "` is not absolute");
      if (n.kind !== null) {
        const t = changetype<string>(n.kind);
        if (t != "c" && t != "b" && t != "u" && t != "p") return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: device node `" + n.path + "` has invalid type `" + t + "`");
      }
    }
    for (let k = 0; k < all[i].mounts.length; k++) {
      const m = all[i].mounts[k];
      if (!m.containerPath.startsWith("/")) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: mount path `" + m.containerPath + "` is not absolute");
      if (climbs(m.containerPath)) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: mount path `" + m.containerPath + "` leaves the container's root");
      // A bind's relative host path would be taken relative to whatever directory the runtime runs in.
      const bind = m.kind === null || changetype<string>(m.kind) == "bind";
      if (bind && !m.hostPath.startsWith("/")) return failure(Code.BadCdiSpec, "CDI spec `" + f.file + "`: mount host path `" + m.hostPath + "` is not absolute");
    }
  }
  return null;
}

/**
 * cdiedits(request). Each name (qualified `vendor/class=name`, or bare with default-kind
 * prepended) resolves to the device of that kind in the specs (a later spec wins); the edits are
 * each used spec's common edits, once, and each device's, merged without duplicates.
 * Failures: bad-cdi-name, unresolvable-cdi-device, bad-cdi-spec.
 */
export function cdiedits(r: CdiRequest): Outcome<CdiEdits> {
  const out = new CdiEdits();
  const seen = new Set<string>();
  const gids = new Set<u32>();
  const used = new Set<i32>();
  // Every device of every spec by its qualified name, once (a later spec wins).
  const index = new Map<string, i64>();
  for (let s = 0; s < r.specs.length; s++) {
    const spec = r.specs[s].spec;
    for (let k = 0; k < spec.devices.length; k++) index.set(spec.kind + "=" + spec.devices[k].name, (<i64>s << 32) | <i64>k);
  }
  const devicesUsed = new Set<i64>();
  for (let i = 0; i < r.names.length; i++) {
    const name = isQualified(r.names[i]) ? r.names[i] : r.defaultKind + "=" + r.names[i];
    if (!isQualified(name)) return fail<CdiEdits>(Code.BadCdiName, "invalid CDI device name `" + r.names[i] + "`: want vendor.com/class=name");
    if (!index.has(name)) return fail<CdiEdits>(Code.UnresolvableCdiDevice, "unresolvable CDI device `" + name + "`");
    const at = index.get(name);
    // A device named twice is applied once.
    if (devicesUsed.has(at)) continue;
    devicesUsed.add(at);
    const found = <i32>(at >> 32);
    const foundDev = <i32>(at & 0xffffffff);
    const f = r.specs[found];
    if (!used.has(found)) {
      const bad = checkSpec(f);
      if (bad !== null) return failed<CdiEdits>(bad);
      used.add(found);
      merge(out, f.spec.edits, seen, gids);
    }
    merge(out, f.spec.devices[foundDev].edits, seen, gids);
  }
  out.env = settleEnv(out.env);
  return ok<CdiEdits>(out);
}


/**
 * featureedits(input). Per feature, the host's nodes it brings, as CDI device nodes: gds
 * /dev/nvidia-fs*, with /etc/cufile.json and /run/udev mounted (ro, nosuid, nodev) when there is
 * such a node; mofed /dev/infiniband/uverbs* and /dev/infiniband/rdma_cm; nvswitch
 * /dev/nvidia-nvswitchctl and /dev/nvidia-nvswitch*; gdrcopy /dev/gdrdrv. A feature whose
 * nodes are missing brings nothing.
 */
export function featureedits(input: FeatureInput): Outcome<CdiEdits> {
  return ok<CdiEdits>(featureEdits(input.features, input.root, input.devRoot, input.nodes, input.files));
}

/** The nodes (and GDS's files) of features, from the host's nodes under a dev root and its files under a root. */
function featureEdits(features: Feature[], root: string, devRootIn: string, nodes: NodeFact[], files: PathFact[]): CdiEdits {
  const e = new CdiEdits();
  let d = devRootIn;
  while (d.length > 1 && d.endsWith("/")) d = d.substring(0, d.length - 1);
  const devRoot = d == "/" ? "" : d;
  const paths = new Array<string>();
  for (let i = 0; i < nodes.length; i++) {
    const p = nodes[i].path;
    paths.push(devRoot.length > 0 && p.startsWith(devRoot + "/") ? p.substring(devRoot.length) : p);
  }
  for (let f = 0; f < features.length; f++) {
    const feature = features[f];
    const found = new Array<i32>();
    for (let i = 0; i < paths.length; i++) {
      const p = paths[i];
      let hit = false;
      if (feature == Feature.Gds) hit = p.startsWith("/dev/nvidia-fs");
      else if (feature == Feature.Mofed) hit = p.startsWith("/dev/infiniband/uverbs") || p == "/dev/infiniband/rdma_cm";
      else if (feature == Feature.Nvswitch) hit = p.startsWith("/dev/nvidia-nvswitch");
      else if (feature == Feature.Gdrcopy) hit = p == "/dev/gdrdrv";
      if (hit) found.push(i);
    }
    for (let k = 0; k < found.length; k++) e.deviceNodes.push(node(paths[found[k]], nodes[found[k]].path));
    if (feature == Feature.Gds && found.length > 0) {
      for (let i = 0; i < files.length; i++) {
        const fp = files[i];
        if (fp.path != CUFILE && fp.path != UDEV) continue;
        const m = new CdiMount();
        m.hostPath = under(root, fp.resolved);
        m.containerPath = fp.path;
        m.options = mountOptions(fileFlags());
        e.mounts.push(m);
      }
    }
  }
  return e;
}

// What each nvidia-cdi-hook does, decided from its arguments and what it found in the container
// and the host. The host applies the operations inside the container's root.
import { ChmodOp, Code, FileOp, HookInput, LdcacheOp, MaskOp, MountFlag, Op, Outcome, SymlinkOp, TmpfsFile, TmpfsOp, ok } from "../build/out/gen/types";
import { fail } from "./outcome";
import { basename, dirname, lines, parseUint } from "./text";
import { APP_PROFILES } from "./vocabulary";

function compatMajor(name: string): i64 {
  // libcuda.so.<major>.<minor>[.<patch>]
  if (!name.startsWith("libcuda.so.")) return -1;
  const parts = name.substring(11).split(".");
  if (parts.length < 2) return -1;
  for (let i = 0; i < parts.length; i++) if (parseUint(parts[i]) < 0) return -1;
  return parseUint(parts[0]);
}

function majorOf(version: string): i64 {
  const dot = version.indexOf(".");
  return parseUint(dot < 0 ? version : version.substring(0, dot));
}

/**
 * cdihook(input). create-symlinks: `--link TARGET::LINK` (LINK absolute; a duplicate once) makes
 * LINK point at TARGET, replacing what is there. update-ldcache: the folders' libraries (then
 * those of the folders 00-compat-*.conf name, which win) into /etc/ld.so.cache. chmod: `--mode`
 * (octal) on each `--path`. enable-cuda-compat: when the container's compat directory holds
 * exactly one libcuda.so.X.Y and X is newer than the host driver's major, a
 * /etc/ld.so.conf.d/00-compat-<id>.conf naming the directory. disable-device-node-modification:
 * /proc/driver/nvidia/params shown with `ModifyDeviceFiles: 0` when the driver says 1.
 * update-application-profile: the EGL application profile naming the container's GPUs.
 * Failures: bad-hook-argument naming the argument.
 */
export function cdihook(h: HookInput): Outcome<Op[]> {
  const ops = new Array<Op>();
  const n = h.name;
  if (n == "create-symlinks") {
    const seen = new Array<string>();
    for (let i = 0; i < h.links.length; i++) {
      const l = h.links[i];
      const parts = l.split("::");
      if (parts.length != 2 || parts[0].length == 0 || !parts[1].startsWith("/") || parts[1].length < 2) {
        return fail<Op[]>(Code.BadHookArgument, "invalid --link `" + l + "`: want TARGET::/ABSOLUTE/LINK");
      }
      if (seen.includes(l)) continue;
      seen.push(l);
      const s = new SymlinkOp();
      s.dir = dirname(parts[1]);
      s.name = basename(parts[1]);
      s.target = parts[0];
      s.keepFile = false;
      ops.push(Op.symlink(s));
    }
  } else if (n == "update-ldcache") {
    const l = new LdcacheOp();
    for (let i = 0; i < h.folders.length; i++) {
      if (!h.folders[i].startsWith("/")) return fail<Op[]>(Code.BadHookArgument, "invalid --folder `" + h.folders[i] + "`: want an absolute container path");
      if (!l.folders.includes(h.folders[i])) l.folders.push(h.folders[i]);
    }
    // A compat directory enable-cuda-compat named comes last: its libcuda wins.
    for (let i = 0; i < h.compatFolders.length; i++) if (h.compatFolders[i].startsWith("/") && !l.folders.includes(h.compatFolders[i])) l.folders.push(h.compatFolders[i]);
    ops.push(Op.ldcache(l));
  } else if (n == "chmod") {
    if (h.mode.length == 0) return fail<Op[]>(Code.BadHookArgument, "chmod: a non-empty --mode must be specified");
    let mode: u32 = 0;
    for (let i = 0; i < h.mode.length; i++) {
      const c = h.mode.charCodeAt(i);
      if (c < 0x30 || c > 0x37 || i >= 4) return fail<Op[]>(Code.BadHookArgument, "invalid --mode `" + h.mode + "`: want octal");
      mode = mode * 8 + <u32>(c - 0x30);
    }
    if (h.paths.length == 0) return fail<Op[]>(Code.BadHookArgument, "chmod: missing --path");
    for (let i = 0; i < h.paths.length; i++) {
      if (!h.paths[i].startsWith("/")) return fail<Op[]>(Code.BadHookArgument, "invalid --path `" + h.paths[i] + "`: want an absolute container path");
      const c = new ChmodOp();
      c.path = h.paths[i];
      c.mode = mode;
      ops.push(Op.chmod(c));
    }
  } else if (n == "enable-cuda-compat") {
    const root = h.compatRoot.length > 0 ? h.compatRoot : "/usr/local/cuda/compat";
    if (!root.startsWith("/")) return fail<Op[]>(Code.BadHookArgument, "invalid --cuda-compat-container-root `" + root + "`: want an absolute container path");
    const host = majorOf(h.hostDriverVersion);
    const libs = new Array<string>();
    for (let i = 0; i < h.compatFiles.length; i++) if (compatMajor(h.compatFiles[i]) >= 0) libs.push(h.compatFiles[i]);
    if (host >= 0 && libs.length == 1 && compatMajor(libs[0]) > host) {
      const f = new FileOp();
      f.path = "/etc/ld.so.conf.d/00-compat-" + h.unique + ".conf";
      f.content = root + "\n";
      f.mode = 0o644;
      ops.push(Op.file(f));
    }
  } else if (n == "disable-device-node-modification") {
    const ls = lines(h.params);
    let change = false;
    for (let i = 0; i < ls.length; i++) {
      if (ls[i] == "ModifyDeviceFiles: 1") {
        ls[i] = "ModifyDeviceFiles: 0";
        change = true;
      }
    }
    if (change) {
      const m = new MaskOp();
      m.path = "/proc/driver/nvidia/params";
      m.content = ls.join("\n") + "\n";
      m.mountFlags = [MountFlag.Ro, MountFlag.Nosuid, MountFlag.Nodev];
      ops.push(Op.mask(m));
    }
  } else if (n == "update-application-profile") {
    let mask: u64 = 0;
    for (let i = 0; i < h.gpuMinors.length; i++) if (h.gpuMinors[i] < 64) mask |= (<u64>1) << <u64>h.gpuMinors[i];
    if (mask != 0) {
      const t = new TmpfsOp();
      t.path = APP_PROFILES;
      t.mode = 0o555;
      t.mountFlags = [MountFlag.Nosuid, MountFlag.Nodev, MountFlag.Noexec];
      const f = new TmpfsFile();
      f.path = "10-container.conf";
      f.mode = 0o444;
      const hi = <u32>(mask >> 32);
      const hex = hi == 0 ? (<u32>mask).toString(16) : hi.toString(16) + (<u32>(mask & 0xffffffff)).toString(16).padStart(8, "0");
      f.content = '{"profiles":[{"name":"_container_","settings":["EGLVisibleDGPUDevices",0x' + hex + ']}],"rules":[{"pattern":[],"profile":"_container_"}]}';
      t.files.push(f);
      ops.push(Op.tmpfs(t));
    }
  } else if (n != "noop") {
    return fail<Op[]>(Code.BadHookArgument, "unknown hook `" + n + "`");
  }
  return ok<Op[]>(ops);
}

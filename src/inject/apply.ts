// Executes a plan inside the container's mount namespace. Every container path is resolved under
// the rootfs with openat2(RESOLVE_IN_ROOT), mounts are made detached (open_tree / fsmount), given
// their flags, then moved onto the resolved descriptor: a symlink in the image can never make a
// mount, a node or a file land outside the rootfs. On any failure, what was done is undone.
import { chmodSync, closeSync, fstatSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { writeLdCache, type PlanOp } from "../core";
import type { DeviceCgroup } from "../discover/container";
import { allowDevicesV2 } from "./devcg2";
import { NvctError } from "../errors";
import {
  AT_REMOVEDIR, CLONE_FS, CLONE_NEWNS, MNT_DETACH, MOUNT_ATTRS, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH,
  O_NOCTTY, O_NONBLOCK, O_RDONLY, O_WRONLY, PROC_SUPER_MAGIC, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SYSFS_MAGIC, SysError,
  type Libc,
} from "../sys/libc";

export interface ApplyContext {
  /** The container's pid, whose mount namespace to enter; null when already in it (CDI hooks). */
  pid: number | null;
  /** The rootfs as a host path (before pivot_root the container's namespace sees it there too). */
  rootfs: string;
  /** The container's device cgroup, or null when no device rule is to be written. */
  cgroup: DeviceCgroup | null;
  /** Contents of the files the procfs op lists, read in the host before entering the container. */
  procContents: Map<string, Uint8Array>;
  log?: (msg: string, data?: unknown) => void;
}

const RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

function attrs(flags: string[]): number {
  let a = 0;
  for (const f of flags) {
    const bit = MOUNT_ATTRS[f];
    if (bit === undefined) throw new NvctError("plan", `unknown mount flag \`${f}\``);
    a |= bit;
  }
  return a;
}

const rel = (p: string) => p.split("/").filter((c) => c && c !== ".").join("/");

const MAX_LDCACHE = 64 << 20;

/**
 * Up to `max` bytes of a regular file found through an O_PATH fd, or null for anything else. An
 * image decides what its paths are: a FIFO would block the open, /dev/zero would never end, a
 * device node could be a host disk. The file is reopened through the fd, never by path.
 */
export function readRegular(fd: number | null, max: number, prefix = Infinity): Uint8Array | null {
  if (fd === null) return null;
  const st = fstatSync(fd);
  if (!st.isFile() || st.size > max) return null;
  const f = openSync(`/proc/self/fd/${fd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY);
  try {
    const again = fstatSync(f);
    if (again.ino !== st.ino || again.dev !== st.dev) return null;
    const buf = new Uint8Array(Math.min(st.size, max, prefix));
    let n = 0;
    while (n < buf.length) {
      const r = readSync(f, buf, n, buf.length - n, n);
      if (r <= 0) break;
      n += r;
    }
    return buf.subarray(0, n);
  } finally {
    closeSync(f);
  }
}

/** 32 or 64 from the ELF header of a regular file, or 0 when it is not one. */
function elfClass(fd: number | null): 32 | 64 | 0 {
  const h = readRegular(fd, 1 << 30, 5);
  if (!h || h.length < 5 || h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return 0;
  return h[4] === 1 ? 32 : h[4] === 2 ? 64 : 0;
}

/** Runs the plan; throws NvctError `mount` (with the cause) after undoing every step done. */
export function apply(ops: PlanOp[], ctx: ApplyContext, sys: Libc): void {
  const undo: (() => void)[] = [];
  const fds: number[] = [];
  const log = ctx.log ?? (() => {});
  const keep = (fd: number) => (fds.push(fd), fd);

  const lookup = (root: number, path: string, flags: number): number | null => {
    try {
      // RESOLVE_IN_ROOT reads an absolute path from the rootfs, which keeps messages readable.
      return keep(sys.openat2(root, "/" + rel(path), flags, 0, RESOLVE));
    } catch (e) {
      if (e instanceof SysError && e.errno === 2) return null;
      throw e;
    }
  };

  // Directories resolved once per plan: most files share a handful of them.
  const dirs = new Map<string, number>();
  const ensureDir = (root: number, path: string): number => {
    const parts = rel(path).split("/").filter(Boolean);
    let fd = root;
    for (let i = 0; i < parts.length; i++) {
      const sub = parts.slice(0, i + 1).join("/");
      const known = dirs.get(sub);
      if (known !== undefined) {
        fd = known;
        continue;
      }
      let next = lookup(root, sub, O_PATH | O_DIRECTORY);
      if (next === null) {
        try {
          sys.mkdirat(fd, parts[i], 0o755);
        } catch (e) {
          // Not found, yet there: a symlink whose target is missing inside the container.
          if (e instanceof SysError && e.errno === 17) throw new NvctError("mount", `\`/${sub}\` is a symlink that leads nowhere inside the container`);
          throw e;
        }
        const parent = fd;
        const name = parts[i];
        undo.push(() => sys.unlinkat(parent, name, AT_REMOVEDIR));
        next = keep(sys.openat2(root, "/" + sub, O_PATH | O_DIRECTORY, 0, RESOLVE));
      }
      dirs.set(sub, next);
      fd = next;
    }
    return fd;
  };

  // Nothing is created, replaced or mounted in the kernel's own filesystems: an image's symlink
  // into the container's /proc or /sys must not reach runc's or the kernel's files.
  const checked = new Set<number>();
  const notKernelFs = (dir: number, path: string) => {
    if (checked.has(dir)) return; // one statfs per directory: most files share a few
    checked.add(dir);
    const t = sys.fsType(dir, path);
    if (t === PROC_SUPER_MAGIC || t === SYSFS_MAGIC) throw new NvctError("mount", `refusing \`${path}\`: it resolves into /proc or /sys`);
  };

  /** The entry `name` of dir as lstat sees it (no link followed), or null. */
  const entry = (dir: number, name: string) => {
    try {
      return lstatSync(`/proc/self/fd/${dir}/${name}`);
    } catch {
      return null;
    }
  };

  const ensureFile = (root: number, path: string): number => {
    const parts = rel(path).split("/");
    const name = parts.pop()!;
    const dir = ensureDir(root, parts.join("/"));
    notKernelFs(dir, path);
    const st = entry(dir, name);
    if (st?.isSymbolicLink()) {
      // Never follow an image's symlink to a mount target: replace it, and put it back on undo.
      const target = readlinkSync(`/proc/self/fd/${dir}/${name}`);
      sys.unlinkat(dir, name, 0);
      undo.push(() => sys.symlinkat(target, dir, name));
    } else if (st) {
      return keep(sys.openat(dir, name, O_PATH | O_NOFOLLOW, 0));
    }
    closeSync(sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644));
    undo.push(() => sys.unlinkat(dir, name, 0));
    return keep(sys.openat(dir, name, O_PATH | O_NOFOLLOW, 0));
  };

  const attach = (tree: number, target: number, what: string) => {
    sys.moveMount(tree, target, what);
    undo.push(() => sys.umount(`/proc/self/fd/${tree}`, MNT_DETACH));
  };

  try {
    // Device cgroup rules first, from the host's view of cgroupfs.
    const cg = ctx.cgroup;
    const rules = ops.flatMap((op) => (op.op === "device" ? [{ type: "c" as const, major: op.major, minor: op.minor, access: "rw" }] : []));
    if (cg?.version === 1 && rules.length > 0) {
      // Opened before setns: the undo writes through these, whatever namespace it runs in.
      const allow = keep(openSync(join(cg.dir, "devices.allow"), "w"));
      const deny = keep(openSync(join(cg.dir, "devices.deny"), "w"));
      for (const r of rules) {
        const rule = `c ${r.major}:${r.minor} rw`;
        writeSync(allow, rule);
        undo.push(() => void writeSync(deny, rule));
        log("cgroup allow", rule);
      }
    } else if (cg?.version === 2 && rules.length > 0) {
      undo.push(allowDevicesV2(sys, cg.dir, rules, (m) => log("warning", m)));
      log("cgroup v2 device program", rules);
    }

    // Only this thread moves; after this point only synchronous fs calls and FFI are used.
    if (ctx.pid !== null) {
      const ns = keep(sys.open(`/proc/${ctx.pid}/ns/mnt`, O_RDONLY));
      sys.unshare(CLONE_FS);
      sys.setns(ns, CLONE_NEWNS);
    }
    const root = keep(sys.open(ctx.rootfs, O_PATH | O_DIRECTORY));

    for (const op of ops) {
      switch (op.op) {
        case "device":
        case "bind": {
          if (op.op === "device" && op.bind === false) break;
          let target: number;
          if (op.op === "bind" && op.kind === "dir") {
            target = ensureDir(root, op.dst);
            notKernelFs(target, op.dst);
          } else target = ensureFile(root, op.dst);
          const tree = keep(sys.cloneTree(op.src));
          sys.setMountAttrs(tree, attrs(op.flags));
          attach(tree, target, op.src);
          log("mounted", { src: op.src, dst: op.dst, flags: op.flags });
          break;
        }
        case "symlink": {
          const dir = ensureDir(root, op.dir);
          notKernelFs(dir, op.dir);
          const st = entry(dir, op.name);
          if (st && !st.isSymbolicLink()) {
            // As ldconfig does: an image's own file of that name stays; its link is not made.
            log("kept the image's file", `${op.dir}/${op.name}`);
            break;
          }
          const old = st ? readlinkSync(`/proc/self/fd/${dir}/${op.name}`) : null;
          if (old !== null) sys.unlinkat(dir, op.name, 0);
          sys.symlinkat(op.target, dir, op.name);
          undo.push(() => {
            sys.unlinkat(dir, op.name, 0);
            if (old !== null) sys.symlinkat(old, dir, op.name);
          });
          break;
        }
        case "procfs": {
          // Mount where the driver's procfs dir is; in a procfs without one (no driver module),
          // a tmpfs on /proc/driver carries the nvidia/ directory.
          let target = lookup(root, op.dst, O_PATH | O_DIRECTORY);
          let prefix = "";
          if (target === null) {
            target = lookup(root, "/proc/driver", O_PATH | O_DIRECTORY);
            if (target === null) throw new NvctError("mount", `no \`/proc/driver\` in the container to mount \`${op.dst}\` on`);
            prefix = "nvidia/";
          }
          const mnt = keep(sys.tmpfs({ mode: "0555" }, MOUNT_ATTRS.nosuid | MOUNT_ATTRS.nodev | MOUNT_ATTRS.noexec));
          const made = new Set<string>();
          for (const [relPath, host] of op.files) {
            const parts = (prefix + relPath).split("/");
            const name = parts.pop()!;
            let dir = mnt;
            for (let i = 0; i < parts.length; i++) {
              const sub = parts.slice(0, i + 1).join("/");
              if (!made.has(sub)) {
                sys.mkdirat(mnt, sub, 0o555);
                made.add(sub);
              }
              dir = keep(sys.openat(mnt, sub, O_PATH | O_DIRECTORY, 0));
            }
            const fd = sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY, 0o444);
            writeFileSync(fd, ctx.procContents.get(host) ?? new Uint8Array());
            closeSync(fd);
          }
          sys.setMountAttrs(mnt, MOUNT_ATTRS.ro | MOUNT_ATTRS.nosuid | MOUNT_ATTRS.nodev | MOUNT_ATTRS.noexec);
          attach(mnt, target, op.dst);
          log("mounted procfs", { dst: op.dst, files: op.files.length });
          break;
        }
        case "chmod": {
          const fd = lookup(root, op.path, O_PATH);
          if (fd === null) throw new NvctError("mount", `no \`${op.path}\` in the container to change the mode of`);
          notKernelFs(fd, op.path);
          chmodSync(`/proc/self/fd/${fd}`, op.mode);
          break;
        }
        case "ldcache": {
          const etc = ensureDir(root, "/etc");
          notKernelFs(etc, "/etc");
          // update-ldcache --folder: the libraries a folder of the container holds, by file name.
          const entries = [...op.entries];
          for (const folder of op.folders ?? []) {
            const dir = lookup(root, folder, O_PATH | O_DIRECTORY);
            if (dir === null) continue;
            for (const name of readdirSync(`/proc/self/fd/${dir}`)) {
              if (!/^lib.+\.so(\.\d+)+$/.test(name)) continue;
              const bits = elfClass(lookup(root, `${folder}/${name}`, O_PATH));
              if (bits) entries.push([name, `${folder.replace(/\/+$/, "")}/${name}`, bits]);
            }
          }
          // The image's cache is read only if it is a regular file of sane size.
          const old = readRegular(lookup(root, "/etc/ld.so.cache", O_PATH), MAX_LDCACHE);
          const bytes = writeLdCache(old ?? new Uint8Array(), entries.map(([name, path, bits]) => ({ name, path, bits })));
          const tmp = ".ld.so.cache.nvct";
          try {
            sys.unlinkat(etc, tmp, 0);
          } catch {}
          const fd = sys.openat(etc, tmp, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644);
          writeFileSync(fd, bytes);
          closeSync(fd);
          sys.renameat(etc, tmp, etc, "ld.so.cache");
          undo.push(() => {
            if (old === null) return sys.unlinkat(etc, "ld.so.cache", 0);
            const f = sys.openat(etc, tmp, O_CREAT | O_WRONLY | O_NOFOLLOW, 0o644);
            writeFileSync(f, old);
            closeSync(f);
            sys.renameat(etc, tmp, etc, "ld.so.cache");
          });
          log("ld.so.cache updated", { entries: entries.length });
          break;
        }
      }
    }
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch (ue) {
        log("undo failed", (ue as Error).message);
      }
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new NvctError("mount", `mount error: ${msg}`, e);
  } finally {
    for (const fd of fds) {
      try {
        closeSync(fd);
      } catch {}
    }
  }
}

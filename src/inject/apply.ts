// Executes a plan inside the container's mount namespace. Every container path is resolved under
// the rootfs with openat2(RESOLVE_IN_ROOT), mounts are made detached (open_tree / fsmount), given
// their flags, then moved onto the resolved descriptor: a symlink in the image can never make a
// mount, a node or a file land outside the rootfs. On any failure, what was done is undone.
import { chmodSync, closeSync, readdirSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writeLdCache, type PlanOp } from "../core";
import type { DeviceCgroup } from "../discover/container";
import { allowDevicesV2 } from "./devcg2";
import { NvctError } from "../errors";
import {
  AT_REMOVEDIR, CLONE_FS, CLONE_NEWNS, MNT_DETACH, MOUNT_ATTRS, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_PATH,
  O_RDONLY, O_WRONLY, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SysError, type Libc,
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

/** 32 or 64 from an ELF header read through fd, or 0 when it is not an ELF file. */
function elfClass(fd: number | null): 32 | 64 | 0 {
  if (fd === null) return 0;
  const h = new Uint8Array(5);
  try {
    if (readSync(fd, h, 0, 5, 0) < 5) return 0;
  } catch {
    return 0;
  }
  if (h[0] !== 0x7f || h[1] !== 0x45 || h[2] !== 0x4c || h[3] !== 0x46) return 0;
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
        sys.mkdirat(fd, parts[i], 0o755);
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

  const ensureFile = (root: number, path: string): number => {
    const parts = rel(path).split("/");
    const name = parts.pop()!;
    const dir = ensureDir(root, parts.join("/"));
    const found = lookup(root, path, O_PATH);
    if (found !== null) return found;
    closeSync(sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644));
    undo.push(() => sys.unlinkat(dir, name, 0));
    return keep(sys.openat2(root, "/" + rel(path), O_PATH, 0, RESOLVE));
  };

  const attach = (tree: number, target: number, what: string) => {
    sys.moveMount(tree, target, what);
    undo.push(() => sys.umount(`/proc/self/fd/${tree}`, MNT_DETACH));
  };

  try {
    // Device cgroup rules first, from the host's view of cgroupfs.
    const cg = ctx.cgroup;
    const rules = ops.flatMap((op) => (op.op === "device" ? [{ type: "c" as const, major: op.major, minor: op.minor, access: "rw" }] : []));
    if (cg?.version === 1) {
      for (const r of rules) {
        const rule = `c ${r.major}:${r.minor} rw`;
        writeFileSync(join(cg.dir, "devices.allow"), rule);
        undo.push(() => writeFileSync(join(cg.dir, "devices.deny"), rule));
        log("cgroup allow", rule);
      }
    } else if (cg?.version === 2 && rules.length > 0) {
      undo.push(allowDevicesV2(sys, cg.dir, rules));
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
          const target = op.op === "bind" && op.kind === "dir" ? ensureDir(root, op.dst) : ensureFile(root, op.dst);
          const tree = keep(sys.cloneTree(op.src));
          sys.setMountAttrs(tree, attrs(op.flags));
          attach(tree, target, op.src);
          log("mounted", { src: op.src, dst: op.dst, flags: op.flags });
          break;
        }
        case "symlink": {
          const dir = ensureDir(root, op.dir);
          try {
            sys.unlinkat(dir, op.name, 0);
          } catch (e) {
            if (!(e instanceof SysError && e.errno === 2)) throw e;
          }
          sys.symlinkat(op.target, dir, op.name);
          undo.push(() => sys.unlinkat(dir, op.name, 0));
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
          chmodSync(`/proc/self/fd/${fd}`, op.mode);
          break;
        }
        case "ldcache": {
          const etc = ensureDir(root, "/etc");
          // update-ldcache --folder: the libraries a folder of the container holds, by file name.
          const entries = [...op.entries];
          for (const folder of op.folders ?? []) {
            const dir = lookup(root, folder, O_PATH | O_DIRECTORY);
            if (dir === null) continue;
            for (const name of readdirSync(`/proc/self/fd/${dir}`)) {
              if (!/^lib.+\.so(\.\d+)+$/.test(name)) continue;
              const bits = elfClass(lookup(root, `${folder}/${name}`, O_RDONLY));
              if (bits) entries.push([name, `${folder.replace(/\/+$/, "")}/${name}`, bits]);
            }
          }
          let old: Uint8Array | null = null;
          const cur = lookup(root, "/etc/ld.so.cache", O_RDONLY);
          if (cur !== null) old = readFileSync(cur);
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
      } catch {}
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

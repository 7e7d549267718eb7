// The container's root filesystem, reached only through a descriptor: every path is resolved
// under it with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS), missing directories are made
// the same way, and what is made is registered for undoing. A symlink in the image can never
// make a mount, a node or a file land outside the rootfs.
import { NvctError } from "../errors";
import {
  AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW, isLink, isRegular, O_CREAT, O_DIRECTORY, O_EXCL, O_NOCTTY, O_NOFOLLOW, O_NONBLOCK,
  O_PATH, O_RDONLY, O_WRONLY, PROC_SUPER_MAGIC, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS, SYSFS_MAGIC, SysError, about, type Libc, type Stat,
} from "../sys/libc";

const RESOLVE = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;

/** Steps to take back, newest first; and descriptors to close at the end. */
export class Undo {
  private steps: (() => void)[] = [];
  private after: (() => void)[] = [];
  private fds: number[] = [];
  constructor(
    private sys: Libc,
    private log: (msg: string, data?: unknown) => void,
  ) {}
  push(step: () => void): void {
    this.steps.push(step);
  }
  /** A step to take only once everything succeeded (removing what was moved aside). */
  onSuccess(step: () => void): void {
    this.after.push(step);
  }
  /** Everything succeeded: nothing to undo; the after-steps run (a failing one is logged). */
  succeeded(): void {
    this.steps = [];
    for (const step of this.after) {
      try {
        step();
      } catch (e) {
        this.log("clean-up failed", (e as Error).message);
      }
    }
    this.after = [];
  }
  keep(fd: number): number {
    this.fds.push(fd);
    return fd;
  }
  /** Undoes every step, newest first; a step that fails is logged and the rest still run. */
  run(): void {
    for (const step of this.steps.reverse()) {
      try {
        step();
      } catch (e) {
        this.log("undo failed", (e as Error).message);
      }
    }
    this.steps = [];
  }
  close(): void {
    for (const fd of this.fds) {
      try {
        this.sys.close(fd);
      } catch {}
    }
    this.fds = [];
  }
}

/** Components of a container path, without empty and `.` ones. */
export const parts = (p: string) => p.split("/").filter((c) => c && c !== ".");

export class RootFs {
  private dirs = new Map<string, number>();
  private checked = new Set<number>();
  private rootMount: bigint | undefined;

  constructor(
    private sys: Libc,
    readonly root: number,
    private undo: Undo,
  ) {}

  /** Opens a container path under the root; null when it does not exist. */
  lookup(path: string, flags: number): number | null {
    try {
      // RESOLVE_IN_ROOT reads an absolute path from the rootfs, which keeps messages readable.
      return this.undo.keep(this.sys.openat2(this.root, "/" + parts(path).join("/"), flags, 0, RESOLVE));
    } catch (e) {
      if (e instanceof SysError && e.errno === 2) return null;
      throw e;
    }
  }

  /** The directory at path, made (0755) where missing; each directory resolved once per plan. */
  ensureDir(path: string): number {
    const ps = parts(path);
    // The common case: a directory an earlier step of the plan already resolved.
    const whole = this.dirs.get(ps.join("/"));
    if (whole !== undefined) return whole;
    let fd = this.root;
    for (let i = 0; i < ps.length; i++) {
      const sub = ps.slice(0, i + 1).join("/");
      const known = this.dirs.get(sub);
      if (known !== undefined) {
        fd = known;
        continue;
      }
      let next = this.lookup(sub, O_PATH | O_DIRECTORY);
      if (next !== null) this.ownMount(next, sub);
      else {
        try {
          about(`/${sub}`, () => this.sys.mkdirat(fd, ps[i], 0o755));
        } catch (e) {
          // Not found, yet there: a symlink whose target is missing inside the container.
          if (e instanceof SysError && e.errno === 17) throw new NvctError("mount", `\`/${sub}\` is a symlink that leads nowhere inside the container`, e);
          throw e;
        }
        const parent = fd;
        const name = ps[i];
        this.undo.push(() => about(`/${sub}`, () => this.sys.unlinkat(parent, name, AT_REMOVEDIR)));
        next = this.undo.keep(this.sys.openat2(this.root, "/" + sub, O_PATH | O_DIRECTORY, 0, RESOLVE));
      }
      this.dirs.set(sub, next);
      fd = next;
    }
    return fd;
  }

  /**
   * Refuses a directory that a symlink of the image leads into another mount of the container
   * (a volume bind-mounted from the host): what nvct makes there (directories, mount targets,
   * links) would be made in the host's directory. A directory on the root's own mount is the
   * image's; one on another mount is fine only where that mount is at the very path asked for,
   * no symlink followed (/dev, /proc, a volume reached by its own path). One statx per directory
   * (the mount id, Linux 5.8 and later; an older kernel reports none and is not checked).
   */
  private ownMount(dir: number, sub: string): void {
    this.rootMount ??= this.sys.stat(this.root, "", AT_EMPTY_PATH)?.mntId ?? 0n;
    const st = this.sys.stat(dir, "", AT_EMPTY_PATH);
    if (!st || st.mntId === this.rootMount || st.mntId === 0n) return;
    let literal: Stat | null = null;
    try {
      const fd = this.undo.keep(this.sys.openat2(this.root, "/" + sub, O_PATH | O_DIRECTORY, 0, RESOLVE | RESOLVE_NO_SYMLINKS));
      literal = this.sys.stat(fd, "", AT_EMPTY_PATH);
    } catch (e) {
      // ELOOP: a symlink on the way; ENOENT, ENOTDIR: not there without following one.
      if (!(e instanceof SysError && [2, 20, 40].includes(e.errno))) throw e;
    }
    if (literal && literal.mntId === st.mntId && literal.ino === st.ino) return;
    throw new NvctError("mount", `refusing \`/${sub}\`: a symlink in the image leads it into another mount of the container (a volume), not into the image's own files`);
  }

  /**
   * Refuses a directory in the kernel's own filesystems: an image's symlink into the container's
   * /proc or /sys must not reach runc's or the kernel's files. One statfs per directory.
   */
  notKernelFs(dir: number, path: string): void {
    if (this.checked.has(dir)) return;
    this.checked.add(dir);
    const t = this.sys.fsType(dir, path);
    if (t === PROC_SUPER_MAGIC || t === SYSFS_MAGIC) throw new NvctError("mount", `refusing \`${path}\`: it resolves into /proc or /sys`);
  }

  /** The entry `name` of dir as lstat sees it (no link followed), or null. */
  entry(dir: number, name: string): Stat | null {
    return this.sys.stat(dir, name, AT_SYMLINK_NOFOLLOW);
  }

  /**
   * A file to mount onto at path: the one there, or a new empty one (removed on undo). An image's
   * symlink there is never followed: it is replaced, and put back on undo.
   */
  ensureFile(path: string): number {
    const ps = parts(path);
    const name = ps.pop()!;
    const dir = this.ensureDir(ps.join("/"));
    this.notKernelFs(dir, path);
    const full = `/${[...ps, name].join("/")}`;
    const create = () => {
      const fd = this.undo.keep(about(full, () => this.sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644)));
      this.undo.push(() => about(full, () => this.sys.unlinkat(dir, name, 0)));
      return fd;
    };
    // Most targets are missing: made in one call, whose descriptor is the mount's target. (Not
    // through create(): an EEXIST is expected here, and about() would build its error twice.)
    try {
      const fd = this.undo.keep(this.sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644));
      this.undo.push(() => about(full, () => this.sys.unlinkat(dir, name, 0)));
      return fd;
    } catch (e) {
      if (!(e instanceof SysError)) throw e;
      if (e.errno !== 17) throw e.about(full);
    }
    const st = this.entry(dir, name);
    if (st && !isLink(st)) return this.undo.keep(about(full, () => this.sys.openat(dir, name, O_PATH | O_NOFOLLOW, 0)));
    if (st) {
      // Never follow an image's symlink to a mount target: replace it, and put it back on undo.
      const target = about(full, () => this.sys.readlink(dir, name));
      about(full, () => this.sys.unlinkat(dir, name, 0));
      this.undo.push(() => about(full, () => this.sys.symlinkat(target, dir, name)));
    }
    return create();
  }

  /**
   * Up to `max` bytes of a regular file found through an O_PATH fd, or null for anything else.
   * An image decides what its paths are: a FIFO would block the open, /dev/zero would never end,
   * a device node could be a host disk. The file is reopened through the fd, never by path.
   */
  readRegular(fd: number | null, max: number, prefix = Infinity): Uint8Array | null {
    if (fd === null) return null;
    const st = this.sys.stat(fd, "", AT_EMPTY_PATH);
    if (!st || !isRegular(st) || st.size > max) return null;
    const f = this.sys.open(`/proc/self/fd/${fd}`, O_RDONLY | O_NONBLOCK | O_NOCTTY);
    try {
      const again = this.sys.stat(f, "", AT_EMPTY_PATH);
      if (!again || again.ino !== st.ino || again.devMajor !== st.devMajor || again.devMinor !== st.devMinor) return null;
      const buf = new Uint8Array(Math.min(st.size, max, prefix));
      let n = 0;
      while (n < buf.length) {
        const r = this.sys.read(f, buf.subarray(n), "a file of the container");
        if (r <= 0) break;
        n += r;
      }
      return buf.subarray(0, n);
    } finally {
      this.sys.close(f);
    }
  }

  /** The entries of a container directory (none when it is missing). */
  list(path: string): string[] {
    const fd = this.lookup(path, O_RDONLY | O_DIRECTORY);
    return fd === null ? [] : this.sys.readdir(fd, path);
  }
}

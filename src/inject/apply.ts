// Executes a plan inside the container's mount namespace, one small step per operation kind,
// every system call through Libc. Mounts are made detached (open_tree / fsmount), given their
// flags, then moved onto the descriptor the root resolved. On any failure, what was done is
// undone, newest first, and one error names the step that failed.
import type { BindOp, CgroupPlan, ChmodOp, DeviceOp, FileOp, LdcacheOp, LdEntry, LibCandidate, MaskOp, MountFlag, Op, SymlinkOp, TmpfsOp } from "../core";
import { NvctError } from "../errors";
import { VOCABULARY } from "../../build/out/gen/vocabulary";
import { about, AT_REMOVEDIR, CLONE_FS, CLONE_NEWNS, isDir, isLink, MNT_DETACH, O_CREAT, O_DIRECTORY, O_EXCL, O_NOFOLLOW, O_NONBLOCK, O_PATH, O_RDONLY, O_WRONLY, type Libc } from "../sys/libc";
import { allowDevicesV1, allowDevicesV2, type DeviceCgroup } from "./cgroup";
import { parts, RootFs, Undo } from "./rootfs";

export interface ApplyContext {
  /** The container's pid, whose mount namespace to enter; null when already in it (CDI hooks). */
  pid: number | null;
  /** The rootfs as a host path (before pivot_root the container's namespace sees it there too). */
  rootfs: string;
  /** The container's device cgroup, or null when no device rule is to be written. */
  cgroup: DeviceCgroup | null;
  /** The container's new ld.so.cache from its old one (the core's writer). */
  ldcache?: (old: Uint8Array, add: LdEntry[], candidates: LibCandidate[]) => Uint8Array;
  log?: (msg: string, data?: unknown) => void;
}

const ATTR = new Map(VOCABULARY.mountFlags.map((m) => [m.flag, m.attr]));

/** MOUNT_ATTR_* bits of a plan's flags, from the one table the core shares. */
export function attrs(flags: MountFlag[]): number {
  let a = 0;
  for (const f of flags) a |= ATTR.get(f)!;
  return a;
}

const MAX_LDCACHE = 64 << 20;
const MAX_HOST_FILE = 1 << 20;
const TMP_CACHE = ".ld.so.cache.nvct";

/** A host file's bytes (procfs files report no size: read to the end). */
function readHost(sys: Libc, path: string): Uint8Array {
  const fd = sys.open(path, O_RDONLY | O_NONBLOCK);
  try {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const buf = new Uint8Array(8192);
      const n = sys.read(fd, buf, path);
      if (n <= 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
      if (total > MAX_HOST_FILE) throw new NvctError("mount", `\`${path}\` is larger than ${MAX_HOST_FILE} bytes`);
    }
    return Buffer.concat(chunks);
  } finally {
    sys.close(fd);
  }
}

class Steps {
  constructor(
    private sys: Libc,
    private fs: RootFs,
    private undo: Undo,
    private ctx: ApplyContext,
    private hostFiles: Map<string, Uint8Array>,
    private log: (msg: string, data?: unknown) => void,
  ) {}

  /** Moves the detached mount `tree` (of `what`) onto the target at container path `path`. */
  private attach(tree: number, target: number, what: string, path: string): void {
    this.sys.moveMount(tree, target, `${what}\` on \`${path}`);
    this.undo.push(() => about(path, () => this.sys.umount(`/proc/self/fd/${tree}`, MNT_DETACH)));
  }

  device(op: DeviceOp): void {
    if (!op.bind) return;
    this.mountFile(op.host, op.path, op.mountFlags);
  }

  bind(op: BindOp): void {
    if (op.kind !== "dir") return this.mountFile(op.host, op.path, op.mountFlags);
    const target = this.fs.ensureDir(op.path);
    this.fs.notKernelFs(target, op.path);
    this.mountTree(op.host, target, op.path, op.mountFlags);
    this.log("mounted", { src: op.host, dst: op.path, flags: op.mountFlags });
  }

  private mountFile(host: string, path: string, flags: MountFlag[]): void {
    const target = this.fs.ensureFile(path);
    this.mountTree(host, target, path, flags);
    this.log("mounted", { src: host, dst: path, flags });
  }

  private mountTree(host: string, target: number, path: string, flags: MountFlag[]): void {
    const tree = this.undo.keep(this.sys.cloneTree(host));
    about(host, () => this.sys.setMountAttrs(tree, attrs(flags)));
    this.attach(tree, target, host, path);
  }

  symlink(op: SymlinkOp): void {
    const dir = this.fs.ensureDir(op.dir);
    this.fs.notKernelFs(dir, op.dir);
    const path = `/${[...parts(op.dir), op.name].join("/")}`;
    // One name for what is moved aside: a start killed before its end left the image's file
    // there, which is put back first (over the link that start may have made).
    const aside = `.${op.name}.nvct`;
    if (!op.keepFile && this.fs.entry(dir, aside)) about(path, () => this.sys.renameat(dir, aside, dir, op.name));
    const st = this.fs.entry(dir, op.name);
    if (st && !isLink(st)) {
      if (op.keepFile) {
        // As ldconfig does: an image's own file of that name stays; its link is not made.
        this.log("kept the image's file", `${op.dir}/${op.name}`);
        return;
      }
      // Replaced: moved aside until the whole plan is done, put back if it is not.
      about(path, () => this.sys.renameat(dir, op.name, dir, aside));
      this.undo.push(() => about(path, () => this.sys.renameat(dir, aside, dir, op.name)));
      this.undo.onSuccess(() => this.sys.unlinkat(dir, aside, isDir(st) ? AT_REMOVEDIR : 0));
    }
    const old = st && isLink(st) ? about(path, () => this.sys.readlink(dir, op.name)) : null;
    if (old === op.target) return;
    if (old !== null) about(path, () => this.sys.unlinkat(dir, op.name, 0));
    about(path, () => this.sys.symlinkat(op.target, dir, op.name));
    this.undo.push(() =>
      about(path, () => {
        this.sys.unlinkat(dir, op.name, 0);
        if (old !== null) this.sys.symlinkat(old, dir, op.name);
      }),
    );
  }

  /** A tmpfs built detached with its directories and files, then its flags, then mounted. */
  tmpfs(op: TmpfsOp, procfs: boolean): void {
    let target = procfs ? this.fs.lookup(op.path, O_PATH | O_DIRECTORY) : this.fs.ensureDir(op.path);
    let prefix = "";
    if (target === null) {
      // A procfs without the driver's directory (no module loaded): a tmpfs on its parent holds it.
      const ps = parts(op.path);
      const name = ps.pop()!;
      target = this.fs.lookup(ps.join("/"), O_PATH | O_DIRECTORY);
      if (target === null) throw new NvctError("mount", `no \`/${ps.join("/")}\` in the container to mount \`${op.path}\` on`);
      prefix = name + "/";
    }
    // The procfs view is mounted onto the container's procfs on purpose; nothing else may be.
    if (!procfs) this.fs.notKernelFs(target, op.path);
    // Where the tmpfs goes in the container, and the container path of a path in it.
    const at = prefix ? `/${parts(op.path).slice(0, -1).join("/")}` : `/${parts(op.path).join("/")}`;
    const inside = (rel: string) => `${at}/${parts(rel).join("/")}`;
    const mnt = this.undo.keep(about(`tmpfs\` for \`${op.path}`, () => this.sys.tmpfs({ mode: op.mode.toString(8).padStart(4, "0") }, 0)));
    const made = new Set<string>();
    const mkdirs = (rel: string) => {
      const ps = parts(rel);
      for (let i = 1; i <= ps.length; i++) {
        const sub = ps.slice(0, i).join("/");
        if (made.has(sub)) continue;
        about(inside(sub), () => this.sys.mkdirat(mnt, sub, op.mode));
        made.add(sub);
      }
    };
    mkdirs(prefix);
    for (const d of op.dirs) mkdirs(prefix + d);
    for (const f of op.files) {
      const ps = parts(prefix + f.path);
      const name = ps.pop()!;
      mkdirs(ps.join("/"));
      const dir = ps.length ? this.undo.keep(about(inside(ps.join("/")), () => this.sys.openat(mnt, ps.join("/"), O_PATH | O_DIRECTORY, 0))) : mnt;
      const fd = about(inside(prefix + f.path), () => this.sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY, f.mode));
      try {
        this.sys.write(fd, f.content !== undefined ? Buffer.from(f.content) : (this.hostFiles.get(f.host) ?? new Uint8Array()), `${op.path}/${f.path}`);
      } finally {
        this.sys.close(fd);
      }
    }
    about(op.path, () => this.sys.setMountAttrs(mnt, attrs(op.mountFlags)));
    this.attach(mnt, target, "tmpfs", at);
    this.log("mounted tmpfs", { dst: op.path, files: op.files.length });
  }

  /** A new file of the container's (never one that is there already). */
  file(op: FileOp): void {
    const ps = parts(op.path);
    const name = ps.pop()!;
    const dir = this.fs.ensureDir(ps.join("/"));
    this.fs.notKernelFs(dir, op.path);
    const path = `/${[...ps, name].join("/")}`;
    const fd = about(path, () => this.sys.openat(dir, name, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, op.mode));
    this.undo.push(() => about(path, () => this.sys.unlinkat(dir, name, 0)));
    try {
      this.sys.write(fd, Buffer.from(op.content), op.path);
    } finally {
      this.sys.close(fd);
    }
  }

  /** An existing file shown with other content: a file of a private tmpfs, bound over it. */
  mask(op: MaskOp): void {
    const target = this.fs.lookup(op.path, O_PATH | O_NOFOLLOW);
    if (target === null) return;
    const mnt = this.undo.keep(about(`tmpfs\` for \`${op.path}`, () => this.sys.tmpfs({ mode: "0755", size: String(Math.max(4096, op.content.length)) }, 0)));
    const fd = about(`tmpfs\` for \`${op.path}`, () => this.sys.openat(mnt, "content", O_CREAT | O_EXCL | O_WRONLY, 0o444));
    try {
      this.sys.write(fd, Buffer.from(op.content), op.path);
    } finally {
      this.sys.close(fd);
    }
    const file = this.undo.keep(about(`tmpfs\` for \`${op.path}`, () => this.sys.openat(mnt, "content", O_PATH | O_NOFOLLOW, 0)));
    const tree = this.undo.keep(about(`tmpfs\` for \`${op.path}`, () => this.sys.cloneTree(`/proc/self/fd/${file}`)));
    about(op.path, () => this.sys.setMountAttrs(tree, attrs(op.mountFlags)));
    this.attach(tree, target, "a file of a tmpfs", op.path);
    this.log("masked", op.path);
  }

  chmod(op: ChmodOp): void {
    const fd = this.fs.lookup(op.path, O_PATH);
    if (fd === null) throw new NvctError("mount", `no \`${op.path}\` in the container to change the mode of`);
    this.fs.notKernelFs(fd, op.path);
    about(op.path, () => this.sys.chmod(-100, `/proc/self/fd/${fd}`, op.mode));
  }

  /** The container's ld.so.cache: written beside, then renamed over; the old one back on undo. */
  ldcache(op: LdcacheOp): void {
    if (!this.ctx.ldcache) throw new NvctError("internal", "no ld.so.cache writer given");
    const etc = this.fs.ensureDir("/etc");
    this.fs.notKernelFs(etc, "/etc");
    // update-ldcache --folder: the files of those folders, for the writer to pick libraries from.
    const candidates: LibCandidate[] = [];
    for (const folder of op.folders) {
      for (const name of this.fs.list(folder)) {
        const path = `/${parts(folder).join("/")}/${name}`;
        const head = this.fs.readRegular(this.fs.lookup(path, O_PATH), 1 << 30, 5);
        if (head) candidates.push({ path, head });
      }
    }
    // The image's cache is read only if it is a regular file of sane size.
    const old = this.fs.readRegular(this.fs.lookup("/etc/ld.so.cache", O_PATH), MAX_LDCACHE);
    const bytes = this.ctx.ldcache(old ?? new Uint8Array(), op.entries, candidates);
    this.writeCache(etc, bytes);
    this.undo.push(() => {
      if (old === null) about("/etc/ld.so.cache", () => this.sys.unlinkat(etc, "ld.so.cache", 0));
      else this.writeCache(etc, old);
    });
    this.log("ld.so.cache updated", { entries: op.entries.length + candidates.length });
  }

  private writeCache(etc: number, bytes: Uint8Array): void {
    try {
      this.sys.unlinkat(etc, TMP_CACHE, 0);
    } catch {}
    const fd = about(`/etc/${TMP_CACHE}`, () => this.sys.openat(etc, TMP_CACHE, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, 0o644));
    try {
      try {
        this.sys.write(fd, bytes, `/etc/${TMP_CACHE}`);
      } finally {
        this.sys.close(fd);
      }
      about(`/etc/${TMP_CACHE}\` to \`/etc/ld.so.cache`, () => this.sys.renameat(etc, TMP_CACHE, etc, "ld.so.cache"));
    } catch (e) {
      // A failed write leaves no temporary file in the image.
      try {
        this.sys.unlinkat(etc, TMP_CACHE, 0);
      } catch {}
      throw e;
    }
  }
}

/** Runs the plan; throws NvctError (the failing step's code kept) after undoing every step done. */
export function apply(plan: { ops: Op[]; cgroup: CgroupPlan }, ctx: ApplyContext, sys: Libc): void {
  const log = ctx.log ?? (() => {});
  const undo = new Undo(sys, log);
  try {
    // Host files first: after setns, paths resolve in the container's view.
    const hostFiles = new Map<string, Uint8Array>();
    for (const op of plan.ops) {
      if (op.tag !== "procfs" && op.tag !== "tmpfs") continue;
      for (const f of op.val.files) if (f.content === undefined && f.host && !hostFiles.has(f.host)) hostFiles.set(f.host, readHost(sys, f.host));
    }
    const cg = ctx.cgroup;
    if (cg?.version === 1 && plan.cgroup.rules.length > 0) undo.push(allowDevicesV1(sys, cg.dir, plan.cgroup.rules, log));
    else if (cg?.version === 2 && plan.cgroup.prologue.length > 0) undo.push(allowDevicesV2(sys, cg.dir, plan.cgroup.prologue, (m) => log("warning", m)));

    // Only this thread moves; after this point only synchronous calls through Libc are made.
    if (ctx.pid !== null) {
      const ns = undo.keep(sys.open(`/proc/${ctx.pid}/ns/mnt`, O_RDONLY));
      sys.unshare(CLONE_FS);
      about(`/proc/${ctx.pid}/ns/mnt`, () => sys.setns(ns, CLONE_NEWNS));
    }
    const root = undo.keep(sys.open(ctx.rootfs, O_PATH | O_DIRECTORY));
    const steps = new Steps(sys, new RootFs(sys, root, undo), undo, ctx, hostFiles, log);
    for (const op of plan.ops) {
      switch (op.tag) {
        case "device":
          steps.device(op.val);
          break;
        case "bind":
          steps.bind(op.val);
          break;
        case "symlink":
          steps.symlink(op.val);
          break;
        case "procfs":
          steps.tmpfs(op.val, true);
          break;
        case "tmpfs":
          steps.tmpfs(op.val, false);
          break;
        case "ldcache":
          steps.ldcache(op.val);
          break;
        case "chmod":
          steps.chmod(op.val);
          break;
        case "file":
          steps.file(op.val);
          break;
        case "mask":
          steps.mask(op.val);
          break;
      }
    }
    undo.succeeded();
    // The descriptors stay open: every caller exits right after, and closing a hundred of them
    // one by one costs more than the kernel's closing them at exit.
  } catch (e) {
    undo.run();
    undo.close();
    if (e instanceof NvctError) throw e;
    throw new NvctError("mount", (e as Error).message ?? String(e), e);
  }
}

// A recording double of Libc for tests: every call is recorded with its arguments, against a
// small in-memory tree of the container's root (directories, files, links) and of each tmpfs it
// makes; a mount moved onto the root covers the path it is on (a read-only one refuses writes
// with EROFS, as the kernel does); one call can be made to fail with an errno. The shell is then
// tested without root, with one toEqual of the calls, and the tree after a failure compared with
// the tree before.
import { PROC_SUPER_MAGIC, S_IFDIR, S_IFLNK, S_IFREG, SysError, type Libc, type Stat } from "./libc";

export type Call = [string, ...unknown[]];

interface Node {
  type: "dir" | "file" | "link";
  target?: string;
  content?: Uint8Array;
  mode?: number;
}

/** One filesystem: paths relative to its root ("" is the root), and whether it is procfs. */
class Tree {
  nodes = new Map<string, Node>([["", { type: "dir" }]]);
  constructor(readonly proc = false) {}
}

interface Fd {
  tree: Tree;
  path: string;
  kind: "path" | "mount" | "tmpfs" | "file" | "other";
  /** MOUNT_ATTR_* set on a detached mount. */
  attrs?: number;
}

/** A mount moved onto a path of the root: what covers it from then on. */
interface Attached {
  at: string;
  tree: Tree;
  readonly: boolean;
  magic: number;
  what: string;
}

const TMPFS_MAGIC = 0x01021994;
const EXT4_MAGIC = 0xef53;
const MOUNT_ATTR_RDONLY = 1;
const EROFS = 30;

const join = (dir: string, name: string) => [dir, name].filter(Boolean).join("/");
const parts = (p: string) => p.split("/").filter((c) => c && c !== ".");

export interface FailRule {
  /** The call to fail. */
  call: string;
  /** Its nth occurrence (1-based; default 1). */
  nth?: number;
  errno: number;
}

export class RecordingLibc implements Libc {
  calls: Call[] = [];
  /** Host files outside the root (a cgroup's devices.list): their content when opened and read. */
  hostFiles = new Map<string, string>();
  /** The container's root filesystem (as the rootfs path sees it). */
  root = new Tree();
  /** Mounts attached: [what, onto]. */
  mounts: [string, string][] = [];
  private fds = new Map<number, Fd>();
  private attached: Attached[] = [];
  private next = 10;
  private counts = new Map<string, number>();

  constructor(
    readonly rootfs: string,
    private fail?: FailRule,
  ) {
    // The container's /proc is a procfs of its own.
    this.root.nodes.set("proc", { type: "dir" });
    this.root.nodes.set("proc/driver", { type: "dir" });
    this.root.nodes.set("proc/driver/nvidia", { type: "dir" });
  }

  /** The container's tree as sorted entries, for comparing before and after. */
  snapshot(): string[] {
    return [...this.root.nodes.entries()].map(([p, n]) => `${p} ${n.type}${n.target ? ` -> ${n.target}` : ""}${n.content ? ` ${Buffer.from(n.content).toString()}` : ""}`).sort();
  }

  private record(name: string, ...args: unknown[]): void {
    this.calls.push([name, ...args]);
    const n = (this.counts.get(name) ?? 0) + 1;
    this.counts.set(name, n);
    if (this.fail && this.fail.call === name && (this.fail.nth ?? 1) === n) throw new SysError(name, String(args[args.length > 1 ? 1 : 0] ?? ""), this.fail.errno);
  }

  private fd(f: Fd): number {
    const n = this.next++;
    this.fds.set(n, f);
    return n;
  }

  private at(dirfd: number): Fd {
    const f = this.fds.get(dirfd);
    if (!f) throw new SysError("use", `fd ${dirfd}`, 9);
    return f;
  }

  /** Where a path of a tree lives: in the innermost mount attached over it, else in the tree. */
  private place(tree: Tree, p: string): { tree: Tree; path: string; mount?: Attached } {
    let best: Attached | undefined;
    if (tree === this.root) for (const m of this.attached) if ((p === m.at || p.startsWith(m.at + "/")) && (!best || m.at.length >= best.at.length)) best = m;
    return best ? { tree: best.tree, path: p === best.at ? "" : p.slice(best.at.length + 1), mount: best } : { tree, path: p };
  }
  private get(tree: Tree, p: string): Node | undefined {
    const w = this.place(tree, p);
    return w.tree.nodes.get(w.path);
  }
  /** The place of a path to change; EROFS under a read-only mount. */
  private writable(tree: Tree, p: string, subject: string): { tree: Tree; path: string } {
    const w = this.place(tree, p);
    if (w.mount?.readonly) throw new SysError("write", subject, EROFS);
    return w;
  }
  private put(tree: Tree, p: string, n: Node, subject: string): void {
    const w = this.writable(tree, p, subject);
    w.tree.nodes.set(w.path, n);
  }

  /** A volume of the container (a bind mount the runtime made from its spec) at a root path. */
  volume(at: string, dirs: string[] = []): { entries(): string[] } {
    this.root.nodes.set(at, { type: "dir" });
    const tree = new Tree();
    for (const d of dirs) tree.nodes.set(d, { type: "dir" });
    this.attached.push({ at, tree, readonly: false, magic: EXT4_MAGIC, what: `volume:${at}` });
    return { entries: () => [...tree.nodes.keys()].sort() };
  }

  /** Resolves a path in a tree, following links inside it (RESOLVE_IN_ROOT; none with noLinks: ELOOP). */
  private resolve(tree: Tree, from: string, path: string, followLast: boolean, noLinks = false): string | null {
    let todo = parts(path);
    let done = path.startsWith("/") ? [] : parts(from);
    for (let hops = 0; todo.length; ) {
      const name = todo.shift()!;
      if (name === "..") {
        done.pop();
        continue;
      }
      const p = [...done, name].join("/");
      const n = this.get(tree, p);
      if (!n) return todo.length ? null : p;
      if (n.type === "link" && (todo.length || followLast)) {
        if (noLinks || ++hops > 40) throw new SysError("open", path, 40);
        if (n.target!.startsWith("/")) done = [];
        todo = [...parts(n.target!), ...todo];
        continue;
      }
      done.push(name);
    }
    return done.join("/");
  }

  open(path: string, flags: number): number {
    this.record("open", path, flags);
    if (path === this.rootfs) return this.fd({ tree: this.root, path: "", kind: "path" });
    const m = /^\/proc\/self\/fd\/(\d+)$/.exec(path);
    if (m) {
      const f = this.at(Number(m[1]));
      return this.fd({ ...f, kind: "file" });
    }
    const host = new Tree();
    const text = this.hostFiles.get(path);
    if (text !== undefined) host.nodes.set(path, { type: "file", content: Buffer.from(text) });
    return this.fd({ tree: host, path, kind: "other" });
  }
  close(fd: number): void {
    this.fds.delete(fd);
  }
  mount(): void {
    throw new Error("mount(2) is not used by apply");
  }
  umount(target: string, flags: number): void {
    this.record("umount", target, flags);
    const m = /^\/proc\/self\/fd\/(\d+)$/.exec(target);
    const f = m ? this.fds.get(Number(m[1])) : undefined;
    const what = f ? `${f.kind}:${f.path}` : target;
    const i = this.mounts.findIndex(([w]) => w === what);
    if (i >= 0) this.mounts.splice(i, 1);
    const j = this.attached.findLastIndex((m) => m.what === what);
    if (j >= 0) this.attached.splice(j, 1);
  }
  mknodat(dirfd: number, path: string, mode: number, major: number, minor: number): void {
    this.record("mknodat", dirfd, path, mode, major, minor);
  }
  unshare(flags: number): void {
    this.record("unshare", flags);
  }
  setns(fd: number, nstype: number): void {
    this.record("setns", this.at(fd).path, nstype);
  }
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number {
    this.record("openat2", path, flags, resolve);
    const d = this.at(dirfd);
    const p = this.resolve(d.tree, d.path, path, true, (resolve & 0x04) !== 0);
    if (p === null || !this.get(d.tree, p)) throw new SysError("open", path, 2);
    if ((flags & 0o200000) !== 0 && this.get(d.tree, p)!.type !== "dir") throw new SysError("open", path, 20);
    return this.fd({ tree: d.tree, path: p, kind: "path" });
  }
  openat(dirfd: number, path: string, flags: number, mode: number): number {
    this.record("openat", path, flags, mode);
    const d = this.at(dirfd);
    const p = join(d.path, parts(path).join("/"));
    const exists = this.get(d.tree, p) !== undefined;
    if (flags & 0o100) {
      if (exists && flags & 0o200) throw new SysError("open", path, 17);
      if (!exists) this.put(d.tree, p, { type: "file", mode, content: new Uint8Array() }, path);
    } else if (!exists) throw new SysError("open", path, 2);
    return this.fd({ tree: d.tree, path: p, kind: "file" });
  }
  mkdirat(dirfd: number, path: string, mode: number): void {
    this.record("mkdirat", path, mode);
    const d = this.at(dirfd);
    const p = join(d.path, parts(path).join("/"));
    if (this.get(d.tree, p)) throw new SysError("create directory", path, 17);
    this.put(d.tree, p, { type: "dir", mode }, path);
  }
  symlinkat(target: string, dirfd: number, path: string): void {
    this.record("symlinkat", target, path);
    const d = this.at(dirfd);
    const p = join(d.path, path);
    if (this.get(d.tree, p)) throw new SysError("create symlink", path, 17);
    this.put(d.tree, p, { type: "link", target }, path);
  }
  unlinkat(dirfd: number, path: string, flags: number): void {
    this.record("unlinkat", path, flags);
    const d = this.at(dirfd);
    const w = this.writable(d.tree, join(d.path, path), path);
    if (!w.tree.nodes.delete(w.path)) throw new SysError("remove", path, 2);
  }
  renameat(od: number, op: string, nd: number, np: string): void {
    this.record("renameat", op, np);
    const a = this.at(od);
    const b = this.at(nd);
    const from = this.writable(a.tree, join(a.path, op), op);
    const n = from.tree.nodes.get(from.path);
    if (!n) throw new SysError("rename", op, 2);
    const to = this.writable(b.tree, join(b.path, np), np);
    from.tree.nodes.delete(from.path);
    to.tree.nodes.set(to.path, n);
  }
  cloneTree(path: string): number {
    this.record("cloneTree", path);
    return this.fd({ tree: new Tree(), path, kind: "mount" });
  }
  setMountAttrs(fd: number, attrs: number): void {
    this.record("setMountAttrs", this.at(fd).path, attrs);
    this.at(fd).attrs = attrs;
  }
  moveMount(fd: number, targetFd: number, subject: string): void {
    const f = this.at(fd);
    const t = this.at(targetFd);
    this.record("moveMount", subject.split("` on `")[0], `/${t.path}`);
    this.mounts.push([`${f.kind}:${f.path}`, `/${t.path}`]);
    // A tmpfs brings its tree; a bind, what the host has there (not modelled: empty).
    const magic = f.kind === "tmpfs" ? TMPFS_MAGIC : f.path.startsWith("/proc/") ? PROC_SUPER_MAGIC : EXT4_MAGIC;
    if (t.tree === this.root) this.attached.push({ at: t.path, tree: f.kind === "tmpfs" ? f.tree : new Tree(), readonly: ((f.attrs ?? 0) & MOUNT_ATTR_RDONLY) !== 0, magic, what: `${f.kind}:${f.path}` });
  }
  tmpfs(options: Record<string, string>, attrs: number): number {
    this.record("tmpfs", options, attrs);
    return this.fd({ tree: new Tree(), path: "", kind: "tmpfs" });
  }
  bpf(cmd: number, _attr: Uint8Array, what: string): number {
    this.record("bpf", cmd, what);
    return this.next++;
  }
  fsType(fd: number, subject: string): number {
    this.record("fsType", subject);
    const f = this.at(fd);
    const w = this.place(f.tree, f.path);
    if (w.mount) return w.mount.magic;
    return f.tree === this.root && (f.path === "proc" || f.path.startsWith("proc/")) ? PROC_SUPER_MAGIC : EXT4_MAGIC;
  }
  stat(dirfd: number, path: string, flags: number): Stat | null {
    const d = this.at(dirfd);
    const p = path ? join(d.path, path) : d.path;
    const n = this.get(d.tree, p);
    if (!n) return null;
    const mode = n.type === "dir" ? S_IFDIR : n.type === "link" ? S_IFLNK : S_IFREG;
    // The mount a path of the root is reached through: the innermost one attached over it.
    const m = d.tree === this.root ? this.place(d.tree, p).mount : undefined;
    const mntId = m ? BigInt(this.attached.indexOf(m) + 2) : 1n;
    return { mode: mode | (n.mode ?? 0o644), ino: BigInt(p.length + 1), size: n.content?.length ?? 0, rdevMajor: 0, rdevMinor: 0, devMajor: 8, devMinor: 1, mntId };
  }
  readlink(dirfd: number, path: string): string {
    const d = this.at(dirfd);
    const n = this.get(d.tree, join(d.path, path));
    if (n?.type !== "link") throw new SysError("read link", path, 22);
    return n.target!;
  }
  read(fd: number, buf: Uint8Array, subject: string): number {
    this.record("read", subject);
    const f = this.at(fd);
    const n = this.get(f.tree, f.path);
    const data = n?.content ?? Buffer.from(`content of ${f.path}\n`);
    const done = (f as Fd & { off?: number }).off ?? 0;
    const chunk = data.subarray(done, done + buf.length);
    buf.set(chunk);
    (f as Fd & { off?: number }).off = done + chunk.length;
    return chunk.length;
  }
  write(fd: number, data: Uint8Array, subject: string): void {
    this.record("write", subject, Buffer.from(data).toString());
    const f = this.at(fd);
    const n = this.get(f.tree, f.path);
    if (n) n.content = new Uint8Array([...(n.content ?? []), ...data]);
  }
  readdir(fd: number, subject: string): string[] {
    this.record("readdir", subject);
    const w = this.place(this.at(fd).tree, this.at(fd).path);
    const f = { tree: w.tree, path: w.path };
    const prefix = f.path ? `${f.path}/` : "";
    return [...f.tree.nodes.keys()].filter((p) => p.startsWith(prefix) && p !== f.path && !p.slice(prefix.length).includes("/")).map((p) => p.slice(prefix.length)).sort();
  }
  chmod(dirfd: number, path: string, mode: number): void {
    this.record("chmod", path, mode);
  }
}

// libc through bun:ffi, loaded on first use. Every call reads errno through __errno_location()
// right after it returns, before any other JS can run a libc call on this thread.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { NvctError } from "../errors";
import { SysError } from "./errno";

export { about, SysError } from "./errno";

const { i32, u32, u64, i64, i64_fast, ptr: P, cstring } = FFIType;

const SYMBOLS = {
  __errno_location: { args: [], returns: P },
  strerror: { args: [i32], returns: cstring },
  open: { args: [P, i32, u32], returns: i32 },
  close: { args: [i32], returns: i32 },
  mount: { args: [P, P, P, u64, P], returns: i32 },
  umount2: { args: [P, i32], returns: i32 },
  mknodat: { args: [i32, P, u32, u64], returns: i32 },
  unshare: { args: [i32], returns: i32 },
  setns: { args: [i32, i32], returns: i32 },
  syscall: { args: [i64, i64, i64, i64, i64, i64], returns: i64_fast },
  openat: { args: [i32, P, i32, u32], returns: i32 },
  mkdirat: { args: [i32, P, u32], returns: i32 },
  symlinkat: { args: [P, i32, P], returns: i32 },
  unlinkat: { args: [i32, P, i32], returns: i32 },
  renameat: { args: [i32, P, i32, P], returns: i32 },
  fstatfs: { args: [i32, P], returns: i32 },
  readlinkat: { args: [i32, P, P, u64], returns: i64_fast },
  read: { args: [i32, P, u64], returns: i64_fast },
  write: { args: [i32, P, u64], returns: i64_fast },
  fchmodat: { args: [i32, P, u32, i32], returns: i32 },
} as const;

type Symbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];
let lib: Symbols | undefined;

function libc(): Symbols {
  return (lib ??= dlopen("libc.so.6", SYMBOLS).symbols);
}

function errno(l: Symbols): number {
  const p = l.__errno_location();
  return read.i32(p!, 0);
}

const cstr = (s: string) => Buffer.from(s + "\0");
// A name or a link target may begin with a byte-order mark; it is part of the name.
const decoder = new TextDecoder("utf-8", { ignoreBOM: true });

// Every buffer whose address is handed to the kernel stays referenced here until the process
// ends: ptr() keeps only a number, and a collection between ptr() and the call would hand the
// kernel freed memory. The hook and the CLI make a few hundred small calls, then exit.
const held: unknown[] = [];
const hold = (b: NodeJS.TypedArray | DataView): Pointer => {
  held.push(b);
  return ptr(b);
};

function check(l: Symbols, rc: number | bigint, call: string, subject: string, syscall?: string): number {
  const n = Number(rc);
  if (n < 0) throw new SysError(call, subject, errno(l), syscall);
  return n;
}

export const O_RDONLY = 0;
export const O_PATH = 0o10000000;
// O_DIRECTORY and O_NOFOLLOW differ on arm64 (where 0o400000 is O_LARGEFILE).
const ARM64 = process.arch === "arm64";
export const O_NOFOLLOW = ARM64 ? 0o100000 : 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_DIRECTORY = ARM64 ? 0o40000 : 0o200000;
export const O_NONBLOCK = 0o4000;
export const O_NOCTTY = 0o400;
export const CLONE_FS = 0x200;
export const CLONE_NEWNS = 0x20000;
export const MNT_DETACH = 2;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const AT_REMOVEDIR = 0x200;
export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_IN_ROOT = 0x10;

// Syscall numbers of the new mount API and openat2 (the same on x86_64 and aarch64).
const SYS = { open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, openat2: 437, mount_setattr: 442 };
// bpf(2), statx(2) and getdents64(2) predate the unified numbering.
const SYS_BPF: Record<string, number> = { x64: 321, arm64: 280 };
const SYS_STATX: Record<string, number> = { x64: 332, arm64: 291 };
const SYS_GETDENTS64: Record<string, number> = { x64: 217, arm64: 61 };
export const OPEN_TREE_CLONE = 1;
export const AT_EMPTY_PATH = 0x1000;
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
const MOVE_MOUNT_F_EMPTY_PATH = 0x4;
const MOVE_MOUNT_T_EMPTY_PATH = 0x40;
const FSCONFIG_SET_STRING = 1;
const FSCONFIG_CMD_CREATE = 6;

const MS_PRIVATE = 1 << 18;
/** Filesystem magic numbers (statfs f_type) of the kernel's own filesystems. */
export const PROC_SUPER_MAGIC = 0x9fa0;
export const SYSFS_MAGIC = 0x62656572;

export const S_IFMT = 0o170000;
export const S_IFDIR = 0o040000;
export const S_IFREG = 0o100000;
export const S_IFLNK = 0o120000;
const STATX_BASIC_STATS = 0x7ff;
const STATX_MNT_ID = 0x1000;

/** What statx says of a file: the fields nvct decides by. */
export interface Stat {
  mode: number;
  ino: bigint;
  size: number;
  /** The device a node stands for (character and block devices). */
  rdevMajor: number;
  rdevMinor: number;
  /** The filesystem it lives on. */
  devMajor: number;
  devMinor: number;
  /** The mount it is reached through (Linux 5.8 and later; 0 before). */
  mntId: bigint;
}

export const isDir = (st: Stat) => (st.mode & S_IFMT) === S_IFDIR;
export const isRegular = (st: Stat) => (st.mode & S_IFMT) === S_IFREG;
export const isLink = (st: Stat) => (st.mode & S_IFMT) === S_IFLNK;

/** The narrow libc surface the shell uses; tests substitute a recording double (sys/record.ts). */
export interface Libc {
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount(target: string, flags: number): void;
  mknodat(dirfd: number, path: string, mode: number, major: number, minor: number): void;
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
  /** openat2: `path` resolved under dirfd with the RESOLVE_* flags. */
  openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number): number;
  openat(dirfd: number, path: string, flags: number, mode: number): number;
  mkdirat(dirfd: number, path: string, mode: number): void;
  symlinkat(target: string, dirfd: number, path: string): void;
  unlinkat(dirfd: number, path: string, flags: number): void;
  renameat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string): void;
  /** open_tree(OPEN_TREE_CLONE) of `path`: a detached bind mount of it, as an fd. */
  cloneTree(path: string): number;
  /** mount_setattr on a detached or attached mount fd: set these MOUNT_ATTR_* bits. */
  setMountAttrs(fd: number, attrs: number): void;
  /** move_mount of the mount `fd` onto the object `targetFd` refers to. */
  moveMount(fd: number, targetFd: number, subject: string): void;
  /** A new detached tmpfs (fsopen, fsconfig, fsmount) with these MOUNT_ATTR_* bits. */
  tmpfs(options: Record<string, string>, attrs: number): number;
  /** bpf(2): `attr` is the union bpf_attr for `cmd`, read and written in place. */
  bpf(cmd: number, attr: Uint8Array, what: string): number;
  /** The filesystem type (statfs f_type) of what fd refers to. */
  fsType(fd: number, subject: string): number;
  /** statx of `path` under dirfd ("" with AT_EMPTY_PATH: dirfd itself); null when it is absent. */
  stat(dirfd: number, path: string, flags: number): Stat | null;
  /** readlinkat: the target of the link `path` under dirfd. */
  readlink(dirfd: number, path: string): string;
  /** read(2) into buf from offset 0; returns the count. */
  read(fd: number, buf: Uint8Array, subject: string): number;
  /** write(2) of all of data. */
  write(fd: number, data: Uint8Array, subject: string): void;
  /** The entry names of an open directory (getdents64), without . and .. */
  readdir(fd: number, subject: string): string[];
  /** fchmodat(2). */
  chmod(dirfd: number, path: string, mode: number): void;
}

const makedev = (major: number, minor: number) =>
  (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n);

// The hot path makes a few hundred calls, each run once by the interpreter (no JIT warms up in a
// hook's life): a fresh Buffer, BigInt and argument array per call cost 10-20 us, ten times the
// system call. So the paths and structs a call hands the kernel are written into buffers made
// once, whose addresses are taken once; the kernel copies them in before the call returns, and
// no call here runs another, so one set serves every call. No call takes more than two paths.
const PATH_MAX = 4096;
const encoder = new TextEncoder();
class Scratch {
  readonly bytes: Uint8Array;
  readonly at: Pointer;
  constructor(size: number) {
    // The ArrayBuffer first: a small typed array made alone keeps its bytes in the object, and
    // asking for its .buffer later moves them, leaving an address taken before pointing nowhere.
    this.bytes = new Uint8Array(new ArrayBuffer(size));
    this.at = ptr(this.bytes);
  }
}
const PATH1 = new Scratch(PATH_MAX + 4);
const PATH2 = new Scratch(PATH_MAX + 4);
/** open_how, mount_attr (four u64 each at most), statx's 256 bytes, a link's target. */
const STRUCT = new Scratch(256);
const STRUCT32 = new Uint32Array(STRUCT.bytes.buffer, 0, 8);
const STATX = new Scratch(256);
const STATX_VIEW = new DataView(STATX.bytes.buffer);
const LINK = new Scratch(PATH_MAX);
const EMPTY = new Scratch(1);

/** `s` as a C string in `into`: refused (EINVAL, ENAMETOOLONG) where the kernel would misread it. */
function cpath(s: string, into: Scratch, what: string, syscall: string): Pointer {
  const { read: consumed, written } = encoder.encodeInto(s, into.bytes);
  if (consumed !== s.length || written >= PATH_MAX) throw new SysError(what, s.slice(0, 256), 36, syscall);
  if (s.includes("\0")) throw new SysError(what, s.replaceAll("\0", "\\0"), 22, syscall);
  into.bytes[written] = 0;
  return into.at;
}

/** Four u64 fields of a struct the kernel reads (open_how, mount_attr), each under 2^32. */
function struct4(a: number, b: number, c: number, d: number): Pointer {
  STRUCT32[0] = a;
  STRUCT32[1] = 0;
  STRUCT32[2] = b;
  STRUCT32[3] = 0;
  STRUCT32[4] = c;
  STRUCT32[5] = 0;
  STRUCT32[6] = d;
  STRUCT32[7] = 0;
  return STRUCT.at;
}

/** A raw system call with up to five arguments; its result, or a SysError. */
function call(l: Symbols, nr: number, a: number | Pointer, b: number | Pointer, c: number | Pointer, d: number | Pointer, e: number | Pointer, what: string, subject: string, syscall: string): number {
  return check(l, l.syscall(nr, a, b, c, d, e), what, subject, syscall);
}

/** The real libc. */
export const sys: Libc = {
  open(path, flags, mode = 0) {
    const l = libc();
    return check(l, l.open(cpath(path, PATH1, "open", "open"), flags | O_CLOEXEC, mode), "open", path, "open");
  },
  close(fd) {
    const l = libc();
    check(l, l.close(fd), "close", String(fd), "close");
  },
  mount(source, target, fstype, flags, data = null) {
    // Not on the hot path; four strings, so each gets its own buffer.
    const l = libc();
    const p = (s: string | null) => (s === null ? (null as unknown as Pointer) : hold(cstr(s)));
    check(l, l.mount(p(source), hold(cstr(target)), p(fstype), BigInt(flags), p(data)), "mount", source ?? target, "mount");
  },
  umount(target, flags) {
    const l = libc();
    check(l, l.umount2(cpath(target, PATH1, "unmount", "umount2"), flags), "unmount", target, "umount2");
  },
  mknodat(dirfd, path, mode, major, minor) {
    const l = libc();
    check(l, l.mknodat(dirfd, cpath(path, PATH1, "create device node", "mknodat"), mode, makedev(major, minor)), "create device node", path, "mknodat");
  },
  unshare(flags) {
    const l = libc();
    check(l, l.unshare(flags), "unshare", flags === CLONE_FS ? "CLONE_FS" : `0x${flags.toString(16)}`, "unshare");
  },
  setns(fd, nstype) {
    const l = libc();
    check(l, l.setns(fd, nstype), "setns", `fd ${fd}`, "setns");
  },
  openat2(dirfd, path, flags, mode, resolve) {
    const l = libc();
    const p = cpath(path, PATH1, "open", "openat2");
    // RESOLVE_IN_ROOT answers EAGAIN when a rename raced the walk: walk again, a few times.
    for (let tries = 0; ; tries++) {
      const rc = l.syscall(SYS.openat2, dirfd, p, struct4(flags | O_CLOEXEC, mode, resolve, 0), 24, 0);
      if (rc >= 0) return Number(rc);
      const e = errno(l);
      if (e !== 11 || tries >= 8) throw new SysError("open", path, e, "openat2");
    }
  },
  openat(dirfd, path, flags, mode) {
    const l = libc();
    return check(l, l.openat(dirfd, cpath(path, PATH1, "open", "openat"), flags | O_CLOEXEC, mode), "open", path, "openat");
  },
  mkdirat(dirfd, path, mode) {
    const l = libc();
    check(l, l.mkdirat(dirfd, cpath(path, PATH1, "create directory", "mkdirat"), mode), "create directory", path, "mkdirat");
  },
  symlinkat(target, dirfd, path) {
    const l = libc();
    check(l, l.symlinkat(cpath(target, PATH2, "create symlink", "symlinkat"), dirfd, cpath(path, PATH1, "create symlink", "symlinkat")), "create symlink", path, "symlinkat");
  },
  unlinkat(dirfd, path, flags) {
    const l = libc();
    check(l, l.unlinkat(dirfd, cpath(path, PATH1, "remove", "unlinkat"), flags), "remove", path, "unlinkat");
  },
  renameat(od, op, nd, np) {
    const l = libc();
    const what = `${op}\` to \`${np}`;
    check(l, l.renameat(od, cpath(op, PATH1, "rename", "renameat"), nd, cpath(np, PATH2, "rename", "renameat")), "rename", what, "renameat");
  },
  cloneTree(path) {
    const l = libc();
    return call(l, SYS.open_tree, AT_FDCWD, cpath(path, PATH1, "clone mount of", "open_tree"), OPEN_TREE_CLONE | O_CLOEXEC, 0, 0, "clone mount of", path, "open_tree");
  },
  setMountAttrs(fd, attrs) {
    const l = libc();
    // Private propagation: nothing mounted under these trees later travels back to the host.
    call(l, SYS.mount_setattr, fd, EMPTY.at, AT_EMPTY_PATH, struct4(attrs, 0, MS_PRIVATE, 0), 32, "set mount attributes on", `fd ${fd}`, "mount_setattr");
  },
  moveMount(fd, targetFd, subject) {
    const l = libc();
    call(l, SYS.move_mount, fd, EMPTY.at, targetFd, EMPTY.at, MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH, "mount", subject, "move_mount");
  },
  stat(dirfd, path, flags) {
    const l = libc();
    const rc = l.syscall(SYS_STATX[process.arch] ?? 332, dirfd, cpath(path, PATH1, "stat", "statx"), flags, STATX_BASIC_STATS | STATX_MNT_ID, STATX.at);
    if (rc < 0) {
      const e = errno(l);
      if (e === 2 || e === 20) return null; // ENOENT, ENOTDIR: not there
      throw new SysError("stat", path || `fd ${dirfd}`, e, "statx");
    }
    const v = STATX_VIEW;
    return {
      mode: v.getUint16(28, true),
      ino: v.getBigUint64(32, true),
      size: Number(v.getBigUint64(40, true)),
      rdevMajor: v.getUint32(128, true),
      rdevMinor: v.getUint32(132, true),
      devMajor: v.getUint32(136, true),
      devMinor: v.getUint32(140, true),
      mntId: v.getBigUint64(144, true),
    };
  },
  readlink(dirfd, path) {
    const l = libc();
    const n = check(l, l.readlinkat(dirfd, cpath(path, PATH1, "read link", "readlinkat"), LINK.at, PATH_MAX), "read link", path, "readlinkat");
    return decoder.decode(LINK.bytes.subarray(0, n));
  },
  read(fd, buf, subject) {
    const l = libc();
    return check(l, l.read(fd, ptr(buf), buf.length), "read", subject, "read");
  },
  write(fd, data, subject) {
    const l = libc();
    for (let at = 0; at < data.length; ) {
      at += check(l, l.write(fd, ptr(data, at), data.length - at), "write", subject, "write");
    }
  },
  readdir(fd, subject) {
    const l = libc();
    const names: string[] = [];
    const buf = new Uint8Array(new ArrayBuffer(32768));
    const at = ptr(buf);
    const v = new DataView(buf.buffer);
    for (;;) {
      const n = call(l, SYS_GETDENTS64[process.arch] ?? 217, fd, at, buf.length, 0, 0, "read directory", subject, "getdents64");
      if (n === 0) return names;
      // struct linux_dirent64: ino u64, off s64, reclen u16, type u8, name (NUL-terminated)
      for (let off = 0; off < n; ) {
        const reclen = v.getUint16(off + 16, true);
        let end = off + 19;
        while (buf[end] !== 0) end++;
        const name = decoder.decode(buf.subarray(off + 19, end));
        if (name !== "." && name !== "..") names.push(name);
        off += reclen;
      }
    }
  },
  chmod(dirfd, path, mode) {
    const l = libc();
    check(l, l.fchmodat(dirfd, cpath(path, PATH1, "change the mode of", "fchmodat"), mode, 0), "change the mode of", path, "fchmodat");
  },
  fsType(fd, subject) {
    const l = libc();
    // struct statfs: f_type is its first word.
    check(l, l.fstatfs(fd, STATX.at), "statfs", subject, "fstatfs");
    return Number(STATX_VIEW.getBigInt64(0, true));
  },
  bpf(cmd, attr, what) {
    const l = libc();
    const nr = SYS_BPF[process.arch];
    if (nr === undefined) throw new NvctError("sys", `bpf is not supported on ${process.arch}`);
    return call(l, nr, cmd, ptr(attr), attr.length, 0, 0, "bpf", what, "bpf");
  },
  tmpfs(options, attrs) {
    const l = libc();
    const fs = call(l, SYS.fsopen, cpath("tmpfs", PATH1, "open filesystem", "fsopen"), 1, 0, 0, 0, "open filesystem", "tmpfs", "fsopen");
    try {
      for (const [k, v] of Object.entries(options)) call(l, SYS.fsconfig, fs, FSCONFIG_SET_STRING, cpath(k, PATH1, "configure tmpfs", "fsconfig"), cpath(v, PATH2, "configure tmpfs", "fsconfig"), 0, "configure tmpfs", `${k}=${v}`, "fsconfig");
      call(l, SYS.fsconfig, fs, FSCONFIG_CMD_CREATE, 0, 0, 0, "create", "tmpfs", "fsconfig");
      return call(l, SYS.fsmount, fs, 1, attrs, 0, 0, "mount", "tmpfs", "fsmount");
    } finally {
      l.close(fs);
    }
  },
};

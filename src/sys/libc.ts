// libc through bun:ffi, loaded on first use. Every call reads errno through __errno_location()
// right after it returns, before any other JS can run a libc call on this thread.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { constants } from "node:os";
import { NvctError } from "../errors";

const { i32, u32, u64, i64, ptr: P, cstring } = FFIType;

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
  syscall: { args: [i64, i64, i64, i64, i64], returns: i64 },
} as const;

type Symbols = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];
let lib: Symbols | undefined;

function libc(): Symbols {
  return (lib ??= dlopen("libc.so.6", SYMBOLS).symbols);
}

const ERRNO_NAMES = new Map<number, string>(Object.entries(constants.errno).map(([k, v]) => [v as number, k]));

/** The failure of one libc call: code `sys`, errno kept, message naming the call and its input. */
export class SysError extends NvctError {
  constructor(
    readonly call: string,
    readonly subject: string,
    readonly errno: number,
  ) {
    super("sys", `failed to ${call} \`${subject}\`: ${ERRNO_NAMES.get(errno) ?? `errno ${errno}`}`, errno);
  }
}

function errno(l: Symbols): number {
  const p = l.__errno_location();
  return read.i32(p!, 0);
}

const cstr = (s: string) => Buffer.from(s + "\0");

function check(l: Symbols, rc: number | bigint, call: string, subject: string): number {
  const n = Number(rc);
  if (n < 0) throw new SysError(call, subject, errno(l));
  return n;
}

export const O_RDONLY = 0;
export const O_PATH = 0o10000000;
export const O_NOFOLLOW = 0o400000;
export const O_CLOEXEC = 0o2000000;
export const O_DIRECTORY = 0o200000;
export const CLONE_FS = 0x200;
export const CLONE_NEWNS = 0x20000;
export const MNT_DETACH = 2;

/** The narrow libc surface the shell uses; tests substitute a recording double. */
export interface Libc {
  open(path: string, flags: number, mode?: number): number;
  close(fd: number): void;
  mount(source: string | null, target: string, fstype: string | null, flags: number, data?: string | null): void;
  umount(target: string, flags: number): void;
  mknodat(dirfd: number, path: string, mode: number, major: number, minor: number): void;
  unshare(flags: number): void;
  setns(fd: number, nstype: number): void;
}

const makedev = (major: number, minor: number) =>
  (BigInt(major & 0xfff) << 8n) | BigInt(minor & 0xff) | (BigInt(minor & ~0xff) << 12n) | (BigInt(major & ~0xfff) << 32n);

/** The real libc. */
export const sys: Libc = {
  open(path, flags, mode = 0) {
    const l = libc();
    return check(l, l.open(ptr(cstr(path)), flags | O_CLOEXEC, mode), "open", path);
  },
  close(fd) {
    const l = libc();
    check(l, l.close(fd), "close", String(fd));
  },
  mount(source, target, fstype, flags, data = null) {
    const l = libc();
    const p = (s: string | null) => (s === null ? (null as unknown as Pointer) : ptr(cstr(s)));
    check(l, l.mount(p(source), ptr(cstr(target)), p(fstype), BigInt(flags), p(data)), "mount", source ?? target);
  },
  umount(target, flags) {
    const l = libc();
    check(l, l.umount2(ptr(cstr(target)), flags), "unmount", target);
  },
  mknodat(dirfd, path, mode, major, minor) {
    const l = libc();
    check(l, l.mknodat(dirfd, ptr(cstr(path)), mode, makedev(major, minor)), "create device node", path);
  },
  unshare(flags) {
    const l = libc();
    check(l, l.unshare(flags), "unshare", `0x${flags.toString(16)}`);
  },
  setns(fd, nstype) {
    const l = libc();
    check(l, l.setns(fd, nstype), "setns", String(fd));
  },
};

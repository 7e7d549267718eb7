// What a process that hands itself to another program needs of libc: read a small file (its
// config) and execve(2). The runtime shim's passthrough (`state`, `delete`, `start`, ...) and the
// docker wrapper do nothing else, so they bind these few symbols and never load node:fs (0.7 ms)
// or the rest of libc's surface (src/sys/libc.ts).
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import type { ReadCalls } from "../files";
import { errnoName, SysError } from "./errno";

const { i32, i64, i64_fast, u64, ptr: P } = FFIType;

const SYMBOLS = {
  __errno_location: { args: [], returns: P },
  execve: { args: [P, P, P], returns: i32 },
  signal: { args: [i32, P], returns: P },
  sigprocmask: { args: [i32, P, P], returns: i32 },
  open: { args: [P, i32, i32], returns: i32 },
  pread: { args: [i32, P, u64, i64], returns: i64_fast },
  close: { args: [i32], returns: i32 },
  syscall: { args: [i64, i64, i64, i64, i64, i64], returns: i64_fast },
} as const;

let lib: ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"] | undefined;
const libc = () => (lib ??= dlopen("libc.so.6", SYMBOLS).symbols);
const errno = () => read.i32(libc().__errno_location() as Pointer, 0);

// ptr() keeps only a number: the buffers stay referenced here, so that no collection between
// ptr() and the call hands the kernel freed memory.
const held: unknown[] = [];
const cstr = (s: string) => {
  const b = Buffer.from(s + "\0");
  held.push(b);
  return ptr(b);
};
/** An Error as node:fs throws them: code and message the errno's name. */
const failed = () => {
  const code = errnoName(errno());
  return Object.assign(new Error(code), { code });
};

const O_NONBLOCK = 0o4000;
const O_CLOEXEC = 0o2000000;
const AT_EMPTY_PATH = 0x1000;
const STATX_TYPE = 0x1;
const STATX_SIZE = 0x200;
const SYS_STATX: Record<string, number> = { x64: 332, arm64: 291 };
const S_IFMT = 0o170000;
const S_IFREG = 0o100000;

/** readRegular's calls (src/files.ts) through libc. */
export const libcReads: ReadCalls = {
  open(path) {
    const fd = libc().open(cstr(path), O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) throw failed();
    return fd;
  },
  stat(fd) {
    const buf = new Uint8Array(new ArrayBuffer(256));
    held.push(buf);
    if (Number(libc().syscall(SYS_STATX[process.arch] ?? 332, fd, cstr(""), AT_EMPTY_PATH, STATX_TYPE | STATX_SIZE, ptr(buf))) < 0) throw failed();
    const v = new DataView(buf.buffer);
    return { regular: (v.getUint16(28, true) & S_IFMT) === S_IFREG, size: Number(v.getBigUint64(40, true)) };
  },
  read(fd, buf, at) {
    if (at >= buf.length) return 0;
    const n = Number(libc().pread(fd, ptr(buf, at), buf.length - at, at));
    if (n < 0) throw failed();
    return n;
  },
  close(fd) {
    libc().close(fd);
  },
};

/**
 * Replaces this process with `path` (same pid, stdio and exit status), argv and env as given;
 * returns only by throwing the SysError of a failed execve.
 */
export function execve(path: string, argv: string[], env: string[]): never {
  const l = libc();
  // NULL-terminated arrays of C strings.
  const table = (list: string[]) => {
    const t = new BigUint64Array(list.length + 1);
    list.forEach((s, i) => (t[i] = BigInt(cstr(s))));
    held.push(t);
    return ptr(t);
  };
  const av = table(argv);
  const ev = table(env);
  const mask = new Uint8Array(128);
  held.push(mask);
  // Bun ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve: give
  // the runtime (and what it starts) the default dispositions and an empty signal mask.
  for (const sig of [13, 25]) l.signal(sig, null);
  l.sigprocmask(2, ptr(mask), null);
  l.execve(cstr(path), av, ev);
  throw new SysError("execute", path, errno(), "execve");
}

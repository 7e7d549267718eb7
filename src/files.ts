// Reading a file others control (config.toml, a bundle's config.json, CDI specs, engine configs,
// an ld.so.cache) and appending to a log someone named: never blocking on a FIFO, never reading
// a device or a directory, never reading without bound. A failure is an Error whose code is the
// errno name or what was wrong ("not a regular file", "larger than N bytes"), for the caller to
// wrap in its own message.
//
// node:fs is loaded on first use, not on import: loading it costs 0.7 ms, and the runtime shim's
// passthrough, which reads only its config (through libc, src/sys/exec.ts), never needs it.
let nodeFs: typeof import("node:fs") | undefined;
/** node:fs, loaded the first time it is asked for. */
export const fs = () => (nodeFs ??= require("node:fs") as typeof import("node:fs"));

const fail = (code: string) => Object.assign(new Error(code), { code });

/** The calls readRegular makes: node:fs's, or another surface's (src/sys/exec.ts's libc). */
export interface ReadCalls {
  /** Opens read-only and non-blocking; a failure is an Error whose code is the errno name. */
  open(path: string): number;
  /** What the open file is: a regular file or not, and its size. */
  stat(fd: number): { regular: boolean; size: number };
  /** pread(2) into buf from `at` to its end, at file offset `at`; the count. */
  read(fd: number, buf: Uint8Array, at: number): number;
  close(fd: number): void;
}

export const nodeReads: ReadCalls = {
  open: (path) => fs().openSync(path, fs().constants.O_RDONLY | fs().constants.O_NONBLOCK),
  stat: (fd) => {
    const st = fs().fstatSync(fd);
    return { regular: st.isFile(), size: st.size };
  },
  read: (fd, buf, at) => fs().readSync(fd, buf, at, buf.length - at, at),
  close: (fd) => fs().closeSync(fd),
};

/** Up to `size` bytes of an open file from its start (fewer if it ends first). */
export function readFd(fd: number, size: number, calls = nodeReads): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const r = calls.read(fd, buf, n);
    if (r <= 0) break;
    n += r;
  }
  return buf.subarray(0, n);
}

/**
 * The bytes of a regular file of at most `max` bytes. Opened with O_NONBLOCK (a FIFO then opens
 * at once and is refused, instead of waiting for a writer), checked on the open descriptor.
 */
export function readRegular(path: string, max: number, calls = nodeReads): Buffer {
  const fd = calls.open(path);
  try {
    const st = calls.stat(fd);
    if (!st.regular) throw fail("not a regular file");
    if (st.size > max) throw fail(`larger than ${max} bytes`);
    return readFd(fd, st.size, calls);
  } finally {
    calls.close(fd);
  }
}

/** readRegular as UTF-8 text. */
export function readRegularText(path: string, max: number, calls = nodeReads): string {
  return readRegular(path, max, calls).toString("utf8");
}

/**
 * Appends text to a log file, created 0644 when missing. A FIFO without a reader, or any other
 * failure, drops the line: a log must never block or fail a container.
 */
export function appendLog(path: string, text: string): void {
  let fd: number | undefined;
  try {
    const { O_WRONLY, O_APPEND, O_CREAT, O_NONBLOCK } = fs().constants;
    fd = fs().openSync(path, O_WRONLY | O_APPEND | O_CREAT | O_NONBLOCK, 0o644);
    const b = Buffer.from(text);
    for (let n = 0; n < b.length; ) n += fs().writeSync(fd, b, n);
  } catch {
  } finally {
    if (fd !== undefined) fs().closeSync(fd);
  }
}

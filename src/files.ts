// Reading a file others control (config.toml, a bundle's config.json, CDI specs, engine configs,
// an ld.so.cache) and appending to a log someone named: never blocking on a FIFO, never reading
// a device or a directory, never reading without bound. A failure is an Error whose code is the
// errno name or what was wrong ("not a regular file", "larger than N bytes"), for the caller to
// wrap in its own message.
import { closeSync, constants, fstatSync, openSync, readSync, writeSync } from "node:fs";

const fail = (code: string) => Object.assign(new Error(code), { code });

/** Up to `size` bytes of an open file from its start (fewer if it ends first). */
export function readFd(fd: number, size: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  let n = 0;
  while (n < size) {
    const r = readSync(fd, buf, n, size - n, n);
    if (r <= 0) break;
    n += r;
  }
  return buf.subarray(0, n);
}

/**
 * The bytes of a regular file of at most `max` bytes. Opened with O_NONBLOCK (a FIFO then opens
 * at once and is refused, instead of waiting for a writer), checked on the open descriptor.
 */
export function readRegular(path: string, max: number): Buffer {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw fail("not a regular file");
    if (st.size > max) throw fail(`larger than ${max} bytes`);
    return readFd(fd, st.size);
  } finally {
    closeSync(fd);
  }
}

/** readRegular as UTF-8 text. */
export function readRegularText(path: string, max: number): string {
  return readRegular(path, max).toString("utf8");
}

/**
 * Appends text to a log file, created 0644 when missing. A FIFO without a reader, or any other
 * failure, drops the line: a log must never block or fail a container.
 */
export function appendLog(path: string, text: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK, 0o644);
    const b = Buffer.from(text);
    for (let n = 0; n < b.length; ) n += writeSync(fd, b, n);
  } catch {
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

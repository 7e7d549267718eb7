// The decision cache: what an earlier container already computed (the driver's facts, the core's
// decisions), kept in a directory of root's, one file per entry, written whole or not at all.
// Input, not truth: an entry is used only when it is a regular file of root's that nobody else
// may write, of sane size, whose recorded key is the key asked for, and that parses; anything
// else (garbage, a link, a FIFO, another binary's entry) is a miss, and the answer is computed
// again. The key holds everything the value depends on, so an entry is never stale: a changed
// input is a new key.
import { closeSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmdirSync, rmSync, unlinkSync, writeSync } from "node:fs";
import { constants } from "node:fs";
import { readFd } from "../files";

/** The largest entry written or read: an image chooses some inputs (its env, its ld.so.cache). */
export const MAX_ENTRY = 1 << 20;
/** The kinds of entry the tools write (`<kind>-<hash>`), for doctor to tell an entry from a stray file. */
export const KINDS = ["index", "facts", "inventory", "request", "plan", "jit", "ldcache", "hook"] as const;
export type Kind = (typeof KINDS)[number];
/**
 * The cache's bounds: past either, the oldest entries go when one is written. /run is memory, and
 * a stream of containers with ever new inputs must not fill it.
 */
const MAX_ENTRIES = 512;
const MAX_BYTES = 32 << 20;

const O_NOFOLLOW = constants.O_NOFOLLOW;
const O_NONBLOCK = constants.O_NONBLOCK;

/** A directory nvct may trust: a real directory of root's that nobody else may write. */
function trustedDir(dir: string): boolean {
  try {
    const st = lstatSync(dir);
    return st.isDirectory() && st.uid === process.getuid!() && (st.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/** The 64-bit hash of a key that names its entry, in hex. */
export const keyHash = (key: string) => Bun.hash(key).toString(16).padStart(16, "0");

/** The file name of a key: kind and the hash of the key. */
function fileOf(dir: string, kind: Kind, key: string): string {
  return `${dir}/${kind}-${keyHash(key)}`;
}

/** The entry's bytes after its key line, when it is trustworthy and holds this key; else null. */
export function readEntry(dir: string, kind: Kind, key: string): Uint8Array | null {
  if (!dir || !trustedDir(dir)) return null;
  let fd: number | undefined;
  try {
    fd = openSync(fileOf(dir, kind, key), constants.O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile() || st.uid !== process.getuid!() || (st.mode & 0o022) !== 0 || st.size > MAX_ENTRY) return null;
    const buf = readFd(fd, st.size);
    const keyBytes = Buffer.from(key + "\n");
    if (buf.length < keyBytes.length || !buf.subarray(0, keyBytes.length).equals(keyBytes)) return null;
    return buf.subarray(keyBytes.length);
  } catch {
    return null;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** A JSON entry, or null. */
export function readJson<T>(dir: string, kind: Kind, key: string, valid: (v: any) => v is T): T | null {
  const b = readEntry(dir, kind, key);
  if (!b) return null;
  try {
    const v = JSON.parse(Buffer.from(b).toString());
    return valid(v) ? v : null;
  } catch {
    return null;
  }
}

/** Whether the writer of temporary file `.kind-PID-random` may still run. */
function alive(name: string): boolean {
  const pid = Number(name.split("-").at(-2));
  if (!Number.isInteger(pid) || pid <= 0) return true;
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** Removes temporary files a killed writer left, and the oldest entries past the limit. */
function prune(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  const entries: [string, number, number][] = [];
  let bytes = 0;
  for (const n of names) {
    try {
      const st = lstatSync(`${dir}/${n}`);
      if (n.startsWith(".")) {
        // A temporary file of a writer that is gone (killed between its create and its rename):
        // its pid no longer runs, or it is older than a minute (a pid since reused, another pid
        // namespace's writer). A live writer whose file is taken loses only its entry.
        if (now - st.mtimeMs > 60_000 || !alive(n)) unlinkSync(`${dir}/${n}`);
      } else {
        entries.push([n, st.mtimeMs, st.size]);
        bytes += st.size;
      }
    } catch {}
  }
  if (entries.length <= MAX_ENTRIES && bytes <= MAX_BYTES) return;
  // Down to half of both bounds, oldest first, so that pruning is rare.
  entries.sort((a, b) => a[1] - b[1]);
  let count = entries.length;
  for (const [n, , size] of entries) {
    if (count <= MAX_ENTRIES / 2 && bytes <= MAX_BYTES / 2) break;
    rmSync(`${dir}/${n}`, { force: true });
    count--;
    bytes -= size;
  }
}

/**
 * Writes an entry: a temporary file beside it (created exclusively, never through a link), then
 * renamed over it. Concurrent writers of one key each rename a whole file; a failure leaves no
 * temporary file. A cache that cannot be written is no error: the next container computes again.
 */
export function writeEntry(dir: string, kind: Kind, key: string, value: Uint8Array | string, log?: (m: string) => void): void {
  if (!dir) return;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch {}
  if (!trustedDir(dir)) {
    log?.(`cache \`${dir}\` not used: not a directory of this user's that only it may write`);
    return;
  }
  const body = Buffer.concat([Buffer.from(key + "\n"), typeof value === "string" ? Buffer.from(value) : value]);
  if (body.length > MAX_ENTRY) return;
  const file = fileOf(dir, kind, key);
  const tmp = `${dir}/.${kind}-${process.pid}-${Math.random().toString(36).slice(2)}`;
  let fd: number | undefined;
  try {
    fd = openSync(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | O_NOFOLLOW, 0o600);
    for (let n = 0; n < body.length; ) n += writeSync(fd, body, n);
    closeSync(fd);
    fd = undefined;
    try {
      renameSync(tmp, file);
    } catch (e) {
      // An empty directory where the entry goes (nothing nvct makes): taken away, then renamed over.
      if ((e as NodeJS.ErrnoException).code !== "EISDIR") throw e;
      rmdirSync(file);
      renameSync(tmp, file);
    }
    // Writes happen on misses only, which compute far longer than a look at the directory.
    prune(dir);
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    log?.(`cache entry not written: ${(e as NodeJS.ErrnoException).code ?? e}`);
  }
}

// Files nvct writes for others to read (specs, engine configs, config.json, its cache) appear whole
// or not at all: a new file beside the target, synced, then renamed over it. A failure leaves the
// old file as it was and no temporary file. The new file keeps the old one's mode and owner (a
// 0600 containerd config with registry credentials stays 0600); a symlinked target is written
// where the link points, unless followLink is false (then a link there is refused).
import { closeSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NvctError, type ErrorCode } from "./errors";

export interface WriteOptions {
  /** The mode of a new file (default 0644). */
  mode?: number;
  /** Write where a symlink at the target points (default true). */
  followLink?: boolean;
  /**
   * Sync the file and its directory before and after the rename (default true). A bundle's
   * config.json, read by runc a moment later and gone with the container, is written without:
   * two fsyncs cost a container's start a millisecond here, more on a busy disk.
   */
  sync?: boolean;
}

export function writeAtomic(file: string, text: string | Uint8Array, code: ErrorCode = "config", o: WriteOptions = {}): void {
  let target = file;
  let mode = o.mode ?? 0o644;
  let owner: [number, number] | null = null;
  let link = false;
  try {
    link = lstatSync(file).isSymbolicLink();
  } catch {}
  if (link && o.followLink === false) throw new NvctError(code, `failed to write \`${file}\`: it is a symlink`);
  try {
    target = realpathSync(file);
    const st = statSync(target);
    if (!st.isFile()) throw new NvctError(code, `failed to write \`${file}\`: not a regular file`);
    mode = st.mode & 0o7777;
    owner = [st.uid, st.gid];
  } catch (e) {
    if (e instanceof NvctError) throw e;
    if (link) throw new NvctError(code, `failed to write \`${file}\`: it is a symlink to a missing file`);
    try {
      mkdirSync(dirname(file), { recursive: true, mode: 0o755 });
    } catch (err) {
      throw new NvctError(code, `failed to write \`${file}\`: ${(err as NodeJS.ErrnoException).code ?? err}`, err);
    }
  }
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.nvct-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", mode); // O_CREAT|O_EXCL: never through someone's symlink
    const buf = typeof text === "string" ? Buffer.from(text) : text;
    for (let n = 0; n < buf.length; ) n += writeSync(fd, buf, n);
    if (owner) fchownSync(fd, owner[0], owner[1]);
    if (o.sync !== false) fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    if (o.sync !== false) {
      const d = openSync(dir, "r");
      try {
        fsyncSync(d);
      } finally {
        closeSync(d);
      }
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new NvctError(code, `failed to write \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
}

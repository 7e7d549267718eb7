// Files nvct writes for others to read (specs, engine configs, config.json) appear whole or not
// at all: a new file beside the target, synced, then renamed over it. A failure leaves the old
// file as it was. The new file keeps the old one's mode and owner (a 0600 containerd config
// with registry credentials stays 0600); a symlinked target is written where the link points.
import { closeSync, fchownSync, fsyncSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { NvctError } from "./errors";

export function writeAtomic(file: string, text: string, code = "config"): void {
  let target = file;
  let mode = 0o644;
  let owner: [number, number] | null = null;
  try {
    target = realpathSync(file);
    const st = statSync(target);
    mode = st.mode & 0o7777;
    owner = [st.uid, st.gid];
  } catch {
    let link = false;
    try {
      link = lstatSync(file).isSymbolicLink();
    } catch {}
    if (link) throw new NvctError(code, `failed to write \`${file}\`: it is a symlink to a missing file`);
    mkdirSync(dirname(file), { recursive: true });
  }
  const dir = dirname(target);
  const tmp = join(dir, `.${basename(target)}.nvct-${process.pid}-${Math.random().toString(36).slice(2)}`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, "wx", mode); // O_CREAT|O_EXCL: never through someone's symlink
    const buf = Buffer.from(text);
    for (let n = 0; n < buf.length; ) n += writeSync(fd, buf, n);
    if (owner) fchownSync(fd, owner[0], owner[1]);
    fsyncSync(fd);
    closeSync(fd);
    fd = undefined;
    renameSync(tmp, target);
    const d = openSync(dir, "r");
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    rmSync(tmp, { force: true });
    throw new NvctError(code, `failed to write \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
  }
}

// PATH lookup as execvp does it: for the tools that exec another program in their place (the
// runtime shim, the docker wrapper), so that the error names the program up front instead of
// leaving it to a failed execve, and for doctor, which says whether a program is there.
import { fs } from "../files";
import type { Env } from "../io";

/** An executable regular file at path, or null. */
export function executable(path: string): string | null {
  try {
    fs().accessSync(path, fs().constants.X_OK);
    return fs().statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

/**
 * The executable `name` (a path as it is, or looked up in $PATH; the default PATH when unset);
 * null when none. The search is Bun.which's, directory by directory (an empty one is the working
 * directory, as for execvp): no node:fs for the runtime shim's passthrough to load.
 */
export function lookPath(name: string, env: Env): string | null {
  if (!name) return null;
  if (name.includes("/")) return executable(name);
  for (const dir of (env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = Bun.which(name, { PATH: dir || ".", cwd: process.cwd() });
    // Bun.which goes by the mode's execute bits; execvp by access(X_OK), which for anyone but
    // root also asks whose bits they are (a root-only 0700 program is skipped).
    if (p && (process.getuid?.() === 0 || executable(p))) return p;
  }
  return null;
}

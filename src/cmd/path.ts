// PATH lookup for the tools that exec another program in their place (the runtime shim, the
// docker wrapper), as execvp would find it, so that the error names the program up front
// instead of leaving it to a failed execve.
import { accessSync, constants, existsSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "../io";

/** The executable `name` (a path, or looked up in $PATH; the default PATH when unset); null when none. */
export function lookPath(name: string, env: Env): string | null {
  if (name.includes("/")) return existsSync(name) ? name : null;
  for (const dir of (env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = join(dir || ".", name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {}
  }
  return null;
}

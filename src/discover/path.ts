// PATH lookup as execvp does it: for the tools that exec another program in their place (the
// runtime shim, the docker wrapper), so that the error names the program up front instead of
// leaving it to a failed execve, and for doctor, which says whether a program is there.
import { accessSync, constants, statSync } from "node:fs";
import { join } from "node:path";
import type { Env } from "../io";

/** An executable regular file at path, or null. */
export function executable(path: string): string | null {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile() ? path : null;
  } catch {
    return null;
  }
}

/** The executable `name` (a path as it is, or looked up in $PATH; the default PATH when unset); null when none. */
export function lookPath(name: string, env: Env): string | null {
  if (!name) return null;
  if (name.includes("/")) return executable(name);
  for (const dir of (env.PATH || "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin").split(":")) {
    const p = executable(join(dir || ".", name));
    if (p) return p;
  }
  return null;
}

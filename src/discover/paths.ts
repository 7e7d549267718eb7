// Path resolution under a driver root: symlinks are followed inside the root, never out of it.
import { lstatSync, readlinkSync } from "node:fs";
import { posix } from "node:path";

/** Joins a root and an absolute path ("/" root = the path itself). */
export function under(root: string, path: string): string {
  return root === "/" ? path : posix.join(root, path);
}

/** The ld.so.cache a driver root's libraries are found by: the one given, else `<root>/etc/ld.so.cache`. */
export const ldcacheFile = (r: { root: string; ldcache?: string }) => r.ldcache ?? under(r.root, "/etc/ld.so.cache");

/**
 * Resolves `path` (absolute, as seen from inside `root`) following symlinks with `root` as "/".
 * Returns the resolved in-root path, or null when a component is missing or links loop.
 */
export function resolveIn(root: string, path: string): string | null {
  let parts = path.split("/").filter(Boolean);
  let done: string[] = [];
  for (let hops = 0; parts.length > 0; ) {
    const name = parts.shift()!;
    if (name === ".") continue;
    if (name === "..") {
      done.pop();
      continue;
    }
    const inRoot = "/" + [...done, name].join("/");
    let st;
    try {
      st = lstatSync(under(root, inRoot));
    } catch {
      return null;
    }
    if (!st.isSymbolicLink()) {
      done.push(name);
      continue;
    }
    if (++hops > 40) return null;
    const target = readlinkSync(under(root, inRoot));
    if (target.startsWith("/")) done = [];
    parts = [...target.split("/").filter(Boolean), ...parts];
  }
  return "/" + done.join("/");
}

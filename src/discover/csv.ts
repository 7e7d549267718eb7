// The CSV mount specs of a Tegra host and the files they name: the spec files' texts, and for
// each entry the paths its pattern matches under the driver root (a dev entry's under the dev
// root), with what each is, where it resolves, its links. Reads only; the core decides.
import { lstatSync, readdirSync, readlinkSync, statSync, type Stats } from "node:fs";
import { readRegularText } from "../files";
import { posix } from "node:path";
import type { CsvEntry, CsvFile, CsvFound, CsvLink, CsvMatch, CsvPathKind } from "../core";
import { resolveIn, under } from "./paths";
import { major, minor } from "./driver";

export const DEFAULT_MOUNT_SPEC_PATH = "/etc/nvidia-container-runtime/host-files-for-container.d";
export const DEFAULT_FILES = ["devices.csv", "drivers.csv", "l4t.csv"].map((f) => `${DEFAULT_MOUNT_SPEC_PATH}/${f}`);

const MAX_CSV = 1 << 20;

/** A file's text, or undefined when it cannot be read (or is not a regular file of sane size). */
function readText(path: string): string | undefined {
  try {
    return readRegularText(path, MAX_CSV);
  } catch {
    return undefined;
  }
}

/** The given files, in order. */
export function readCsvFiles(paths: string[]): CsvFile[] {
  return paths.map((path) => ({ path, text: readText(path) }));
}

/** The `*.csv` entries of a directory that are not directories, in name order; none when it is missing. */
export function listCsvFiles(dir: string): CsvFile[] {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return [];
  }
  const out: CsvFile[] = [];
  for (const n of names) {
    if (!n.toLowerCase().endsWith(".csv")) continue;
    const path = posix.join(dir, n);
    try {
      if (statSync(path).isDirectory()) continue;
    } catch {}
    out.push({ path, text: readText(path) });
  }
  return out;
}

// ---- locating the entries (Go's filepath.Glob under each search prefix) ----

const META = /[*?[\\]/;

/** filepath.Match of one name component, as a regular expression (null: a malformed pattern). */
function componentRegex(p: string): RegExp | null {
  let re = "^";
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "\\") {
      if (++i >= p.length) return null;
      re += p[i].replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
    } else if (c === "[") {
      let j = i + 1;
      let cls = "[";
      if (p[j] === "^") {
        cls += "^";
        j++;
      }
      let first = true;
      for (; j < p.length && (first || p[j] !== "]"); j++) {
        first = false;
        let ch = p[j];
        if (ch === "\\") {
          if (++j >= p.length) return null;
          ch = p[j];
        }
        cls += ch.replace(/[\]\\^-]/g, "\\$&");
        if (p[j + 1] === "-" && p[j + 2] !== undefined && p[j + 2] !== "]") {
          let hi = p[j + 2];
          j += 2;
          if (hi === "\\") {
            if (++j >= p.length) return null;
            hi = p[j];
          }
          cls += "-" + hi.replace(/[\]\\^-]/g, "\\$&");
        }
      }
      if (j >= p.length) return null;
      re += cls + "]";
      i = j;
    } else re += c.replace(/[.*+?^${}()|[\]\\/-]/g, "\\$&");
  }
  try {
    return new RegExp(re + "$", "s");
  } catch {
    return null;
  }
}

function lexists(p: string): boolean {
  try {
    lstatSync(p);
    return true;
  } catch {
    return false;
  }
}

/** The host paths matching an absolute pattern, as filepath.Glob gives them (sorted per directory). */
export function glob(pattern: string): string[] {
  if (!META.test(pattern)) return lexists(pattern) ? [pattern] : [];
  const dir = posix.dirname(pattern);
  const re = componentRegex(posix.basename(pattern));
  if (!re) return [];
  const out: string[] = [];
  for (const d of META.test(dir) ? glob(dir) : [dir]) {
    let names: string[];
    try {
      names = readdirSync(d).sort();
    } catch {
      continue;
    }
    for (const n of names) if (re.test(n)) out.push(posix.join(d, n));
  }
  return out;
}

function kindOf(st: Stats | null): CsvPathKind {
  if (!st) return "missing";
  if (st.isSymbolicLink()) return "symlink";
  if (st.isFile()) return "file";
  if (st.isDirectory()) return "dir";
  if (st.isCharacterDevice()) return "chardev";
  return "other";
}

const lstatOrNull = (p: string) => {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
};
const statOrNull = (p: string) => {
  try {
    return statSync(p);
  } catch {
    return null;
  }
};

const inRoot = (root: string, host: string) => (root === "/" ? host : host.slice(root.replace(/\/+$/, "").length) || "/");

/** The links from `path` (inside the root) to its final target, each as readlink gives it. */
export function linkChain(root: string, path: string): CsvLink[] {
  const chain: CsvLink[] = [];
  const seen = new Set<string>();
  let p = posix.normalize(path);
  while (!seen.has(p) && chain.length < 40) {
    seen.add(p);
    const st = lstatOrNull(under(root, p));
    if (!st?.isSymbolicLink()) break;
    let target: string;
    try {
      target = readlinkSync(under(root, p));
    } catch {
      break;
    }
    chain.push({ path: p, target });
    p = posix.normalize(target.startsWith("/") ? target : posix.join(posix.dirname(p), target));
  }
  return chain;
}

/** The links in a directory (inside the root) whose names start with `prefix`, with their targets. */
function linksIn(root: string, dir: string, prefix: string, cache: Map<string, CsvLink[]>): CsvLink[] {
  let all = cache.get(dir);
  if (!all) {
    all = [];
    try {
      for (const e of readdirSync(under(root, dir), { withFileTypes: true })) {
        if (!e.isSymbolicLink()) continue;
        const path = posix.join(dir, e.name);
        try {
          all.push({ path, target: readlinkSync(under(root, path)) });
        } catch {}
      }
    } catch {}
    all.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    cache.set(dir, all);
  }
  return all.filter((l) => posix.basename(l.path).startsWith(prefix));
}

export interface LocateOptions {
  /** The driver root: lib, sym and dir entries are looked for under it. */
  root: string;
  /** Where dev entries are looked for (searching `/` and `/dev` under it). */
  devRoot: string;
  /** `--library-search-path`s, searched (under the root) before `/` for lib and sym entries. */
  librarySearchPaths?: string[];
}

/**
 * Each entry's matches, as the reference's locators search: dev entries under the dev root's `/`
 * and `/dev` (so `nvmap` finds /dev/nvmap), lib and sym entries under the root's library search
 * paths then `/`, dir entries under the root; globs expanded, each path once per entry.
 */
export function locateEntries(entries: CsvEntry[], o: LocateOptions): CsvFound[] {
  const besides = new Map<string, CsvLink[]>();
  return entries.map((entry) => {
    const root = entry.kind === "dev" ? o.devRoot : o.root;
    const prefixes = entry.kind === "dev" ? ["/", "/dev"] : entry.kind === "dir" ? ["/"] : [...(o.librarySearchPaths ?? []), "/"];
    const hosts: string[] = [];
    const top = root.replace(/\/+$/, "");
    for (const prefix of prefixes) {
      for (const h of glob(posix.join(under(root, prefix), entry.path))) {
        // A `..` in a spec's path never leads out of the root.
        if (top && h !== top && !h.startsWith(top + "/")) continue;
        if (!hosts.includes(h)) hosts.push(h);
      }
    }
    const matches = hosts.map((host): CsvMatch => {
      const path = inRoot(root, host);
      const st = lstatOrNull(host);
      const resolved = resolveIn(root, path) ?? "";
      const rst = resolved ? statOrNull(under(root, resolved)) : null;
      const chardev = !!st?.isCharacterDevice();
      const name = posix.basename(resolved);
      return {
        path,
        kind: kindOf(st),
        resolved,
        resolvedKind: resolved ? kindOf(rst) : "missing",
        major: chardev ? major(st!.rdev) : 0,
        minor: chardev ? minor(st!.rdev) : 0,
        mode: chardev ? st!.mode & 0o7777 : 0,
        gid: chardev ? st!.gid : 0,
        chain: entry.kind === "sym" ? linkChain(root, path) : [],
        beside: entry.kind === "lib" && rst?.isFile() ? linksIn(root, posix.dirname(resolved), `${name.slice(0, name.indexOf(".so") < 0 ? name.length : name.indexOf(".so"))}.so`, besides) : [],
      };
    });
    return { entry, matches };
  });
}

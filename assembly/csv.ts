// Jetson / Tegra: the CSV mount specs (`dev, /dev/nvmap`, `lib, PATH`, `sym, PATH`, `dir, PATH`)
// and what a container gets from them, as CDI edits: the runtime's csv mode, and
// `nvidia-ctk cdi generate --mode=csv`. The shell reads the files and finds each entry's paths;
// everything decided about them is decided here.
import {
  Box, CdiDevice, CdiDeviceNode, CdiEdits, CdiMount, CdiSpec, Code, CsvEntry, CsvFound, CsvHost, CsvKind, CsvLink, CsvLoad, CsvMatch,
  CsvPathKind, CsvRequest, CsvSpecInput, CsvSpecs, Failure, NameStrategy, Outcome, ok,
} from "../build/out/gen/types";
import { hook, HookChoice, ldcacheHook, minimumVersion, mountOptions } from "./cdi";
import { failed, failure } from "./outcome";
import { parse, Term, versionHolds } from "./requirement";
import { basename, dirname, stem, under } from "./text";
import { fileFlags } from "./vocabulary";

/** The files the runtime reads of a mount-spec directory unless NVIDIA_REQUIRE_JETPACK=csv-mounts=all. */
export const BASE_FILES: string[] = ["devices.csv", "drivers.csv", "l4t.csv"];
export const TEGRA_RELEASE = "/etc/nv_tegra_release";
export const ORIN_COMPAT_ROOT = "/usr/local/cuda/compat_orin";
const KINDS: string[] = ["dev", "lib", "sym", "dir"];

/** The value of an env variable (the last entry wins), or null. */
function envValue(env: string[], name: string): string | null {
  let v: string | null = null;
  for (let i = 0; i < env.length; i++) if (env[i].startsWith(name + "=")) v = env[i].substring(name.length + 1);
  return v;
}

// ---- Go's filepath.Match (for --csv.ignore-pattern and the driver library names) ----

/** The class at p[i] (after `[`) matches c; -1 for a malformed class, else the index after `]`. */
function classEnd(p: string, i: i32, c: i32, hit: Box<bool>): i32 {
  let negate = false;
  if (i < p.length && p.charCodeAt(i) == 0x5e) {
    negate = true;
    i++;
  }
  let matched = false;
  let first = true;
  while (true) {
    if (i >= p.length) return -1;
    let lo = p.charCodeAt(i);
    if (lo == 0x5d && !first) {
      i++;
      break;
    }
    first = false;
    if (lo == 0x5c) {
      i++;
      if (i >= p.length) return -1;
      lo = p.charCodeAt(i);
    }
    i++;
    let hi = lo;
    if (i + 1 < p.length && p.charCodeAt(i) == 0x2d && p.charCodeAt(i + 1) != 0x5d) {
      i++;
      hi = p.charCodeAt(i);
      if (hi == 0x5c) {
        i++;
        if (i >= p.length) return -1;
        hi = p.charCodeAt(i);
      }
      i++;
    }
    if (lo <= c && c <= hi) matched = true;
  }
  hit.value = matched != negate;
  return i;
}

function matchFrom(p: string, pi: i32, s: string, si: i32): bool {
  while (pi < p.length) {
    const c = p.charCodeAt(pi);
    if (c == 0x2a) {
      while (pi < p.length && p.charCodeAt(pi) == 0x2a) pi++;
      for (let k = si; k <= s.length; k++) {
        if (matchFrom(p, pi, s, k)) return true;
        if (k < s.length && s.charCodeAt(k) == 0x2f) break;
      }
      return false;
    }
    if (si >= s.length) return false;
    const sc = s.charCodeAt(si);
    if (c == 0x3f) {
      if (sc == 0x2f) return false;
      pi++;
    } else if (c == 0x5b) {
      const hit = new Box<bool>(false);
      const end = classEnd(p, pi + 1, sc, hit);
      if (end < 0 || !hit.value) return false;
      pi = end;
    } else if (c == 0x5c) {
      if (pi + 1 >= p.length || p.charCodeAt(pi + 1) != sc) return false;
      pi += 2;
    } else {
      if (c != sc) return false;
      pi++;
    }
    si++;
  }
  return si == s.length;
}

/** filepath.Match(pattern, name): `*`, `?`, `[class]`, `\` escapes; a malformed pattern matches nothing. */
export function globMatch(pattern: string, name: string): bool {
  return matchFrom(pattern, 0, name, 0);
}

/** An ignore pattern: `**\/P` matches P against the base name, any other the whole path. */
function ignored(patterns: string[], path: string): bool {
  for (let i = 0; i < patterns.length; i++) {
    const p = patterns[i];
    if (p.startsWith("**/") ? globMatch(p.substring(3), basename(path)) : globMatch(p, path)) return true;
  }
  return false;
}

// ---- the files ----

/** One line of a CSV file: its entry, or why it is not one. */
export function parseLine(line: string, why: Box<string>): CsvEntry | null {
  const t = line.trim();
  const comma = t.indexOf(",");
  if (comma < 0) {
    why.value = "expected KIND, PATH";
    return null;
  }
  const kind = t.substring(0, comma).trim();
  const path = t.substring(comma + 1).trim();
  const k = KINDS.indexOf(kind);
  if (k < 0) {
    why.value = "unexpected mount type: " + kind;
    return null;
  }
  if (path.length == 0) {
    why.value = "invalid path: ";
    return null;
  }
  const e = new CsvEntry();
  e.kind = <CsvKind>k;
  e.path = path;
  return e;
}

/**
 * csvparse(load). Which files: every one given, or of a listed directory the `*.csv` files (not
 * one named `.csv`) and of those only devices.csv, drivers.csv and l4t.csv unless the container's
 * NVIDIA_REQUIRE_JETPACK is `csv-mounts=all`; none left: use-defaults. Each line is `KIND, PATH`
 * (trimmed; the path may hold commas): KIND exactly dev, lib, sym or dir, PATH not empty; any
 * other line (blank, `#...`) is skipped (listed in skipped, blank ones aside), a file that cannot be
 * read or has no valid line with a warning. sym entries matching an ignore pattern are dropped.
 */
export function csvparse(load: CsvLoad): CsvSpecs {
  const out = new CsvSpecs();
  const jetpack = envValue(load.env, "NVIDIA_REQUIRE_JETPACK");
  const every = jetpack !== null && changetype<string>(jetpack) == "csv-mounts=all";
  for (let i = 0; i < load.files.length; i++) {
    const f = load.files[i];
    const name = basename(f.path);
    if (load.listed) {
      if (!name.toLowerCase().endsWith(".csv") || name == ".csv") continue;
      if (!every && !BASE_FILES.includes(name)) continue;
    }
    out.files.push(f.path);
    if (f.text === null) {
      out.warnings.push("Skipping CSV file " + f.path + ": failed to open it for reading");
      continue;
    }
    const lines = changetype<string>(f.text).split("\n");
    let valid = 0;
    for (let n = 0; n < lines.length; n++) {
      const why = new Box<string>("");
      const e = parseLine(lines[n], why);
      if (e === null) {
        if (lines[n].trim().length > 0) out.skipped.push("Skipping invalid mount spec '" + lines[n].trim() + "' (" + f.path + " line " + (n + 1).toString() + "): " + why.value);
        continue;
      }
      valid++;
      if (e.kind == CsvKind.Sym && ignored(load.ignorePatterns, e.path)) continue;
      out.entries.push(e);
    }
    if (valid == 0) out.warnings.push("Skipping CSV file " + f.path + ": CSV file is empty");
  }
  out.useDefaults = load.listed && out.files.length == 0;
  return out;
}

// ---- what the host's files become ----


/** `lib?*.so*` whose last `.so` ends the name or is followed by a dot: a library for the ld cache. */
export function isLibName(path: string): bool {
  const base = basename(path);
  if (!globMatch("lib?*.so*", base)) return false;
  const parts = base.split(".so");
  const last = parts[parts.length - 1];
  return parts.length == 1 || last.length == 0 || last.startsWith(".");
}

function depth(p: string): i32 {
  let n = 0;
  for (let i = 0; i < p.length; i++) if (p.charCodeAt(i) == 0x2f) n++;
  return n;
}

function byDepth(a: string, b: string): i32 {
  const da = depth(a);
  const db = depth(b);
  if (da != db) return da - db;
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What the host's files become: device nodes (with their groups), mounts, links, ld cache folders. */
class Built {
  nodes: CdiDeviceNode[] = [];
  gids: u32[] = [];
  mounts: CdiMount[] = [];
  /** `TARGET::LINK`, one per link path (a later one replaces an earlier one, as the hook would). */
  links: string[] = [];
  folders: string[] = [];
  private nodeSeen: Set<string> = new Set();
  private mountSeen: Set<string> = new Set();

  node(m: CsvMatch, devRoot: string): void {
    if (this.nodeSeen.has(m.path)) return;
    this.nodeSeen.add(m.path);
    const n = new CdiDeviceNode();
    n.path = m.path;
    const host = under(devRoot, m.path);
    if (host != m.path) n.hostPath = host;
    n.major = new Box<u32>(m.major);
    n.minor = new Box<u32>(m.minor);
    const mode = m.mode & 0o7777;
    if (mode != 0) n.fileMode = new Box<u32>(mode);
    n.permissions = "rwm";
    if (m.gid != 0) {
      n.gid = new Box<u32>(m.gid);
      // A node its group may use but not everyone: the container's user joins the group.
      if ((mode & 0o006) != 0o006 && !this.gids.includes(m.gid)) this.gids.push(m.gid);
    }
    this.nodes.push(n);
  }

  mount(host: string, path: string): void {
    if (this.mountSeen.has(path)) return;
    this.mountSeen.add(path);
    const m = new CdiMount();
    m.hostPath = host;
    m.containerPath = path;
    m.options = mountOptions(fileFlags());
    this.mounts.push(m);
    if (isLibName(path)) {
      const dir = dirname(path);
      if (!this.folders.includes(dir)) this.folders.push(dir);
    }
  }

  link(target: string, path: string): void {
    const suffix = "::" + path;
    for (let i = this.links.length - 1; i >= 0; i--) if (this.links[i].endsWith(suffix)) this.links.splice(i, 1);
    this.links.push(target + suffix);
  }
}

/** The stem of a library name: `libcuda` of `libcuda.so.1.1`. */
/** Does the link beside a library lead to it (through other links of its directory)? */
function leadsTo(l: CsvLink, file: string, beside: CsvLink[]): bool {
  const name = basename(file);
  let t = l.target;
  for (let hops = 0; hops < 40; hops++) {
    if (t == name || t == file) return true;
    if (t.indexOf("/") >= 0) return false;
    let next: string | null = null;
    for (let i = 0; i < beside.length; i++) if (basename(beside[i].path) == t) next = beside[i].target;
    if (next === null) return false;
    t = changetype<string>(next);
  }
  return false;
}

/** A library's links: the driver's compatibility names, and its SONAME and `.so` links where the host has them. */
function libraryLinks(b: Built, m: CsvMatch): void {
  const file = m.resolved;
  const dir = dirname(file);
  const name = basename(file);
  if (globMatch("libcuda.so.*.*", name)) b.link("libcuda.so.1", dir + "/libcuda.so");
  else if (globMatch("libGLX_nvidia.so.*.*", name)) b.link(name, dir + "/libGLX_indirect.so.0");
  else if (globMatch("libnvidia-opticalflow.so.*.*", name)) b.link("libnvidia-opticalflow.so.1", dir + "/libnvidia-opticalflow.so");
  if (!globMatch("*.*.*", name)) return;
  const s = stem(name);
  for (let i = 0; i < m.beside.length; i++) {
    const l = m.beside[i];
    const n = basename(l.path);
    if (n == name || dirname(l.path) != dir || !(n == s + ".so" || n.startsWith(s + ".so."))) continue;
    // The compatibility link above stays as it is.
    if (n == "libcuda.so" && globMatch("libcuda.so.*.*", name)) continue;
    if (leadsTo(l, file, m.beside)) b.link(l.target, l.path);
  }
}

function entriesOf(host: CsvHost, kind: CsvKind): CsvFound[] {
  const out = new Array<CsvFound>();
  for (let i = 0; i < host.found.length; i++) if (host.found[i].entry.kind == kind) out.push(host.found[i]);
  return out;
}

/**
 * The host's files as edits, kind by kind: dev matches that are character devices (lstat: not a
 * link) become nodes at their path inside the dev root, with major, minor, mode, rwm and group;
 * dir matches that are directories are mounted at their path; lib matches that resolve to a file
 * are mounted where they resolve, with libcuda.so / libGLX_indirect.so.0 /
 * libnvidia-opticalflow.so and the SONAME and .so links the host has beside them; sym matches
 * that resolve to a file have their final target mounted where it is and every link of their
 * chain made; the host's /etc/nv_tegra_release is mounted. Mounts are read-only, nosuid, nodev.
 */
function build(host: CsvHost): Built {
  const b = new Built();
  const devs = entriesOf(host, CsvKind.Dev);
  for (let i = 0; i < devs.length; i++) {
    for (let k = 0; k < devs[i].matches.length; k++) if (devs[i].matches[k].kind == CsvPathKind.Chardev) b.node(devs[i].matches[k], host.devRoot);
  }
  const dirs = entriesOf(host, CsvKind.Dir);
  for (let i = 0; i < dirs.length; i++) {
    for (let k = 0; k < dirs[i].matches.length; k++) {
      const m = dirs[i].matches[k];
      if (m.resolvedKind == CsvPathKind.Dir) b.mount(under(host.root, m.resolved), m.path);
    }
  }
  const libs = entriesOf(host, CsvKind.Lib);
  for (let i = 0; i < libs.length; i++) {
    for (let k = 0; k < libs[i].matches.length; k++) {
      const m = libs[i].matches[k];
      if (m.resolvedKind != CsvPathKind.File) continue;
      b.mount(under(host.root, m.resolved), m.resolved);
      libraryLinks(b, m);
    }
  }
  const syms = entriesOf(host, CsvKind.Sym);
  for (let i = 0; i < syms.length; i++) {
    for (let k = 0; k < syms[i].matches.length; k++) {
      const m = syms[i].matches[k];
      if (m.resolvedKind != CsvPathKind.File) continue;
      b.mount(under(host.root, m.resolved), m.resolved);
      for (let c = 0; c < m.chain.length; c++) b.link(m.chain[c].target, m.chain[c].path);
    }
  }
  if (host.tegraRelease) b.mount(TEGRA_RELEASE, TEGRA_RELEASE);
  b.nodes.sort((x: CdiDeviceNode, y: CdiDeviceNode): i32 => byDepth(x.path, y.path));
  b.mounts.sort((x: CdiMount, y: CdiMount): i32 => byDepth(x.containerPath, y.containerPath));
  return b;
}

/** The edits every device shares: mounts, then the hooks (links, CUDA compat, ld cache), and the env. */
function commonEdits(host: CsvHost, b: Built, hookPath: string, ldconfigPath: string, hooks: HookChoice): CdiEdits {
  const e = new CdiEdits();
  e.mounts = b.mounts;
  if (b.links.length > 0 && hooks.on("create-symlinks")) {
    const args: string[] = ["create-symlinks"];
    for (let i = 0; i < b.links.length; i++) {
      args.push("--link");
      args.push(b.links[i]);
    }
    e.hooks.push(hook(hookPath, args));
  }
  if (host.nvmlCuda.length > 0 && hooks.on("enable-cuda-compat")) {
    const args: string[] = ["enable-cuda-compat", "--host-cuda-version=" + host.nvmlCuda];
    if (host.orin) args.push("--cuda-compat-container-root=" + (host.compatRoot.length > 0 ? host.compatRoot : ORIN_COMPAT_ROOT));
    e.hooks.push(hook(hookPath, args));
  }
  if (b.folders.length > 0 && hooks.on("update-ldcache")) e.hooks.push(ldcacheHook(hookPath, ldconfigPath, b.folders));
  // The devices are in the spec now: nothing reading the env must inject them again.
  e.env = ["NVIDIA_VISIBLE_DEVICES=void"];
  return e;
}

/** A pure CSV host has one device, `0`: only `0` and `all` name it. */
function checkIds(ids: string[]): Failure | null {
  for (let i = 0; i < ids.length; i++) {
    if (ids[i] != "all" && ids[i] != "0") return failure(Code.UnknownDevice, "unsupported device id `" + ids[i] + "` in csv mode: want 0 or all");
  }
  return null;
}


/**
 * A requirement on a Tegra host: only `cuda` (libcuda's version) and `arch` (device 0's compute
 * capability) are known there; a term on anything else, or on a fact not known, is skipped, and an
 * alternative left without terms too. Null when it holds (or nothing of it can be checked).
 */
export function checkCsvRequirement(expr: string, cuda: string, arch: string): Failure | null {
  const parsed = parse(expr);
  if (parsed.error !== null) return parsed.error;
  let checked = false;
  for (let i = 0; i < parsed.alts.length; i++) {
    const alt = parsed.alts[i];
    let terms = 0;
    let all = true;
    for (let j = 0; j < alt.length; j++) {
      const n = alt[j].name;
      const fact = n == "cuda" ? cuda : n == "arch" ? arch : "";
      if (fact.length == 0) continue;
      terms++;
      if (!versionHolds(alt[j], fact)) all = false;
    }
    if (terms == 0) continue;
    checked = true;
    if (all) return null;
  }
  if (!checked) return null;
  const e = expr.trim();
  const advice = e.startsWith("cuda>=") ? ", please update your driver to a newer version, or use an earlier cuda container" : "";
  return failure(Code.Unsatisfied, "unsatisfied condition: " + e + advice);
}

/**
 * csvedits(request). The runtime's csv mode for a container that asks for devices: the ids must
 * be `0` or `all` (none: all); every requirement is checked (see checkCsvRequirement); then the
 * edits: the dev nodes, the mounts, one create-symlinks hook (library links, then the sym
 * chains), enable-cuda-compat where NVML loads, update-ldcache with the libraries' folders, the
 * nodes' groups as additional gids, and NVIDIA_VISIBLE_DEVICES=void.
 * Failures: unknown-device, bad-requirement, unsatisfied.
 */
export function csvedits(req: CsvRequest): Outcome<CdiEdits> {
  const bad = checkIds(req.devices);
  if (bad !== null) return failed<CdiEdits>(bad);
  for (let i = 0; i < req.requires.length; i++) {
    const err = checkCsvRequirement(req.requires[i], req.cuda, req.arch);
    if (err !== null) return failed<CdiEdits>(err);
  }
  const b = build(req.host);
  const e = commonEdits(req.host, b, req.hookPath, "", new HookChoice([], []));
  e.deviceNodes = b.nodes;
  e.additionalGids = b.gids;
  return ok<CdiEdits>(e);
}

/**
 * csvspec(input). A spec of kind vendor/class for a pure CSV host: one device, named by each
 * strategy (index `0`, type-index `gpu0`; uuid gives none), holding the dev nodes and their
 * groups; `all` (unless no-all-device) the same; the common edits as csvedits' (hooks as
 * enabled and disabled, update-ldcache's --ldconfig-path). Device ids: `0` and `all`.
 * cdiVersion: the minimum the content needs. Failures: unknown-device.
 */
export function csvspec(input: CsvSpecInput): Outcome<CdiSpec> {
  const o = input.options;
  const bad = checkIds(o.deviceIds);
  if (bad !== null) return failed<CdiSpec>(bad);
  const b = build(input.host);
  const spec = new CdiSpec();
  spec.kind = o.vendor + "/" + o.class;
  const strategies = o.strategies.length > 0 ? o.strategies : [NameStrategy.Index];
  const names = new Array<string>();
  for (let i = 0; i < strategies.length; i++) {
    const n = strategies[i] == NameStrategy.Index ? "0" : strategies[i] == NameStrategy.TypeIndex ? "gpu0" : "";
    if (n.length > 0 && !names.includes(n)) names.push(n);
  }
  if (!o.noAllDevice && !names.includes("all")) names.push("all");
  names.sort();
  for (let i = 0; i < names.length; i++) {
    const d = new CdiDevice();
    d.name = names[i];
    d.edits.deviceNodes = b.nodes;
    d.edits.additionalGids = b.gids;
    spec.devices.push(d);
  }
  spec.edits = commonEdits(input.host, b, o.hookPath, o.ldconfigPath, new HookChoice(o.enabledHooks, o.disabledHooks));
  spec.version = minimumVersion(spec);
  return ok<CdiSpec>(spec);
}


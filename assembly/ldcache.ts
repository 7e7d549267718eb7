// The glibc ld.so.cache format, read from bytes the host hands over.
import { Code, LdcacheUpdate, LdEntry, Outcome, ok } from "../build/out/gen/types";
import { fail } from "./outcome";
import { GRAPHICS_LIBS } from "./graphics";
import { LIBRARIES } from "./vocabulary";

const OLD_MAGIC = "ld.so-1.7.0";
const NEW_MAGIC = "glibc-ld.so.cache1.1";
const NEW_HEADER: usize = 48; // magic(20) nlibs len_strings flags+pad(4) extension_offset unused[3]
const NEW_ENTRY: usize = 24; // flags key value osversion hwcap(8)
const OLD_ENTRY: usize = 12; // flags key value

// The required-arch byte of an entry's flags (glibc's FLAG_*): which ones are 64-bit.
const ARCH64: i32[] = [0x0100, 0x0200, 0x0300, 0x0400, 0x0500, 0x0700, 0x0a00];
const FLAG_ELF_LIBC6 = 0x0003;

function magicAt(p: usize, len: usize, off: usize, magic: string): bool {
  if (off + <usize>magic.length > len) return false;
  for (let i = 0; i < magic.length; i++) if (<i32>load<u8>(p + off + i) != magic.charCodeAt(i)) return false;
  return true;
}

function cstr(p: usize, len: usize, off: usize): string | null {
  let end = off;
  while (end < len && load<u8>(p + end) != 0) end++;
  if (end >= len) return null;
  return String.UTF8.decodeUnsafe(p + off, end - off, false);
}

/**
 * One entry as the file has it; bits is 64, 32, or 0 for entries nvct does not report. hwcaps:
 * the glibc-hwcaps subdirectory of an entry that has one (its hwcap's low 32 bits index the
 * extension's list of them); "" for other entries, and for one whose subdirectory cannot be read.
 */
class Entry {
  constructor(public name: string, public path: string, public bits: i32, public flags: i32, public osv: u32, public hwcap: u64, public hwcaps: string = "") {}
}

// glibc's DL_CACHE_HWCAP_EXTENSION: the entry is a glibc-hwcaps one (glibc 2.33 and later).
const HWCAP_EXTENSION: u64 = 1 << 62;
// The extension directory (glibc's cache_extension): its magic, and the glibc-hwcaps section's tag.
const EXTENSION_MAGIC: u32 = 0xeaa42174;
const TAG_GLIBC_HWCAPS: u32 = 1;
const EXTENSION_HEADER: usize = 8; // magic count
const EXTENSION_SECTION: usize = 16; // tag flags offset size

/**
 * The glibc-hwcaps subdirectory names of a cache, by index, as the loader reads them: the
 * extension directory at the header's extension_offset, its glibc-hwcaps section an array of
 * string offsets; every offset from the start of the file. Empty when there is none or it is bad.
 */
function hwcapsNames(p: usize, len: usize, base: usize): string[] {
  const none = new Array<string>();
  const off = <usize>load<u32>(p + base + 32);
  if (off == 0 || off % 4 != 0 || off > len || len - off < EXTENSION_HEADER) return none;
  if (load<u32>(p + off) != EXTENSION_MAGIC) return none;
  const count = <usize>load<u32>(p + off + 4);
  if (count > (len - off - EXTENSION_HEADER) / EXTENSION_SECTION) return none;
  for (let i: usize = 0; i < count; i++) {
    const sec = p + off + EXTENSION_HEADER + i * EXTENSION_SECTION;
    if (load<u32>(sec) != TAG_GLIBC_HWCAPS) continue;
    const at = <usize>load<u32>(sec + 8);
    const size = <usize>load<u32>(sec + 12);
    if (at > len || size > len - at) return none;
    const out = new Array<string>();
    for (let k: usize = 0; k + 4 <= size; k += 4) {
      const s = <usize>load<u32>(p + at + k);
      const name = s < len ? cstr(p, len, s) : null;
      out.push(name == null ? "" : changetype<string>(name));
    }
    return out;
  }
  return none;
}

/** The libc6 entries of a cache, or why the bytes are not a cache (error non-empty). */
class Scan {
  constructor(public entries: Entry[], public error: string) {}
}

function scan(p: usize, len: usize): Scan {
  const none = new Array<Entry>();
  let base: usize = 0;
  if (magicAt(p, len, 0, OLD_MAGIC)) {
    if (len < 16) return new Scan(none, "truncated old header");
    const n = <usize>load<u32>(p + 12);
    if (n > (len - 16) / OLD_ENTRY) return new Scan(none, "old table runs past the end");
    base = (16 + n * OLD_ENTRY + 7) & ~(<usize>7);
  }
  if (!magicAt(p, len, base, NEW_MAGIC)) return new Scan(none, "missing `" + NEW_MAGIC + "` header");
  if (len < base + NEW_HEADER) return new Scan(none, "truncated header");
  const n = <usize>load<u32>(p + base + 20);
  if (n > (len - base - NEW_HEADER) / NEW_ENTRY) return new Scan(none, "entry table runs past the end");
  const hwcaps = hwcapsNames(p, len, base);
  const out = new Array<Entry>();
  for (let i: usize = 0; i < n; i++) {
    const e = p + base + NEW_HEADER + i * NEW_ENTRY;
    const flags = <i32>load<i32>(e);
    const key = <usize>load<u32>(e + 4) + base;
    const value = <usize>load<u32>(e + 8) + base;
    if (key >= len || value >= len) return new Scan(none, "string offset outside the file in entry " + i.toString());
    const name = cstr(p, len, key);
    const path = cstr(p, len, value);
    if (name == null || path == null) return new Scan(none, "unterminated string in entry " + i.toString());
    let bits = ARCH64.includes(flags & 0xff00) ? 64 : (flags & 0xff00) == 0 ? 32 : 0;
    if ((flags & 0xff) != FLAG_ELF_LIBC6) bits = 0;
    const hwcap = load<u64>(e + 16);
    const index = <i32>(<u32>(hwcap & 0xffffffff));
    const sub = (hwcap & HWCAP_EXTENSION) != 0 && index < hwcaps.length ? hwcaps[index] : "";
    out.push(new Entry(changetype<string>(name), changetype<string>(path), bits, flags, load<u32>(e + 12), hwcap, sub));
  }
  return new Scan(out, "");
}

/**
 * glibc's _dl_cache_libcmp: names compared with digit runs as numbers, so that libfoo.so.10 sorts
 * after libfoo.so.9. The loader binary-searches the cache in this order, so the writer must use it.
 */
export function libcmp(a: string, b: string): i32 {
  let i = 0;
  let j = 0;
  while (i < a.length) {
    const c = a.charCodeAt(i);
    const d = j < b.length ? b.charCodeAt(j) : 0;
    const cd = c >= 0x30 && c <= 0x39;
    const dd = d >= 0x30 && d <= 0x39;
    if (cd && dd) {
      let v1: i64 = 0;
      let v2: i64 = 0;
      while (i < a.length && a.charCodeAt(i) >= 0x30 && a.charCodeAt(i) <= 0x39) v1 = v1 * 10 + <i64>(a.charCodeAt(i++) - 0x30);
      while (j < b.length && b.charCodeAt(j) >= 0x30 && b.charCodeAt(j) <= 0x39) v2 = v2 * 10 + <i64>(b.charCodeAt(j++) - 0x30);
      if (v1 != v2) return v1 < v2 ? -1 : 1;
    } else if (cd) {
      return 1;
    } else if (dd) {
      return -1;
    } else if (c != d) {
      return c - d;
    } else {
      i++;
      j++;
    }
  }
  return j < b.length ? -b.charCodeAt(j) : 0;
}

function entryOrder(x: Entry, y: Entry): i32 {
  const c = libcmp(y.name, x.name); // descending, as ldconfig writes it
  if (c != 0) return c;
  if (x.flags != y.flags) return y.flags - x.flags; // as ldconfig: higher flags (the 64-bit entry) first
  // glibc-hwcaps entries before the others of their name, by subdirectory: the loader stops at
  // the first entry without one.
  const xh = x.hwcaps.length > 0;
  const yh = y.hwcaps.length > 0;
  if (xh != yh) return xh ? -1 : 1;
  if (x.hwcaps != y.hwcaps) return x.hwcaps < y.hwcaps ? -1 : 1;
  return 0;
}


/** True when name is `<stem>.so` or `<stem>.so.<anything>` for one of the driver's stems. */
function driverLibrary(name: string): bool {
  const dot = name.indexOf(".so");
  if (dot <= 0) return false;
  if (name.length != dot + 3 && name.charCodeAt(dot + 3) != 0x2e) return false;
  const stem = name.substring(0, dot);
  for (let g = 0; g < LIBRARIES.length; g++) if (LIBRARIES[g].includes(stem)) return true;
  if (GRAPHICS_LIBS.includes(stem)) return true;
  return false;
}

/**
 * ldcacheread(data, all). Reads a glibc ld.so.cache: the `glibc-ld.so.cache1.1` format, alone or
 * after the old `ld.so-1.7.0` table (whose entries it skips: the new table carries the same
 * libraries). Result: the libc6 ELF entries in cache order (bits 32 when no 64-bit arch flag);
 * only the driver's libraries (vocabulary.ts) unless `all`. Failures: `bad-ldcache` (bad magic,
 * truncated table, or a string offset outside the file).
 */
export function ldcacheRead(data: Uint8Array, all: bool): Outcome<LdEntry[]> {
  const sc = scan(data.dataStart, <usize>data.length);
  if (sc.error.length > 0) return fail<LdEntry[]>(Code.BadLdcache, "invalid ld.so.cache: " + sc.error);
  const out = new Array<LdEntry>();
  for (let i = 0; i < sc.entries.length; i++) {
    const e = sc.entries[i];
    if (e.bits == 0 || (!all && !driverLibrary(e.name))) continue;
    const l = new LdEntry();
    l.name = e.name;
    l.path = e.path;
    l.bits = <u8>e.bits;
    out.push(l);
  }
  return ok<LdEntry[]>(out);
}

/**
 * `lib<name>.so.<digits>[.<digits>...]`, or `lib<name>.so`: what ldconfig takes from a folder (it
 * files an unversioned library such as Tegra's libnvrm_gpu.so under that name, its SONAME).
 */
function libraryFileName(name: string): bool {
  if (!name.startsWith("lib")) return false;
  if (name.length > 6 && name.endsWith(".so") && name.indexOf(".so") == name.length - 3) return true;
  const so = name.indexOf(".so.");
  if (so < 4) return false;
  const rest = name.substring(so + 4).split(".");
  for (let i = 0; i < rest.length; i++) {
    if (rest[i].length == 0) return false;
    for (let k = 0; k < rest[i].length; k++) {
      const c = rest[i].charCodeAt(k);
      if (c < 0x30 || c > 0x39) return false;
    }
  }
  return true;
}

/**
 * ldcachewrite(update). `old` is the container's current cache (any bytes: a missing or corrupt
 * cache counts as empty); `add` are entries to add; `candidates` are files of update-ldcache
 * folders with their first bytes: those named `lib*.so.<digits>...` or `lib*.so` with an ELF header are added
 * under their file name, 32 or 64 bits by the ELF class. An added entry replaces an old one of the
 * same name and flags. The entries' flags: libc6, plus the 64-bit flag of the arch (x64 0x0300,
 * arm64 0x0a00). Old entries are kept as they were (flags, osversion, hwcap), glibc-hwcaps ones
 * too: their subdirectories are written again in an extension section (sorted by name, as
 * ldconfig writes it and the loader's merge needs), each entry's index pointing into it; one whose
 * subdirectory cannot be read is left out (the loader then uses the baseline library). An added
 * entry replaces the old ones of its name and flags, glibc-hwcaps ones included.
 * Result: a glibc-ld.so.cache1.1 file (little-endian), entries in the loader's search order.
 * Failures: `bad-ldcache-entry` naming an entry without a name or with a relative path.
 */
export function ldcacheWrite(u: LdcacheUpdate): Outcome<Uint8Array> {
  // A missing or corrupt cache is replaced, as ldconfig would.
  const scanned = scan(u.old.dataStart, <usize>u.old.length).entries;
  const entries = new Array<Entry>();
  for (let i = 0; i < scanned.length; i++) if ((scanned[i].hwcap & HWCAP_EXTENSION) == 0 || scanned[i].hwcaps.length > 0) entries.push(scanned[i]);
  const add = new Array<LdEntry>();
  for (let i = 0; i < u.add.length; i++) add.push(u.add[i]);
  for (let i = 0; i < u.candidates.length; i++) {
    const c = u.candidates[i];
    const slash = c.path.lastIndexOf("/");
    const name = c.path.substring(slash + 1);
    const h = c.head;
    if (!libraryFileName(name) || h.length < 5 || h[0] != 0x7f || h[1] != 0x45 || h[2] != 0x4c || h[3] != 0x46) continue;
    if (h[4] != 1 && h[4] != 2) continue;
    const e = new LdEntry();
    e.name = name;
    e.path = c.path;
    e.bits = h[4] == 1 ? 32 : 64;
    add.push(e);
  }
  const flag64: i32 = u.arch == "arm64" ? 0x0a03 : 0x0303;
  for (let i = 0; i < add.length; i++) {
    const a = add[i];
    if (a.name.length == 0 || a.name.indexOf("/") >= 0 || !a.path.startsWith("/") || (a.bits != 32 && a.bits != 64)) {
      return fail<Uint8Array>(Code.BadLdcacheEntry, "invalid ld.so.cache entry `" + a.name + "` -> `" + a.path + "`");
    }
    const fl: i32 = a.bits == 64 ? flag64 : FLAG_ELF_LIBC6;
    for (let k = entries.length - 1; k >= 0; k--) if (entries[k].name == a.name && entries[k].flags == fl) entries.splice(k, 1);
    entries.push(new Entry(a.name, a.path, a.bits, fl, 0, 0));
  }
  entries.sort(entryOrder);
  // The glibc-hwcaps subdirectories the entries use, sorted: their indices in the extension.
  const subdirs = new Array<string>();
  for (let i = 0; i < entries.length; i++) if (entries[i].hwcaps.length > 0 && !subdirs.includes(entries[i].hwcaps)) subdirs.push(entries[i].hwcaps);
  subdirs.sort((a: string, b: string): i32 => (a < b ? -1 : a > b ? 1 : 0));
  const names = new Array<ArrayBuffer>();
  const paths = new Array<ArrayBuffer>();
  const subdirNames = new Array<ArrayBuffer>();
  let strLen: usize = 0;
  for (let i = 0; i < entries.length; i++) {
    const nb = String.UTF8.encode(entries[i].name, true);
    const pb = String.UTF8.encode(entries[i].path, true);
    names.push(nb);
    paths.push(pb);
    strLen += <usize>(nb.byteLength + pb.byteLength);
  }
  for (let i = 0; i < subdirs.length; i++) {
    const sb = String.UTF8.encode(subdirs[i], true);
    subdirNames.push(sb);
    strLen += <usize>sb.byteLength;
  }
  const n = <usize>entries.length;
  const stringsEnd = NEW_HEADER + n * NEW_ENTRY + strLen;
  // The extension directory after the strings, 4-aligned, with its one section: the subdirectories.
  const extOff: usize = subdirs.length > 0 ? (stringsEnd + 3) & ~(<usize>3) : 0;
  const total = subdirs.length > 0 ? extOff + EXTENSION_HEADER + EXTENSION_SECTION + 4 * <usize>subdirs.length : stringsEnd;
  const bytes = new Uint8Array(<i32>total);
  const out = bytes.dataStart;
  for (let i = 0; i < NEW_MAGIC.length; i++) store<u8>(out + i, <u8>NEW_MAGIC.charCodeAt(i));
  store<u32>(out + 20, <u32>n);
  store<u32>(out + 24, <u32>strLen);
  store<u8>(out + 28, 2); // cache_file_new_flags_endian_little
  store<u32>(out + 32, <u32>extOff);
  let s = NEW_HEADER + n * NEW_ENTRY;
  for (let i: usize = 0; i < n; i++) {
    const e = out + NEW_HEADER + i * NEW_ENTRY;
    const k = <i32>i;
    store<i32>(e, entries[k].flags);
    store<u32>(e + 12, entries[k].osv);
    // A glibc-hwcaps entry keeps its other hwcap bits (the extension bit, the ISA level); its low
    // 32 bits are its subdirectory's new index.
    const hw = entries[k].hwcaps;
    store<u64>(e + 16, hw.length > 0 ? (entries[k].hwcap & 0xffffffff00000000) | <u64>subdirs.indexOf(hw) : entries[k].hwcap);
    const nb = names[k];
    const pb = paths[k];
    store<u32>(e + 4, <u32>s);
    memory.copy(out + s, changetype<usize>(nb), <usize>nb.byteLength);
    s += <usize>nb.byteLength;
    store<u32>(e + 8, <u32>s);
    memory.copy(out + s, changetype<usize>(pb), <usize>pb.byteLength);
    s += <usize>pb.byteLength;
  }
  if (subdirs.length > 0) {
    const table = extOff + EXTENSION_HEADER + EXTENSION_SECTION;
    store<u32>(out + extOff, EXTENSION_MAGIC);
    store<u32>(out + extOff + 4, 1);
    store<u32>(out + extOff + 8, TAG_GLIBC_HWCAPS);
    store<u32>(out + extOff + 12, 0);
    store<u32>(out + extOff + 16, <u32>table);
    store<u32>(out + extOff + 20, <u32>(4 * subdirs.length));
    for (let i = 0; i < subdirs.length; i++) {
      const sb = subdirNames[i];
      store<u32>(out + table + 4 * <usize>i, <u32>s);
      memory.copy(out + s, changetype<usize>(sb), <usize>sb.byteLength);
      s += <usize>sb.byteLength;
    }
  }
  return ok<Uint8Array>(bytes);
}

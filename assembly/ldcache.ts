// The glibc ld.so.cache format, read from bytes the host hands over.
import { Outcome } from "./abi";
import { joinJson, parseHex, q } from "./text";

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

/** One entry as the file has it; bits is 64, 32, or 0 for entries nvct does not report. */
class Entry {
  constructor(public name: string, public path: string, public bits: i32, public flags: i32, public osv: u32, public hwcap: u64) {}
}

// glibc-hwcaps entries point into an extension section the writer does not reproduce.
const HWCAP_EXTENSION: u64 = 1 << 62;

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
    out.push(new Entry(changetype<string>(name), changetype<string>(path), bits, flags, load<u32>(e + 12), load<u64>(e + 16)));
  }
  return new Scan(out, "");
}

function bad(why: string): Outcome {
  return Outcome.failure("bad-ldcache", "invalid ld.so.cache: " + why);
}

/** True when name is `<prefix>.so` or `<prefix>.so.<anything>` for one of the prefixes. */
function wanted(name: string, prefixes: string[]): bool {
  if (prefixes.length == 0) return true;
  for (let i = 0; i < prefixes.length; i++) {
    const p = prefixes[i];
    if (name.startsWith(p) && name.length >= p.length + 3 && name.substr(p.length, 3) == ".so") {
      if (name.length == p.length + 3 || name.charCodeAt(p.length + 3) == 0x2e) return true;
    }
  }
  return false;
}

/**
 * ldcache(bytes, prefixes). Reads a glibc ld.so.cache: the `glibc-ld.so.cache1.1` format, alone
 * or after the old `ld.so-1.7.0` table (whose entries it skips; the new table carries the same
 * libraries). `prefixes` is a newline-separated list of library stems (`libcuda`): only entries
 * named `<stem>.so[.*]` are returned; empty = all. Result:
 * `{"entries":[{"name":soname,"path":path,"bits":64|32}...]}` in cache order, for libc6 ELF
 * entries only (bits 32 = no 64-bit arch flag). Failures: `bad-ldcache` (bad magic, truncated
 * table, or a string offset outside the file).
 */
export function ldcache(p: usize, len: usize, filter: string): Outcome {
  const prefixes = filter.length > 0 ? filter.split("\n") : new Array<string>();
  const sc = scan(p, len);
  if (sc.error.length > 0) return bad(sc.error);
  const out = new Array<string>();
  for (let i = 0; i < sc.entries.length; i++) {
    const e = sc.entries[i];
    if (e.bits == 0 || !wanted(e.name, prefixes)) continue;
    out.push('{"name":' + q(e.name) + ',"path":' + q(e.path) + ',"bits":' + e.bits.toString() + "}");
  }
  return Outcome.success('{"entries":' + joinJson(out) + "}");
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
  return y.flags - x.flags; // as ldconfig: higher flags (the 64-bit entry) first
}

/**
 * ldcachewrite(old, add). `old` is the container's current cache (any bytes: a missing or corrupt
 * cache counts as empty); `add` has one `soname<TAB>path<TAB>width` line per library, width `32`
 * or `64` (x86 flags) or the entry's flags in hex (`0x0a03` for aarch64). An added entry replaces
 * an old one of the same name and flags. Old entries are kept as they were (flags, osversion,
 * hwcap), except glibc-hwcaps ones, whose extension section is not written (the loader then
 * uses the baseline library). Result: a glibc-ld.so.cache1.1 file (little-endian) with entries in
 * the loader's search order. Failures: `bad-ldcache-entry` naming a malformed line.
 */
export function ldcacheWrite(p: usize, len: usize, add: string): Outcome {
  // A missing or corrupt cache is replaced, as ldconfig would.
  const scanned = scan(p, len).entries;
  const entries = new Array<Entry>();
  for (let i = 0; i < scanned.length; i++) if ((scanned[i].hwcap & HWCAP_EXTENSION) == 0) entries.push(scanned[i]);
  const ls = add.split("\n");
  for (let i = 0; i < ls.length; i++) {
    if (ls[i].length == 0) continue;
    const f = ls[i].split("\t");
    const w = f.length == 3 ? f[2] : "";
    const flags: i64 = w == "64" ? 0x0303 : w == "32" ? 0x0003 : w.startsWith("0x") ? parseHex(w.substring(2)) : -1;
    if (f.length != 3 || flags < 0 || f[0].length == 0 || !f[1].startsWith("/")) {
      return Outcome.failure("bad-ldcache-entry", "invalid ld.so.cache entry `" + ls[i] + "`");
    }
    for (let k = entries.length - 1; k >= 0; k--) {
      if (entries[k].name == f[0] && entries[k].flags == <i32>flags) entries.splice(k, 1);
    }
    const fl = <i32>flags;
    const bits = ARCH64.includes(fl & 0xff00) ? 64 : 32;
    entries.push(new Entry(f[0], f[1], bits, fl, 0, 0));
  }
  entries.sort(entryOrder);
  const names = new Array<ArrayBuffer>();
  const paths = new Array<ArrayBuffer>();
  let strLen: usize = 0;
  for (let i = 0; i < entries.length; i++) {
    const nb = String.UTF8.encode(entries[i].name, true);
    const pb = String.UTF8.encode(entries[i].path, true);
    names.push(nb);
    paths.push(pb);
    strLen += <usize>(nb.byteLength + pb.byteLength);
  }
  const n = <usize>entries.length;
  const total = NEW_HEADER + n * NEW_ENTRY + strLen;
  const out = heap.alloc(total);
  memory.fill(out, 0, total);
  for (let i = 0; i < NEW_MAGIC.length; i++) store<u8>(out + i, <u8>NEW_MAGIC.charCodeAt(i));
  store<u32>(out + 20, <u32>n);
  store<u32>(out + 24, <u32>strLen);
  store<u8>(out + 28, 2); // cache_file_new_flags_endian_little
  let s = NEW_HEADER + n * NEW_ENTRY;
  for (let i: usize = 0; i < n; i++) {
    const e = out + NEW_HEADER + i * NEW_ENTRY;
    const k = <i32>i;
    store<i32>(e, entries[k].flags);
    store<u32>(e + 12, entries[k].osv);
    store<u64>(e + 16, entries[k].hwcap);
    const nb = names[k];
    const pb = paths[k];
    store<u32>(e + 4, <u32>s);
    memory.copy(out + s, changetype<usize>(nb), <usize>nb.byteLength);
    s += <usize>nb.byteLength;
    store<u32>(e + 8, <u32>s);
    memory.copy(out + s, changetype<usize>(pb), <usize>pb.byteLength);
    s += <usize>pb.byteLength;
  }
  return Outcome.bytes(out, total);
}

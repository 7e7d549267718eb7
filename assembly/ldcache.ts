// The glibc ld.so.cache format, read from bytes the host hands over.
import { Outcome } from "./abi";
import { joinJson, q } from "./text";

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

function bad(why: string): Outcome {
  return Outcome.failure("bad-ldcache", "invalid ld.so.cache: " + why);
}

/**
 * ldcache(bytes). Reads a glibc ld.so.cache: the `glibc-ld.so.cache1.1` format, alone or after the
 * old `ld.so-1.7.0` table (whose entries it skips; the new table carries the same libraries).
 * Result: `{"entries":[{"name":soname,"path":path,"bits":64|32}...]}` in cache order, for libc6
 * ELF entries only (bits 32 = no 64-bit arch flag). Failures: `bad-ldcache` (bad magic,
 * truncated table, or a string offset outside the file).
 */
export function ldcache(p: usize, len: usize): Outcome {
  let base: usize = 0;
  if (magicAt(p, len, 0, OLD_MAGIC)) {
    if (len < 16) return bad("truncated old header");
    const n = <usize>load<u32>(p + 12);
    if (n > (len - 16) / OLD_ENTRY) return bad("old table runs past the end");
    base = (16 + n * OLD_ENTRY + 7) & ~(<usize>7);
  }
  if (!magicAt(p, len, base, NEW_MAGIC)) return bad("missing `" + NEW_MAGIC + "` header");
  if (len < base + NEW_HEADER) return bad("truncated header");
  const n = <usize>load<u32>(p + base + 20);
  if (n > (len - base - NEW_HEADER) / NEW_ENTRY) return bad("entry table runs past the end");
  const out = new Array<string>();
  for (let i: usize = 0; i < n; i++) {
    const e = p + base + NEW_HEADER + i * NEW_ENTRY;
    const flags = <i32>load<i32>(e);
    const key = <usize>load<u32>(e + 4) + base;
    const value = <usize>load<u32>(e + 8) + base;
    if (key >= len || value >= len) return bad("string offset outside the file in entry " + i.toString());
    const name = cstr(p, len, key);
    const path = cstr(p, len, value);
    if (name == null || path == null) return bad("unterminated string in entry " + i.toString());
    if ((flags & 0xff) != FLAG_ELF_LIBC6) continue;
    const bits = ARCH64.includes(flags & 0xff00) ? "64" : (flags & 0xff00) == 0 ? "32" : "";
    if (bits.length == 0) continue;
    out.push('{"name":' + q(changetype<string>(name)) + ',"path":' + q(changetype<string>(path)) + ',"bits":' + bits + "}");
  }
  return Outcome.success('{"entries":' + joinJson(out) + "}");
}

// Small text helpers shared by the grammars: the core gets no regex engine.

/** Lower-case hex of v, left-padded with zeros to width. */
export function hexPad(v: u32, width: i32): string {
  let s = v.toString(16);
  while (s.length < width) s = "0" + s;
  return s;
}

export function isDigit(c: i32): bool {
  return c >= 0x30 && c <= 0x39;
}

export function isHex(c: i32): bool {
  return isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
}

/** True when s is one or more ASCII digits. */
export function allDigits(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isDigit(s.charCodeAt(i))) return false;
  return true;
}

/** True when s is one or more hex digits. */
export function allHex(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

/** Decimal value of an all-digit string, or -1 when it is not one or exceeds 2^31-1. */
export function parseUint(s: string): i64 {
  if (!allDigits(s) || s.length > 10) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) v = v * 10 + <i64>(s.charCodeAt(i) - 0x30);
  return v > 0x7fffffff ? -1 : v;
}

/** Hex value of an all-hex string of at most 8 digits, or -1. */
export function parseHex(s: string): i64 {
  if (!allHex(s) || s.length > 8) return -1;
  let v: i64 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const d = isDigit(c) ? c - 0x30 : (c | 0x20) - 0x61 + 10;
    v = v * 16 + <i64>d;
  }
  return v;
}

/** Splits on "\n" and drops a trailing empty line. */
export function lines(s: string): string[] {
  const out = s.split("\n");
  if (out.length > 0 && out[out.length - 1].length == 0) out.pop();
  return out;
}

/** A library's name before `.so` (`libcuda` of `libcuda.so.1`); the name when it has none. */
export function stem(name: string): string {
  const i = name.indexOf(".so");
  return i < 0 ? name : name.substring(0, i);
}

/** The last component of a path. */
export function basename(p: string): string {
  return p.substring(p.lastIndexOf("/") + 1);
}

/** The path without its last component ("/" for a top-level entry). */
export function dirname(p: string): string {
  const i = p.lastIndexOf("/");
  return i <= 0 ? "/" : p.substring(0, i);
}

/** `root` + absolute `path`, where root "/" is the path itself. */
export function under(root: string, path: string): string {
  if (root == "/" || root.length == 0) return path;
  let r = root;
  while (r.length > 1 && r.endsWith("/")) r = r.substring(0, r.length - 1);
  return r + path;
}

// TOML edited in place: an operator's containerd or CRI-O config keeps its comments, key order,
// spacing and every table nvct does not touch; only the keys whose values nvct changes or adds
// are written. The edits go through toml_edit (cargo's format-preserving editor, built to
// WebAssembly as @rainbowatcher/toml-edit-js, embedded in the binary and instantiated on first
// use, so that only the commands that edit TOML pay for it). Around it, nvct's own:
// - the edits: the leaves where the wanted document differs from the file's, each one set by
//   its path, new tables made leaf by leaf (so they come out as [sections], not inline tables);
// - top-level keys (toml-edit-js 0.6 cannot set a one-segment path): set in the text before the
//   first table header, edited as the body of a stand-in table;
// - CRLF files edited as LF and given back their CRLF; a missing final newline stays missing;
// - the lines it adds indented as the file's own (containerd's `config default` indents tables
//   by depth), and the empty parent headers toml_edit writes before a new table left out;
// - the result parsed again (Bun.TOML) and compared with the wanted document: anything else is
//   refused and the file left as it was.
import { readFileSync } from "node:fs";
import wasmPath from "@rainbowatcher/toml-edit-js/index_bg.wasm" with { type: "file" };
import { edit as wasmEdit, initSync } from "@rainbowatcher/toml-edit-js/index";
import { NvctError } from "../errors";

export type Table = Record<string, any>;

let ready = false;
function edit(input: string, path: string, value: unknown): string {
  if (!ready) {
    initSync({ module: readFileSync(wasmPath) });
    ready = true;
  }
  // A panic in the module is reported through console.error before it traps: keep it for the
  // error instead of printing a Rust stack.
  const said: string[] = [];
  const error = console.error;
  console.error = (...a: unknown[]) => void said.push(a.map(String).join(" "));
  try {
    return wasmEdit(input, path, value);
  } catch (e) {
    throw new Error(said.length ? said.join(" ").split("\n").filter(Boolean).slice(0, 2).join(": ") : String((e as Error)?.message ?? e));
  } finally {
    console.error = error;
  }
}

/** Plain objects only: dates from Bun.TOML are values, not tables. */
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));

export interface Change {
  path: string[];
  value: unknown;
}

/** The leaves of `want` that `have` lacks or holds with another value, in `want`'s order. */
export function changes(have: Table, want: Table, at: string[] = []): Change[] {
  const out: Change[] = [];
  for (const [k, w] of Object.entries(want)) {
    const h = have[k];
    if (isTable(w) && Object.keys(w).length > 0 && (h === undefined || isTable(h))) out.push(...changes(h ?? {}, w, [...at, k]));
    else if (h === undefined || !Bun.deepEquals(h, w, true)) out.push({ path: [...at, k], value: w });
  }
  for (const k of Object.keys(have)) if (!(k in want)) throw new NvctError("internal", `removing \`${[...at, k].join(".")}\` is not supported by the TOML editor`);
  return out;
}

const BARE = /^[A-Za-z0-9_-]+$/;
/** A path as toml-edit-js reads it: dotted, segments that are not bare in double quotes. */
function dotted(path: string[]): string {
  return path
    .map((s) => {
      if (BARE.test(s)) return s;
      if (s === "" || /["\\\x00-\x1f\x7f]/.test(s)) throw new NvctError("config", `cannot edit the key \`${path.join(".")}\` in place`);
      return `"${s}"`;
    })
    .join(".");
}

// --- a scanner: where statements, headers, comments and continuation lines are ---------------

export type LineKind = "blank" | "comment" | "header" | "kv" | "cont";

export interface Header {
  /** Index of the first character of its line. */
  start: number;
  line: number;
  indent: string;
  path: string[];
}

export interface Scan {
  kinds: LineKind[];
  headers: Header[];
}

/** A header's key path, from the text after its `[` or `[[` (enough for nvct's use: bare, "basic" and 'literal' segments). */
function headerPath(s: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < s.length) {
    while (s[i] === " " || s[i] === "\t") i++;
    if (s[i] === "]") break;
    if (s[i] === '"') {
      let j = i + 1;
      while (j < s.length && s[j] !== '"') j += s[j] === "\\" ? 2 : 1;
      const raw = s.slice(i, j + 1);
      try {
        out.push(JSON.parse(raw));
      } catch {
        out.push(raw.slice(1, -1));
      }
      i = j + 1;
    } else if (s[i] === "'") {
      const j = s.indexOf("'", i + 1);
      out.push(s.slice(i + 1, j < 0 ? s.length : j));
      i = j < 0 ? s.length : j + 1;
    } else {
      let j = i;
      while (j < s.length && /[A-Za-z0-9_-]/.test(s[j])) j++;
      if (j === i) break;
      out.push(s.slice(i, j));
      i = j;
    }
    while (s[i] === " " || s[i] === "\t") i++;
    if (s[i] !== ".") break;
    i++;
  }
  return out;
}

/** Each line's kind and every table header, skipping strings, comments and multi-line values. */
export function scan(text: string): Scan {
  const kinds: LineKind[] = [];
  const headers: Header[] = [];
  let i = 0;
  let depth = 0;
  let line = 0;
  let lineStart = 0;
  let inValue = false; // this line began inside a multi-line value or string
  let seen = false; // something other than whitespace on this line
  const n = text.length;
  const endLine = (kind: LineKind) => {
    kinds[line] = kind;
  };
  let kind: LineKind = "blank";
  while (i <= n) {
    const c = text[i];
    if (i === n || c === "\n") {
      endLine(inValue ? "cont" : kind);
      if (i === n) break;
      i++;
      line++;
      lineStart = i;
      inValue = depth > 0;
      seen = false;
      kind = "blank";
      continue;
    }
    if (!seen && (c === " " || c === "\t" || c === "\r")) {
      i++;
      continue;
    }
    if (!seen) {
      seen = true;
      if (!inValue) kind = c === "#" ? "comment" : c === "[" && depth === 0 ? "header" : "kv";
      if (kind === "header" && !inValue) {
        const end = text.indexOf("\n", i);
        const lineText = text.slice(i, end < 0 ? n : end);
        headers.push({ start: lineStart, line, indent: text.slice(lineStart, i), path: headerPath(lineText.replace(/^\[\[?/, "")) });
        i = end < 0 ? n : end;
        continue;
      }
    }
    if (c === "#") {
      const end = text.indexOf("\n", i);
      i = end < 0 ? n : end;
      continue;
    }
    const ml = text.startsWith('"""', i) ? '"""' : text.startsWith("'''", i) ? "'''" : "";
    if (ml) {
      // A multi-line string: the lines it spans (after this one) are continuation lines.
      let j = i + 3;
      while (j < n && !text.startsWith(ml, j)) j += ml === '"""' && text[j] === "\\" ? 2 : 1;
      j = Math.min(n, j + 3);
      while (text[j] === ml[0]) j++; // up to two more quotes belong to the string
      for (let k = i; k < j; k++) {
        if (text[k] === "\n") {
          kinds[line] = inValue ? "cont" : kind;
          line++;
          inValue = true;
          lineStart = k + 1;
        }
      }
      i = j;
      continue;
    }
    if (c === '"' || c === "'") {
      let j = i + 1;
      while (j < n && text[j] !== c && text[j] !== "\n") j += c === '"' && text[j] === "\\" ? 2 : 1;
      i = text[j] === c ? j + 1 : j;
      continue;
    }
    if (c === "[" || c === "{") depth++;
    else if ((c === "]" || c === "}") && depth > 0) depth--;
    i++;
  }
  return { kinds, headers };
}

// --- tables without keys of their own ------------------------------------------------------

const startsWith = (path: string[], prefix: string[]) => prefix.every((s, i) => path[i] === s);
const PLACEHOLDER = "__nvct_placeholder__ = 0";

/**
 * toml-edit-js 0.6 panics setting a key in a table that holds sub-tables but no key of its own
 * (`[a]` or an `a` only implied by `[a.b]`). Such a table gets a header where it has none
 * (before its first sub-table's, and the comment lines just above that) and a placeholder key
 * under it, which `unplace` takes out after the edit.
 */
function place(text: string, path: string[]): string {
  if (path.length === 0) return text;
  const { kinds, headers } = scan(text);
  const own = headers.find((h) => h.path.length === path.length && startsWith(h.path, path));
  const lines = text.split("\n");
  if (own) {
    let l = own.line + 1;
    while (l < kinds.length && (kinds[l] === "blank" || kinds[l] === "comment")) l++;
    if (kinds[l] === "kv" || !headers.some((h) => h.line > own.line && h.path.length > path.length && startsWith(h.path, path))) return text;
    lines.splice(own.line + 1, 0, PLACEHOLDER);
    return lines.join("\n");
  }
  const child = headers.find((h) => h.path.length > path.length && startsWith(h.path, path));
  if (!child) return text; // a new table, or one made by keys: toml-edit-js makes or finds it
  let line = child.line;
  while (line > 0 && kinds[line - 1] === "comment") line--;
  lines.splice(line, 0, `[${dotted(path)}]`, PLACEHOLDER, "");
  return lines.join("\n");
}

function unplace(text: string): string {
  const lines = text.split("\n");
  const at = lines.indexOf(PLACEHOLDER);
  if (at >= 0) lines.splice(at, 1);
  return lines.join("\n");
}

// --- top-level keys -------------------------------------------------------------------------

const STAND_IN = "__nvct_root__";

/** Sets a top-level key: in the text before the first header, edited as a stand-in table's body. */
function setRoot(text: string, key: string, value: unknown): string {
  const first = scan(text).headers[0];
  const at = first ? first.start : text.length;
  const prefix = text.slice(0, at);
  const head = `[${STAND_IN}]\n`;
  const edited = edit(head + prefix, dotted([STAND_IN, key]), value);
  if (!edited.startsWith(head)) throw new NvctError("internal", "the TOML editor moved the top-level keys");
  let body = edited.slice(head.length);
  if (at < text.length && prefix.trim() === "") body += "\n"; // a blank line before the first table
  return body + text.slice(at);
}

// --- the lines added, made to look like the file's -----------------------------------------

/** The lines of b not in a longest common subsequence with a (true: added). */
export function addedLines(a: string[], b: string[]): boolean[] {
  let pre = 0;
  while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
  let suf = 0;
  while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
  const x = a.slice(pre, a.length - suf);
  const y = b.slice(pre, b.length - suf);
  const added = new Array<boolean>(b.length).fill(false);
  if (x.length * y.length > 16_000_000) {
    for (let j = 0; j < y.length; j++) added[pre + j] = true;
    return added;
  }
  // LCS table over the middle, then walk it.
  const w = y.length + 1;
  const t = new Uint32Array((x.length + 1) * w);
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) t[i * w + j] = x[i] === y[j] ? t[(i + 1) * w + j + 1] + 1 : Math.max(t[(i + 1) * w + j], t[i * w + j + 1]);
  let i = 0;
  let j = 0;
  while (j < y.length) {
    if (i < x.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (i < x.length && t[(i + 1) * w + j] >= t[i * w + j + 1]) i++;
    else added[pre + j++] = true;
  }
  return added;
}

const indentOf = (s: string) => s.slice(0, s.length - s.trimStart().length);

/** How the file indents: headers by depth (k columns a level) or not, and keys under a header. */
function style(text: string) {
  const { kinds, headers } = scan(text);
  const lines = text.split("\n");
  const ch = headers.map((h) => h.indent).find((s) => s.length > 0)?.[0] ?? " ";
  let k = 0;
  let byDepth = headers.length > 0;
  for (const h of headers) {
    if (h.indent !== ch.repeat(h.indent.length)) byDepth = false;
    if (h.path.length > 1 && h.indent.length > 0 && k === 0) k = h.indent.length / (h.path.length - 1);
  }
  if (!(k > 0 && Number.isInteger(k))) byDepth = false;
  if (byDepth) byDepth = headers.every((h) => h.indent.length === k * (h.path.length - 1));
  // Keys under a header: the most common offset of a header's first key from the header.
  const offsets = new Map<string, number>();
  for (const h of headers) {
    let l = h.line + 1;
    while (l < kinds.length && (kinds[l] === "blank" || kinds[l] === "comment")) l++;
    if (kinds[l] !== "kv") continue;
    const ind = indentOf(lines[l]);
    if (!ind.startsWith(h.indent)) continue;
    const off = ind.slice(h.indent.length);
    offsets.set(off, (offsets.get(off) ?? 0) + 1);
  }
  const under = [...offsets].sort((a, b) => b[1] - a[1])[0]?.[0] ?? "";
  return { header: (depth: number) => (byDepth ? ch.repeat(k * (depth - 1)) : ""), under };
}

/** `after` with its added lines indented as `before`'s, and added empty parent headers left out. */
function tidy(before: string, after: string): string {
  const a = before.split("\n");
  const b = after.split("\n");
  const added = addedLines(a, b);
  const { kinds, headers } = scan(after);
  const byLine = new Map(headers.map((h) => [h.line, h]));
  // An added header directly followed by a header of one of its sub-tables declares nothing.
  const drop = new Set<number>();
  for (const h of headers) {
    if (!added[h.line] || b[h.line].trimStart().startsWith("[[")) continue;
    let l = h.line + 1;
    while (l < b.length && kinds[l] === "blank") l++;
    const next = byLine.get(l);
    if (!next || next.path.length <= h.path.length || h.path.some((s, x) => next.path[x] !== s)) continue;
    drop.add(h.line);
    // And one of the blank lines around it that came with it.
    if (added[h.line + 1] && kinds[h.line + 1] === "blank") drop.add(h.line + 1);
    else if (h.line > 0 && added[h.line - 1] && kinds[h.line - 1] === "blank") drop.add(h.line - 1);
  }
  const s = style(before);
  const out: string[] = [];
  const outKinds: LineKind[] = [];
  for (let l = 0; l < b.length; l++) {
    if (drop.has(l)) continue;
    let text = b[l];
    if (added[l] && kinds[l] === "header") text = s.header(byLine.get(l)!.path.length) + text.trimStart();
    else if (added[l] && kinds[l] === "kv") {
      // As the statement before it: a key's indentation, or its header's and the file's offset.
      let p = out.length - 1;
      while (p >= 0 && outKinds[p] !== "kv" && outKinds[p] !== "header") p--;
      const ind = p < 0 ? "" : outKinds[p] === "kv" ? indentOf(out[p]) : indentOf(out[p]) + s.under;
      text = ind + text.trimStart();
    }
    out.push(text);
    outKinds.push(kinds[l]);
  }
  return out.join("\n");
}

/**
 * `text` edited so that it parses as `want`, changing only the lines of the keys that differ from
 * `have` (the file as parsed) or are new. No change: the text itself. Throws (the caller keeps
 * the file as it is) when the result would not parse as `want`.
 */
export function editToml(text: string, have: Table, want: Table, file: string): string {
  const todo = changes(have, want);
  if (todo.length === 0) return text;
  const crlf = text.includes("\r\n") && !/(^|[^\r])\n/.test(text);
  const src = crlf ? text.replaceAll("\r\n", "\n") : text;
  let out = src;
  try {
    for (const c of todo) out = c.path.length === 1 ? setRoot(out, c.path[0], c.value) : unplace(edit(place(out, c.path.slice(0, -1)), dotted(c.path), c.value));
  } catch (e) {
    if (e instanceof NvctError) throw e;
    throw new NvctError("config", `cannot edit \`${file}\` in place: ${String((e as Error)?.message ?? e).split("\n")[0]}`, e);
  }
  out = tidy(src, out);
  if (src !== "" && !src.endsWith("\n")) out = out.replace(/\n$/, "");
  if (crlf) out = out.replaceAll("\n", "\r\n");
  let back: unknown;
  try {
    back = Bun.TOML.parse(out);
  } catch {
    back = undefined;
  }
  if (!Bun.deepEquals(back, want)) throw new NvctError("config", `cannot edit \`${file}\` in place: the edited file would not read back as intended (left unchanged)`);
  return out;
}

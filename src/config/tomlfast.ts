// The TOML that config.toml files hold in practice, read without Bun's TOML parser: that parser is
// part of Bun's transpiler, and its first use faults in over a megabyte of code (a warm GPU hook:
// peak RSS 39.5 -> 39.0 MiB, 0.4 ms) on every start of a hook or runtime.
//
// Only a strict subset is read here; anything else answers null, and the caller hands the text to
// Bun.TOML.parse, which decides (and words the error). Lines, each one of:
//   (blank) | # comment
//   [key(.key)*]                      a table, defined once; bare keys or "plain" quoted keys
//   key = value                       one bare or "plain" quoted key, new in its table
// where value is "basic string" (escapes \" \\ \n \t \r \b \f), 'literal string', true, false, a
// decimal integer (no underscores, a safe integer), or a one-line array of those; each line may
// end in a comment. test/unit/tomlfast.test.ts compares every answer with Bun.TOML.parse's.
import type { Table } from "./toml";

type Scalar = string | number | boolean;
type Value = Scalar | Scalar[] | Table;

const ESCAPES: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t", r: "\r", b: "\b", f: "\f" };

const bare = (c: string) => (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || (c >= "0" && c <= "9") || c === "_" || c === "-";
/** A control character TOML allows nowhere but as tab (comments, strings). */
const control = (c: string) => (c < " " && c !== "\t") || c === "\x7f";

/** A cursor over one line; every reader returns undefined where the subset ends. */
class Line {
  at = 0;
  constructor(readonly s: string) {}
  ws(): void {
    while (this.s[this.at] === " " || this.s[this.at] === "\t") this.at++;
  }
  /** Whitespace, then a comment or nothing to the end. */
  end(): boolean {
    this.ws();
    if (this.at >= this.s.length) return true;
    if (this.s[this.at] !== "#") return false;
    for (let i = this.at + 1; i < this.s.length; i++) if (control(this.s[i])) return false;
    return true;
  }
  key(): string | undefined {
    const s = this.s;
    if (s[this.at] === '"') {
      // Quoted keys without escapes only.
      const close = s.indexOf('"', this.at + 1);
      if (close < 0) return undefined;
      const k = s.slice(this.at + 1, close);
      for (const c of k) if (c === "\\" || control(c)) return undefined;
      this.at = close + 1;
      return k;
    }
    const from = this.at;
    while (this.at < s.length && bare(s[this.at])) this.at++;
    return this.at > from ? s.slice(from, this.at) : undefined;
  }
  scalar(): Scalar | undefined {
    const s = this.s;
    const c = s[this.at];
    if (c === '"') {
      if (s.startsWith('"""', this.at)) return undefined;
      let out = "";
      for (let i = this.at + 1; i < s.length; i++) {
        const d = s[i];
        if (d === '"') {
          this.at = i + 1;
          return out;
        }
        if (control(d)) return undefined;
        if (d === "\\") {
          const e = ESCAPES[s[i + 1]];
          if (e === undefined) return undefined;
          out += e;
          i++;
        } else out += d;
      }
      return undefined;
    }
    if (c === "'") {
      if (s.startsWith("'''", this.at)) return undefined;
      const close = s.indexOf("'", this.at + 1);
      if (close < 0) return undefined;
      const v = s.slice(this.at + 1, close);
      for (const d of v) if (control(d)) return undefined;
      this.at = close + 1;
      return v;
    }
    const from = this.at;
    while (this.at < s.length && (bare(s[this.at]) || s[this.at] === "+" || s[this.at] === ".")) this.at++;
    const word = s.slice(from, this.at);
    if (word === "true") return true;
    if (word === "false") return false;
    const digits = word[0] === "+" || word[0] === "-" ? word.slice(1) : word;
    if (digits === "" || (digits.length > 1 && digits[0] === "0") || (digits === "0" && digits !== word)) return undefined;
    for (const d of digits) if (d < "0" || d > "9") return undefined;
    const n = Number(word);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  value(): Value | undefined {
    if (this.s[this.at] !== "[") return this.scalar();
    this.at++;
    const out: Scalar[] = [];
    for (;;) {
      this.ws();
      if (this.s[this.at] === "]") break;
      const v = this.scalar();
      if (v === undefined) return undefined;
      out.push(v);
      this.ws();
      if (this.s[this.at] === ",") this.at++;
      else if (this.s[this.at] !== "]") return undefined;
    }
    this.at++;
    return out;
  }
}

const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v);

/** config.toml's text as Bun.TOML.parse would give it, or null when it is outside the subset. */
export function parseSimpleToml(text: string): Table | null {
  const root: Table = {};
  let table = root;
  // Tables given a header: a second header for one is an error, which Bun words.
  const defined = new Set<Table>();
  const lines = text.split("\n");
  // CRLF ends a line; a carriage return with no newline after it (the text's last) is Bun's to refuse.
  if (lines[lines.length - 1].endsWith("\r")) return null;
  for (let raw of lines) {
    if (raw.endsWith("\r")) raw = raw.slice(0, -1);
    const line = new Line(raw);
    line.ws();
    if (line.end()) continue;
    if (raw[line.at] === "[") {
      if (raw[line.at + 1] === "[") return null;
      line.at++;
      let t = root;
      for (;;) {
        line.ws();
        const k = line.key();
        if (k === undefined || k === "__proto__") return null;
        if (!Object.hasOwn(t, k)) t[k] = {};
        const next = t[k];
        if (!isTable(next)) return null;
        t = next;
        line.ws();
        if (raw[line.at] === ".") line.at++;
        else if (raw[line.at] === "]") break;
        else return null;
      }
      line.at++;
      if (!line.end() || defined.has(t)) return null;
      defined.add(t);
      table = t;
      continue;
    }
    const k = line.key();
    if (k === undefined || k === "__proto__" || Object.hasOwn(table, k)) return null;
    line.ws();
    if (raw[line.at] !== "=") return null;
    line.at++;
    line.ws();
    const v = line.value();
    if (v === undefined || !line.end()) return null;
    table[k] = v;
  }
  return root;
}

// TOML out: Bun parses TOML but does not write it. Enough of the format for the files nvct edits
// (containerd, CRI-O, its own config.toml): tables, arrays of tables (nested too), strings,
// numbers, booleans, dates, arrays. Values are kept; comments and layout are not.

type Value = string | number | boolean | Value[] | Table | object;
export interface Table {
  [key: string]: Value;
}

const BARE = /^[A-Za-z0-9_-]+$/;
const key = (k: string) => (BARE.test(k) ? k : str(k));
// JSON's escapes are TOML's, but for DEL, which TOML wants escaped and JSON leaves as it is.
const str = (s: string) => JSON.stringify(s).replace(/\x7f/g, "\\u007F");
/** Plain objects only: Bun gives dates as objects that are values, not tables. */
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && [Object.prototype, null].includes(Object.getPrototypeOf(v));
const isTableArray = (v: unknown): v is Table[] => Array.isArray(v) && v.length > 0 && v.every(isTable);

function inline(v: Value): string {
  if (typeof v === "string") return str(v);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  if (typeof v === "boolean") return String(v);
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  if (isTable(v)) return `{ ${Object.entries(v).map(([k, x]) => `${key(k)} = ${inline(x)}`).join(", ")} }`;
  if (v instanceof Date) return v.toISOString();
  return String(v); // a TOML date or time as Bun parsed it: its text is TOML's
}

const header = (path: string[]) => path.map(key).join(".");

/** The body of the table at `path`: its values, then its tables and arrays of tables. */
function body(t: Table, path: string[], out: string[]): void {
  for (const [k, v] of Object.entries(t)) if (!isTable(v) && !isTableArray(v)) out.push(`${key(k)} = ${inline(v)}`);
  for (const [k, v] of Object.entries(t)) {
    if (isTable(v)) table(v, [...path, k], out);
    else if (isTableArray(v)) {
      for (const item of v) {
        out.push(`\n[[${header([...path, k])}]]`);
        body(item, [...path, k], out);
      }
    }
  }
}

function table(t: Table, path: string[], out: string[]): void {
  const hasValues = Object.values(t).some((v) => !isTable(v) && !isTableArray(v));
  // A table with only sub-tables needs no header of its own, but an empty one does.
  if (hasValues || Object.keys(t).length === 0) out.push(`\n[${header(path)}]`);
  body(t, path, out);
}

/** TOML text for a table; `Bun.TOML.parse(stringify(t))` gives t back. */
export function stringify(t: Table): string {
  const out: string[] = [];
  body(t, [], out);
  return out.join("\n").replace(/^\n+/, "") + "\n";
}

// TOML out: Bun parses TOML but does not write it. Enough of the format for the files nvct edits
// (containerd, CRI-O, its own config.toml): tables, arrays of tables, strings, numbers,
// booleans, arrays. Values are kept; comments and layout of an edited file are not.

type Value = string | number | boolean | Value[] | Table | Date;
export interface Table {
  [key: string]: Value;
}

const BARE = /^[A-Za-z0-9_-]+$/;
const key = (k: string) => (BARE.test(k) ? k : JSON.stringify(k));
const isTable = (v: unknown): v is Table => typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Date);
const isTableArray = (v: unknown): v is Table[] => Array.isArray(v) && v.length > 0 && v.every(isTable);

function inline(v: Value): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (typeof v === "number") return Number.isInteger(v) ? String(v) : Number.isFinite(v) ? String(v) : v > 0 ? "inf" : v < 0 ? "-inf" : "nan";
  if (typeof v === "boolean") return String(v);
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return `[${v.map(inline).join(", ")}]`;
  return `{ ${Object.entries(v).map(([k, x]) => `${key(k)} = ${inline(x)}`).join(", ")} }`;
}

function emit(t: Table, path: string[], out: string[]): void {
  const scalars = Object.entries(t).filter(([, v]) => !isTable(v) && !isTableArray(v));
  const tables = Object.entries(t).filter(([, v]) => isTable(v)) as [string, Table][];
  const arrays = Object.entries(t).filter(([, v]) => isTableArray(v)) as [string, Table[]][];
  if (path.length > 0 && (scalars.length > 0 || (tables.length === 0 && arrays.length === 0))) out.push(`\n[${path.map(key).join(".")}]`);
  for (const [k, v] of scalars) out.push(`${key(k)} = ${inline(v)}`);
  for (const [k, v] of tables) emit(v, [...path, k], out);
  for (const [k, list] of arrays) {
    for (const item of list) {
      out.push(`\n[[${[...path, k].map(key).join(".")}]]`);
      const inner: string[] = [];
      emit(Object.fromEntries(Object.entries(item).filter(([, v]) => !isTable(v) && !isTableArray(v))), [], inner);
      out.push(...inner);
      for (const [sk, sv] of Object.entries(item)) if (isTable(sv)) emit(sv, [...path, k, sk], out);
    }
  }
}

/** TOML text for a table; `Bun.TOML.parse(stringify(t))` gives t back. */
export function stringify(t: Table): string {
  const out: string[] = [];
  emit(t, [], out);
  return out.join("\n").replace(/^\n+/, "") + "\n";
}

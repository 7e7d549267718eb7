// A reader for the subset of WIT that assembly/core.wit uses, and the canonical ABI's layout of
// its types (sizes, alignments, flattening), from the component model's specification. The
// binding generator (build/binding.ts) builds both sides of the contract from what this returns,
// so that neither is kept by hand.

export type Type =
  | { k: "bool" | "u8" | "u16" | "u32" | "s32" | "u64" | "string" }
  | { k: "list"; of: Type }
  | { k: "option"; of: Type }
  | { k: "result"; ok: Type | null; err: Type | null }
  | { k: "tuple"; items: Type[] }
  | { k: "ref"; name: string };

export type Def =
  | { kind: "record"; name: string; doc: string; fields: { name: string; type: Type; doc: string }[] }
  | { kind: "variant"; name: string; doc: string; cases: { name: string; type: Type | null; doc: string }[] }
  | { kind: "enum"; name: string; doc: string; cases: { name: string; doc: string }[] };

export interface Func {
  name: string;
  doc: string;
  params: { name: string; type: Type }[];
  result: Type | null;
}

export interface World {
  package: string;
  name: string;
  defs: Map<string, Def>;
  funcs: Func[];
}

const PRIMS = new Set(["bool", "u8", "u16", "u32", "s32", "u64", "string"]);
/** The canonical ABI's [size, alignment] of each type of fixed layout (a string or list is a pointer and a length). */
const SCALAR: Record<string, [number, number]> = { bool: [1, 1], u8: [1, 1], u16: [2, 2], u32: [4, 4], s32: [4, 4], u64: [8, 8], string: [8, 4], list: [8, 4] };

/** Tokens of WIT text; `///` doc comments are kept as tokens, `//` comments dropped. */
function tokenize(text: string): string[] {
  const out: string[] = [];
  const re = /\/\/\/([^\n]*)|\/\/[^\n]*|\s+|([A-Za-z%][A-Za-z0-9-]*(?::[A-Za-z0-9-]+)?(?:@[0-9.]+)?)|(->|[{}()<>,;:=])/g;
  let m: RegExpExecArray | null;
  let at = 0;
  while ((m = re.exec(text))) {
    if (m.index !== at) throw new Error(`wit: unexpected text at ${at}: ${JSON.stringify(text.slice(at, at + 20))}`);
    at = re.lastIndex;
    if (m[1] !== undefined) out.push("///" + m[1].trim());
    else if (m[2] !== undefined || m[3] !== undefined) out.push(m[2] ?? m[3]);
  }
  if (at !== text.length) throw new Error(`wit: unexpected text at ${at}`);
  return out;
}

/** Parses a WIT package with one world holding type definitions and exported functions. */
export function parseWit(text: string): World {
  const t = tokenize(text);
  let i = 0;
  let doc: string[] = [];
  const peek = () => t[i];
  const next = () => {
    while (t[i]?.startsWith("///")) doc.push(t[i++].slice(3));
    return t[i++];
  };
  const expect = (s: string) => {
    const got = next();
    if (got !== s) throw new Error(`wit: expected \`${s}\`, got \`${got}\``);
  };
  const takeDoc = () => {
    while (t[i]?.startsWith("///")) doc.push(t[i++].slice(3));
    const d = doc.join("\n");
    doc = [];
    return d;
  };
  const type = (): Type => {
    const n = next();
    if (PRIMS.has(n)) return { k: n as "string" };
    if (n === "list" || n === "option") {
      expect("<");
      const of = type();
      expect(">");
      return { k: n, of };
    }
    if (n === "tuple") {
      expect("<");
      const items = [type()];
      while (peek() === ",") {
        next();
        items.push(type());
      }
      expect(">");
      return { k: "tuple", items };
    }
    if (n === "result") {
      if (peek() !== "<") return { k: "result", ok: null, err: null };
      next();
      const ok = peek() === "_" ? (next(), null) : type();
      let err: Type | null = null;
      if (peek() === ",") {
        next();
        err = type();
      }
      expect(">");
      return { k: "result", ok, err };
    }
    return { k: "ref", name: n };
  };
  expect("package");
  const pkg = next();
  expect(";");
  takeDoc();
  expect("world");
  const world: World = { package: pkg, name: next(), defs: new Map(), funcs: [] };
  expect("{");
  while (true) {
    const d = takeDoc();
    const kw = next();
    if (kw === "}") break;
    if (kw === "record" || kw === "variant" || kw === "enum") {
      const name = next();
      expect("{");
      const items: { name: string; type: Type | null; doc: string }[] = [];
      while (true) {
        const idoc = takeDoc();
        if (peek() === "}") break;
        const iname = next();
        let ty: Type | null = null;
        if (kw === "record") {
          expect(":");
          ty = type();
        } else if (kw === "variant" && peek() === "(") {
          next();
          ty = type();
          expect(")");
        }
        items.push({ name: iname, type: ty, doc: idoc });
        if (peek() === ",") next();
      }
      expect("}");
      if (world.defs.has(name)) throw new Error(`wit: \`${name}\` defined twice`);
      if (kw === "record") world.defs.set(name, { kind: "record", name, doc: d, fields: items.map((x) => ({ name: x.name, type: x.type!, doc: x.doc })) });
      else if (kw === "variant") world.defs.set(name, { kind: "variant", name, doc: d, cases: items });
      else world.defs.set(name, { kind: "enum", name, doc: d, cases: items.map((x) => ({ name: x.name, doc: x.doc })) });
    } else if (kw === "export") {
      const name = next();
      expect(":");
      expect("func");
      expect("(");
      const params: { name: string; type: Type }[] = [];
      while (peek() !== ")") {
        const pname = next();
        expect(":");
        params.push({ name: pname, type: type() });
        if (peek() === ",") next();
      }
      expect(")");
      let result: Type | null = null;
      if (peek() === "->") {
        next();
        result = type();
      }
      expect(";");
      world.funcs.push({ name, doc: d, params, result });
    } else throw new Error(`wit: unexpected \`${kw}\``);
  }
  for (const f of world.funcs) for (const p of [...f.params.map((x) => x.type), ...(f.result ? [f.result] : [])]) check(world, p);
  for (const def of world.defs.values()) {
    if (def.kind === "record") for (const f of def.fields) check(world, f.type);
    if (def.kind === "variant") for (const c of def.cases) if (c.type) check(world, c.type);
  }
  return world;
}

function check(w: World, t: Type): void {
  if (t.k === "ref" && !w.defs.has(t.name)) throw new Error(`wit: unknown type \`${t.name}\``);
  if (t.k === "list" || t.k === "option") check(w, t.of);
  if (t.k === "tuple") t.items.forEach((x) => check(w, x));
  if (t.k === "result") [t.ok, t.err].forEach((x) => x && check(w, x));
}

// ---- The canonical ABI: sizes, alignments, discriminants, flattening ----

export type Flat = "i32" | "i64";

export function resolve(w: World, t: Type): Type | Def {
  return t.k === "ref" ? w.defs.get(t.name)! : t;
}

/** The cases of a variant-like type (variant, option, result) as [name, payload] pairs. */
export function casesOf(w: World, t: Type | Def): [string, Type | null][] {
  if ("kind" in t) {
    if (t.kind === "variant") return t.cases.map((c) => [c.name, c.type]);
    if (t.kind === "enum") return t.cases.map((c) => [c.name, null]);
    throw new Error("not a variant");
  }
  if (t.k === "option") return [["none", null], ["some", t.of]];
  if (t.k === "result") return [["ok", t.ok], ["err", t.err]];
  throw new Error("not a variant");
}

export const discSize = (n: number) => (n <= 256 ? 1 : n <= 65536 ? 2 : 4);
export const alignTo = (n: number, a: number) => Math.ceil(n / a) * a;

export function align(w: World, t: Type | Def): number {
  const r = "kind" in t ? t : resolve(w, t);
  if ("kind" in r) {
    if (r.kind === "record") return Math.max(1, ...r.fields.map((f) => align(w, f.type)));
    if (r.kind === "enum") return discSize(r.cases.length);
    return Math.max(discSize(r.cases.length), ...r.cases.map((c) => (c.type ? align(w, c.type) : 1)));
  }
  if (r.k in SCALAR) return SCALAR[r.k][1];
  switch (r.k) {
    case "tuple":
      return Math.max(1, ...r.items.map((x) => align(w, x)));
    case "option":
    case "result":
      return Math.max(1, ...casesOf(w, r).map(([, p]) => (p ? align(w, p) : 1)));
  }
  throw new Error(`align of ${JSON.stringify(r)}`);
}

export function size(w: World, t: Type | Def): number {
  const r = "kind" in t ? t : resolve(w, t);
  if ("kind" in r && r.kind === "record") return fieldOffsets(w, r.fields.map((f) => f.type)).size;
  if ("kind" in r || r.k === "option" || r.k === "result") {
    const cases = casesOf(w, r);
    const d = discSize(cases.length);
    if ("kind" in r && r.kind === "enum") return d;
    const maxAlign = Math.max(1, ...cases.map(([, p]) => (p ? align(w, p) : 1)));
    const payload = Math.max(0, ...cases.map(([, p]) => (p ? size(w, p) : 0)));
    return alignTo(alignTo(d, maxAlign) + payload, align(w, r));
  }
  if (r.k in SCALAR) return SCALAR[r.k][0];
  if (r.k === "tuple") return fieldOffsets(w, r.items).size;
  throw new Error(`size of ${JSON.stringify(r)}`);
}

/** The offset of each field of a record or tuple, and its size. */
export function fieldOffsets(w: World, types: Type[]): { offsets: number[]; size: number } {
  let at = 0;
  let a = 1;
  const offsets: number[] = [];
  for (const t of types) {
    const al = align(w, t);
    a = Math.max(a, al);
    at = alignTo(at, al);
    offsets.push(at);
    at += size(w, t);
  }
  return { offsets, size: alignTo(at, a) };
}

/** The payload offset of a variant-like type (after its discriminant). */
export function payloadOffset(w: World, t: Type | Def): number {
  const cases = casesOf(w, t);
  return alignTo(discSize(cases.length), Math.max(1, ...cases.map(([, p]) => (p ? align(w, p) : 1))));
}

export function flatten(w: World, t: Type | Def): Flat[] {
  const r = "kind" in t ? t : resolve(w, t);
  if ("kind" in r) {
    if (r.kind === "record") return r.fields.flatMap((f) => flatten(w, f.type));
    if (r.kind === "enum") return ["i32"];
  } else {
    switch (r.k) {
      case "bool":
      case "u8":
      case "u16":
      case "u32":
      case "s32":
        return ["i32"];
      case "u64":
        return ["i64"];
      case "string":
      case "list":
        return ["i32", "i32"];
      case "tuple":
        return r.items.flatMap((x) => flatten(w, x));
    }
  }
  // Variants: the discriminant, then the case payloads joined slot by slot.
  const joined: Flat[] = [];
  for (const [, p] of casesOf(w, r)) {
    if (!p) continue;
    flatten(w, p).forEach((f, i) => {
      joined[i] = joined[i] === undefined ? f : joined[i] === f ? f : "i64";
    });
  }
  return ["i32", ...joined];
}

export const MAX_FLAT_PARAMS = 16;
export const MAX_FLAT_RESULTS = 1;

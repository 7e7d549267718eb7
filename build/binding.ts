// Generates both sides of the core's contract from assembly/core.wit, so that neither is kept by
// hand: the host binding (TypeScript, over the plain core module, without jco's glue) and the
// guest's export wrappers (AssemblyScript, lifting arguments from linear memory and lowering
// results into it). Both follow the canonical ABI as build/wit.ts lays it out; jco builds the
// component from the core module and checks every export's signature against the WIT, and
// test/unit/core-abi.test.ts checks that the host binding lifts what jco's own binding lifts.
//
// Conventions, those of jco's JavaScript binding: record fields and function names in
// camelCase, enum values and variant tags as their WIT names, a variant as {tag, val}, option<T>
// as T | undefined, list<u8> as Uint8Array, u64 as bigint; a function's result<T, failure> returns
// T or calls `fail` with the failure.
import { align, casesOf, discSize, fieldOffsets, flatten, type Func, MAX_FLAT_PARAMS, MAX_FLAT_RESULTS, payloadOffset, resolve, size, type Type, type World } from "./wit";

const camel = (s: string) => s.replace(/-([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
const pascal = (s: string) => camel(s).replace(/^[a-z]/, (c) => c.toUpperCase());
const isBytes = (t: Type) => t.k === "list" && t.of.k === "u8";

function docComment(doc: string, indent = ""): string {
  if (!doc) return "";
  const lines = doc.split("\n");
  return lines.length === 1 ? `${indent}/** ${lines[0]} */\n` : `${indent}/**\n${lines.map((l) => `${indent} * ${l}`).join("\n")}\n${indent} */\n`;
}

// ---------------------------------------------------------------------------------------------
// Host (TypeScript)

function tsType(w: World, t: Type): string {
  switch (t.k) {
    case "bool":
      return "boolean";
    case "u8":
    case "u16":
    case "u32":
    case "s32":
      return "number";
    case "u64":
      return "bigint";
    case "string":
      return "string";
    case "list":
      return isBytes(t) ? "Uint8Array" : `${tsType(w, t.of)}[]`;
    case "option":
      return `${tsType(w, t.of)} | undefined`;
    case "tuple":
      return `[${t.items.map((x) => tsType(w, x)).join(", ")}]`;
    case "result":
      return `{ tag: "ok"; val: ${t.ok ? tsType(w, t.ok) : "undefined"} } | { tag: "err"; val: ${t.err ? tsType(w, t.err) : "undefined"} }`;
    case "ref":
      return pascal(t.name);
  }
}

/** Unique helper names for anonymous types (list<string>, option<x>...). */
function key(t: Type): string {
  switch (t.k) {
    case "list":
      return `list_${key(t.of)}`;
    case "option":
      return `option_${key(t.of)}`;
    case "tuple":
      return `tuple_${t.items.map(key).join("_")}`;
    case "result":
      return `result_${t.ok ? key(t.ok) : "none"}_${t.err ? key(t.err) : "none"}`;
    case "ref":
      return t.name.replace(/-/g, "_");
    default:
      return t.k;
  }
}

function hostLoad(w: World, t: Type, p: string): string {
  switch (t.k) {
    case "bool":
      return `(dv.getUint8(${p}) !== 0)`;
    case "u8":
      return `dv.getUint8(${p})`;
    case "u16":
      return `dv.getUint16(${p}, true)`;
    case "u32":
      return `dv.getUint32(${p}, true)`;
    case "s32":
      return `dv.getInt32(${p}, true)`;
    case "u64":
      return `dv.getBigUint64(${p}, true)`;
    case "string":
      return `loadString(${p})`;
    default:
      return `load_${key(t)}(${p})`;
  }
}

function hostStore(w: World, t: Type, p: string, v: string): string {
  switch (t.k) {
    case "bool":
      return `dv.setUint8(${p}, ${v} ? 1 : 0)`;
    case "u8":
      return `dv.setUint8(${p}, ${v})`;
    case "u16":
      return `dv.setUint16(${p}, ${v}, true)`;
    case "u32":
      return `dv.setUint32(${p}, ${v}, true)`;
    case "s32":
      return `dv.setInt32(${p}, ${v}, true)`;
    case "u64":
      return `dv.setBigUint64(${p}, ${v}, true)`;
    case "string":
      return `storeString(${p}, ${v})`;
    default:
      return `store_${key(t)}(${p}, ${v})`;
  }
}

/** Helper functions (load_X, store_X) for every named or anonymous type the binding uses. */
function hostHelpers(w: World, roots: string[], types: Map<string, Type>): string {
  return emitHelpers(roots, (dir, k) => {
    const t = types.get(k)!;
    const r = resolve(w, t);
    const sz = size(w, t);
    const al = align(w, t);
    let load = "";
    let store = "";
    if ("kind" in r && r.kind === "record") {
      const { offsets } = fieldOffsets(w, r.fields.map((f) => f.type));
      load = `return { ${r.fields.map((f, i) => `${camel(f.name)}: ${hostLoad(w, f.type, `p + ${offsets[i]}`)}`).join(", ")} };`;
      store = r.fields.map((f, i) => `${hostStore(w, f.type, `p + ${offsets[i]}`, `v.${camel(f.name)}`)};`).join("\n  ");
    } else if ("kind" in r && r.kind === "enum") {
      const d = discSize(r.cases.length);
      const get = d === 1 ? "getUint8(p)" : d === 2 ? "getUint16(p, true)" : "getUint32(p, true)";
      const set = d === 1 ? "setUint8(p, i)" : d === 2 ? "setUint16(p, i, true)" : "setUint32(p, i, true)";
      const names = `${pascal(r.name).toUpperCase()}_VALUES`;
      load = `const i = dv.${get}; if (i >= ${names}.length) throw new RangeError("invalid ${r.name} " + i); return ${names}[i];`;
      store = `const i = ${names}.indexOf(v); if (i < 0) throw new TypeError("invalid ${r.name} " + v); dv.${set};`;
    } else if ("kind" in r || r.k === "option" || r.k === "result") {
      const cases = casesOf(w, r);
      const d = discSize(cases.length);
      const get = d === 1 ? "getUint8(p)" : d === 2 ? "getUint16(p, true)" : "getUint32(p, true)";
      const set = (i: number) => (d === 1 ? `setUint8(p, ${i})` : d === 2 ? `setUint16(p, ${i}, true)` : `setUint32(p, ${i}, true)`);
      const po = payloadOffset(w, r);
      if (!("kind" in r) && r.k === "option") {
        load = `return dv.${get} === 0 ? undefined : ${hostLoad(w, r.of, `p + ${po}`)};`;
        store = `if (v === undefined || v === null) { dv.${set(0)}; return; }\n  dv.${set(1)};\n  ${hostStore(w, r.of, `p + ${po}`, "v")};`;
      } else {
        load = `switch (dv.${get}) {\n${cases.map(([n, pt], i) => `    case ${i}: return { tag: ${JSON.stringify(n)}${pt ? `, val: ${hostLoad(w, pt, `p + ${po}`)}` : ""} };`).join("\n")}\n    default: throw new RangeError("invalid discriminant");\n  }`;
        store = `switch (v.tag) {\n${cases.map(([n, pt], i) => `    case ${JSON.stringify(n)}: dv.${set(i)};${pt ? ` ${hostStore(w, pt, `p + ${po}`, "(v as any).val")};` : ""} return;`).join("\n")}\n    default: throw new TypeError("invalid tag " + (v as any).tag);\n  }`;
      }
    } else if (r.k === "list") {
      if (isBytes(r)) {
        load = `const ptr = dv.getUint32(p, true), len = dv.getUint32(p + 4, true);\n  return new Uint8Array(mem().buffer, ptr, len).slice();`;
        store = `const ptr = alloc(v.length, 1);\n  new Uint8Array(mem().buffer, ptr, v.length).set(v);\n  dv.setUint32(p, ptr, true);\n  dv.setUint32(p + 4, v.length, true);`;
      } else {
        const es = size(w, r.of);
        load = `const ptr = dv.getUint32(p, true), len = dv.getUint32(p + 4, true);\n  const out = new Array(len);\n  for (let i = 0; i < len; i++) out[i] = ${hostLoad(w, r.of, `ptr + i * ${es}`)};\n  return out;`;
        store = `const ptr = alloc(v.length * ${es}, ${align(w, r.of)});\n  for (let i = 0; i < v.length; i++) ${hostStore(w, r.of, `ptr + i * ${es}`, "v[i]")};\n  dv.setUint32(p, ptr, true);\n  dv.setUint32(p + 4, v.length, true);`;
      }
    } else if (r.k === "tuple") {
      const { offsets } = fieldOffsets(w, r.items);
      load = `return [${r.items.map((x, i) => hostLoad(w, x, `p + ${offsets[i]}`)).join(", ")}];`;
      store = r.items.map((x, i) => `${hostStore(w, x, `p + ${offsets[i]}`, `v[${i}]`)};`).join("\n  ");
    }
    const ty = tsType(w, t);
    return dir === "L" ? `/** ${k}: ${sz} bytes, align ${al}. */\nfunction load_${k}(p: number): ${ty} {\n  ${load}\n}` : `function store_${k}(p: number, v: ${ty}): void {\n  ${store}\n}`;
  });
}

/**
 * The helpers (load_X and store_X) reachable from `roots` ("L:key" / "S:key"), each written once
 * by `helper`, in the order first called: the worklist both sides of the binding share.
 */
function emitHelpers(roots: string[], helper: (dir: string, k: string) => string): string {
  const out: string[] = [];
  const done = new Set<string>();
  const queue = [...roots];
  while (queue.length) {
    const item = queue.shift()!;
    if (done.has(item)) continue;
    done.add(item);
    const [dir, k] = item.split(":");
    const text = helper(dir, k);
    out.push(text);
    queue.push(...calls(text));
  }
  return out.join("\n\n");
}

/** The helpers a text calls, as "L:key" / "S:key" (only what is used is generated). */
function calls(text: string): string[] {
  return [...text.matchAll(/\b(load|store)_(\w+)\(/g)].map((m) => `${m[1] === "load" ? "L" : "S"}:${m[2]}`);
}

function collectTypes(w: World): Map<string, Type> {
  const types = new Map<string, Type>();
  const visit = (t: Type) => {
    if (["bool", "u8", "u16", "u32", "s32", "u64", "string"].includes(t.k)) return;
    const k = key(t);
    if (types.has(k)) return;
    types.set(k, t);
    if (t.k === "list" || t.k === "option") visit(t.of);
    if (t.k === "tuple") t.items.forEach(visit);
    if (t.k === "result") [t.ok, t.err].forEach((x) => x && visit(x));
    if (t.k === "ref") {
      const d = w.defs.get(t.name)!;
      if (d.kind === "record") d.fields.forEach((f) => visit(f.type));
      if (d.kind === "variant") d.cases.forEach((c) => c.type && visit(c.type));
    }
  };
  for (const d of w.defs.values()) visit({ k: "ref", name: d.name });
  for (const f of w.funcs) {
    f.params.forEach((p) => visit(p.type));
    if (f.result) visit(f.result);
  }
  return types;
}

/** The error type of a function's top-level result, when it has one. */
const topResult = (f: Func) => (f.result?.k === "result" ? f.result : null);

/** Lowers a value into flat arguments: statements into body, one expression per flat value. */
function lowerFlat(w: World, t: Type, v: string, body: string[], names: string[]): void {
  const tmp = `t${body.length}`;
  switch (t.k) {
    case "bool":
      names.push(`${v} ? 1 : 0`);
      return;
    case "u8":
    case "u16":
    case "u32":
    case "s32":
      names.push(v);
      return;
    case "string":
      body.push(`const ${tmp} = lowerString(${v});`);
      names.push(`${tmp}[0]`, `${tmp}[1]`);
      return;
    case "list":
      body.push(`const ${tmp} = alloc(8, 4);`, `${hostStore(w, t, tmp, v)};`);
      names.push(`dv.getUint32(${tmp}, true)`, `dv.getUint32(${tmp} + 4, true)`);
      return;
    case "ref": {
      const d = w.defs.get(t.name)!;
      if (d.kind === "enum") {
        body.push(`const ${tmp} = alloc(4, 4);`, `${hostStore(w, t, tmp, v)};`);
        names.push(`dv.getUint8(${tmp})`);
        return;
      }
      if (d.kind === "record") {
        for (const f of d.fields) lowerFlat(w, f.type, `${v}.${camel(f.name)}`, body, names);
        return;
      }
    }
  }
  throw new Error(`binding: flat parameter of type ${key(t)} is not supported`);
}

export function generateHost(w: World): string {
  const types = collectTypes(w);
  const defs: string[] = [];
  for (const d of w.defs.values()) {
    if (d.kind === "record") {
      defs.push(`${docComment(d.doc)}export interface ${pascal(d.name)} {\n${d.fields.map((f) => `${docComment(f.doc, "  ")}  ${camel(f.name)}: ${tsType(w, f.type)};`).join("\n")}\n}`);
    } else if (d.kind === "enum") {
      defs.push(`${docComment(d.doc)}export type ${pascal(d.name)} = ${d.cases.map((c) => JSON.stringify(c.name)).join(" | ")};\n/** Every ${d.name}, in the contract's order. */\nexport const ${pascal(d.name).toUpperCase()}_VALUES: readonly ${pascal(d.name)}[] = ${JSON.stringify(d.cases.map((c) => c.name))};`);
    } else {
      defs.push(`${docComment(d.doc)}export type ${pascal(d.name)} =\n${d.cases.map((c) => `  | { tag: ${JSON.stringify(c.name)}${c.type ? `; val: ${tsType(w, c.type)}` : ""} }`).join("\n")};`);
    }
  }
  const fns: string[] = [];
  const exportsIface: string[] = [];
  for (const f of w.funcs) {
    const flatParams = f.params.flatMap((p) => flatten(w, p.type));
    const byPointer = flatParams.length > MAX_FLAT_PARAMS;
    const args = f.params.map((p) => `${camel(p.name)}: ${tsType(w, p.type)}`).join(", ");
    const top = topResult(f);
    const ret = top ? (top.ok ? tsType(w, top.ok) : "void") : f.result ? tsType(w, f.result) : "void";
    exportsIface.push(`  ${f.name}(...args: number[]): number;`);
    const body: string[] = ["refresh();"];
    let callArgs: string;
    if (byPointer) {
      const { offsets, size: sz } = fieldOffsets(w, f.params.map((p) => p.type));
      const al = Math.max(1, ...f.params.map((p) => align(w, p.type)));
      body.push(`const args = alloc(${sz}, ${al});`);
      f.params.forEach((p, i) => body.push(`${hostStore(w, p.type, `args + ${offsets[i]}`, camel(p.name))};`));
      callArgs = "args";
    } else {
      // Flat arguments: scalars as they are; strings and lists lowered into memory first.
      const names: string[] = [];
      f.params.forEach((p) => lowerFlat(w, p.type, camel(p.name), body, names));
      callArgs = names.join(", ");
    }
    body.push(`const r = e.${f.name}(${callArgs});`, "refresh();");
    if (!f.result) body.push("return;");
    // Every result comes back through a pointer: generateGuest refuses one that flattens smaller.
    else if (top) {
      body.push(`const v = load_${key(f.result!)}(r);`);
      body.push(`if (v.tag === "err") fail(v.val as any);`);
      body.push(top.ok ? `return v.val as ${ret};` : "return;");
    } else {
      body.push(`return load_${key(f.result!)}(r);`);
    }
    fns.push(`${docComment(f.doc, "    ")}    ${camel(f.name)}(${args}): ${ret} {\n      ${body.join("\n      ")}\n    },`);
  }
  const failureType = w.funcs.map(topResult).find((r) => r?.err)?.err;
  const helpers = hostHelpers(w, calls(fns.join("\n")), types);
  return `// GENERATED by build/binding.ts from assembly/core.wit: do not edit. The host side of the
// canonical ABI over the plain core module.
/* eslint-disable */
// @ts-nocheck: generated; its types are checked through the interfaces it exports.

${defs.join("\n\n")}

/** The plain core module's exports, as the guest's generated wrappers define them. */
export interface CoreExports {
  memory: WebAssembly.Memory;
  cabi_realloc(old: number, oldSize: number, align: number, size: number): number;
${exportsIface.join("\n")}
}

/**
 * Binds the exports of an instance; \`fail\` receives a function's failure (it must throw).
 */
export function bind(e: CoreExports, fail: (f: ${failureType ? tsType(w, failureType) : "never"}) => never) {
  let dv = new DataView(e.memory.buffer);
  const mem = () => e.memory;
  const refresh = () => {
    if (dv.buffer !== e.memory.buffer) dv = new DataView(e.memory.buffer);
  };
  const alloc = (n: number, a: number): number => {
    const p = e.cabi_realloc(0, 0, a, Math.max(n, 1));
    refresh();
    return p;
  };
  const encoder = new TextEncoder();
  const decoder = new TextDecoder();
  const lowerString = (s: string): [number, number] => {
    const b = encoder.encode(s);
    const p = alloc(b.length, 1);
    new Uint8Array(e.memory.buffer, p, b.length).set(b);
    return [p, b.length];
  };
  const loadString = (p: number): string => {
    const ptr = dv.getUint32(p, true), len = dv.getUint32(p + 4, true);
    return decoder.decode(new Uint8Array(e.memory.buffer, ptr, len));
  };
  const storeString = (p: number, s: string): void => {
    const [ptr, len] = lowerString(s);
    dv.setUint32(p, ptr, true);
    dv.setUint32(p + 4, len, true);
  };

${helpers.replace(/^/gm, "  ")}

  return {
${fns.join("\n")}
  };
}
`;
}

// ---------------------------------------------------------------------------------------------
// Guest (AssemblyScript)

function asType(w: World, t: Type): string {
  switch (t.k) {
    case "bool":
      return "bool";
    case "u8":
      return "u8";
    case "u16":
      return "u16";
    case "u32":
      return "u32";
    case "s32":
      return "i32";
    case "u64":
      return "u64";
    case "string":
      return "string";
    case "list":
      return isBytes(t) ? "Uint8Array" : `Array<${asType(w, t.of)}>`;
    case "option": {
      // A value type is boxed: AssemblyScript has no nullable value types.
      const inner = asType(w, t.of);
      return isReference(w, t.of) ? `${inner} | null` : `Box<${inner}> | null`;
    }
    case "ref":
      return pascal(t.name);
    case "result":
      // Only as a function's result: the implementation returns an Outcome.
      return `Outcome<${t.ok ? asType(w, t.ok) : "bool"}>`;
    default:
      throw new Error(`binding: ${t.k} is not supported on the guest side`);
  }
}

function isReference(w: World, t: Type): boolean {
  if (t.k === "string" || t.k === "list") return true;
  if (t.k === "ref") return w.defs.get(t.name)!.kind !== "enum";
  return false;
}

function asDefault(w: World, t: Type): string {
  switch (t.k) {
    case "bool":
      return "false";
    case "string":
      return '""';
    case "list":
      return isBytes(t) ? "new Uint8Array(0)" : `new Array<${asType(w, t.of)}>()`;
    case "option":
      return "null";
    case "ref": {
      const d = w.defs.get(t.name)!;
      if (d.kind === "enum") return `${pascal(d.name)}.${pascal(d.cases[0].name)}`;
      if (d.kind === "variant") return `new ${pascal(d.name)}(0)`;
      return `new ${pascal(d.name)}()`;
    }
    default:
      return "0";
  }
}

const AS_LOAD: Record<string, string> = { bool: "load<u8>(P) != 0", u8: "load<u8>(P)", u16: "load<u16>(P)", u32: "load<u32>(P)", s32: "load<i32>(P)", u64: "load<u64>(P)", string: "loadString(P)" };

function guestLoad(w: World, t: Type, p: string): string {
  if (AS_LOAD[t.k]) return AS_LOAD[t.k].replace("P", p);
  return `load_${key(t)}(${p})`;
}

function guestStore(w: World, t: Type, p: string, v: string): string {
  switch (t.k) {
    case "bool":
      return `store<u8>(${p}, ${v} ? 1 : 0)`;
    case "u8":
    case "u16":
    case "u32":
    case "u64":
      return `store<${t.k}>(${p}, ${v})`;
    case "s32":
      return `store<i32>(${p}, ${v})`;
    case "string":
      return `storeString(${p}, ${v})`;
    default:
      return `store_${key(t)}(${p}, ${v})`;
  }
}

function guestHelpers(w: World, roots: string[], types: Map<string, Type>): string {
  return emitHelpers(roots, (dir, k) => {
    const t = types.get(k)!;
    const r = resolve(w, t);
    const ty = asType(w, t);
    let load = "";
    let store = "";
    const discLoad = (n: number) => (discSize(n) === 1 ? "load<u8>(p)" : discSize(n) === 2 ? "load<u16>(p)" : "load<u32>(p)");
    const discStore = (n: number, v: string) => (discSize(n) === 1 ? `store<u8>(p, <u8>${v})` : discSize(n) === 2 ? `store<u16>(p, <u16>${v})` : `store<u32>(p, <u32>${v})`);
    if ("kind" in r && r.kind === "record") {
      const { offsets } = fieldOffsets(w, r.fields.map((f) => f.type));
      load = `const v = new ${ty}();\n${r.fields.map((f, i) => `  v.${camel(f.name)} = ${guestLoad(w, f.type, `p + ${offsets[i]}`)};`).join("\n")}\n  return v;`;
      store = r.fields.map((f, i) => `${guestStore(w, f.type, `p + ${offsets[i]}`, `v.${camel(f.name)}`)};`).join("\n  ");
    } else if ("kind" in r && r.kind === "enum") {
      load = `const i = <i32>${discLoad(r.cases.length)};\n  if (i >= ${r.cases.length}) unreachable();\n  return <${ty}>i;`;
      store = `${discStore(r.cases.length, "v")};`;
    } else if ("kind" in r && r.kind === "variant") {
      const po = payloadOffset(w, r);
      load = `const v = new ${ty}(<u32>${discLoad(r.cases.length)});\n  switch (v.tag) {\n${r.cases.map((c, i) => `    case ${i}:${c.type ? ` v.${camel(c.name)} = ${guestLoad(w, c.type, `p + ${po}`)};` : ""} break;`).join("\n")}\n    default: unreachable();\n  }\n  return v;`;
      store = `${discStore(r.cases.length, "v.tag")};\n  switch (v.tag) {\n${r.cases.map((c, i) => `    case ${i}:${c.type ? ` ${guestStore(w, c.type, `p + ${po}`, isReference(w, c.type) ? `changetype<${asType(w, c.type)}>(v.${camel(c.name)})` : `v.${camel(c.name)}`)};` : ""} break;`).join("\n")}\n    default: unreachable();\n  }`;
    } else if (!("kind" in r) && r.k === "option") {
      const po = payloadOffset(w, r);
      const boxed = !isReference(w, r.of);
      const inner = asType(w, r.of);
      load = `if (load<u8>(p) == 0) return null;\n  return ${boxed ? `new Box<${inner}>(${guestLoad(w, r.of, `p + ${po}`)})` : guestLoad(w, r.of, `p + ${po}`)};`;
      store = `if (v === null) { store<u8>(p, 0); return; }\n  store<u8>(p, 1);\n  ${guestStore(w, r.of, `p + ${po}`, boxed ? `changetype<Box<${inner}>>(v).value` : `changetype<${inner}>(v)`)};`;
    } else if (!("kind" in r) && r.k === "list") {
      if (isBytes(r)) {
        load = `const ptr = <usize>load<u32>(p), len = <i32>load<u32>(p + 4);\n  const a = new Uint8Array(len);\n  memory.copy(a.dataStart, ptr, <usize>len);\n  return a;`;
        store = `store<u32>(p, <u32>v.dataStart);\n  store<u32>(p + 4, <u32>v.length);`;
      } else {
        const es = size(w, r.of);
        load = `const ptr = <usize>load<u32>(p), len = <i32>load<u32>(p + 4);\n  const a = new Array<${asType(w, r.of)}>(len);\n  for (let i = 0; i < len; i++) a[i] = ${guestLoad(w, r.of, `ptr + <usize>i * ${es}`)};\n  return a;`;
        store = `const ptr = heap.alloc(max<usize>(1, <usize>v.length * ${es}));\n  for (let i = 0; i < v.length; i++) ${guestStore(w, r.of, `ptr + <usize>i * ${es}`, "v[i]")};\n  store<u32>(p, <u32>ptr);\n  store<u32>(p + 4, <u32>v.length);`;
      }
    } else if (!("kind" in r) && r.k === "result") {
      const po = payloadOffset(w, r);
      // Only a function's top-level result: an Outcome.
      load = "unreachable();";
      store = `if (v.failure !== null) {\n    store<u8>(p, 1);\n    ${r.err ? guestStore(w, r.err, `p + ${po}`, "changetype<Failure>(v.failure)") : ""};\n    return;\n  }\n  store<u8>(p, 0);\n  ${r.ok ? guestStore(w, r.ok, `p + ${po}`, isReference(w, r.ok) ? `changetype<${asType(w, r.ok)}>(v.value)` : "v.value") : ""};`;
    } else throw new Error(`binding: guest helper for ${k}`);
    return dir === "L" ? `function load_${k}(p: usize): ${ty} {\n  ${load}\n}` : `function store_${k}(p: usize, v: ${ty}): void {\n  ${store}\n}`;
  });
}

/** Lifts flat parameters into values: statements, and the expression of each parameter. */
function liftFlat(w: World, t: Type, names: string[], stmts: string[]): string {
  switch (t.k) {
    case "bool":
      return `${names.shift()} != 0`;
    case "u8":
    case "u16":
    case "u32":
    case "s32":
      return `<${asType(w, t)}>${names.shift()}`;
    case "string":
      return `String.UTF8.decodeUnsafe(<usize>${names.shift()}, <usize>${names.shift()}, false)`;
    case "list": {
      const tmp = `l${stmts.length}`;
      stmts.push(`const ${tmp} = heap.alloc(8);`, `store<u32>(${tmp}, <u32>${names.shift()});`, `store<u32>(${tmp} + 4, <u32>${names.shift()});`);
      return guestLoad(w, t, tmp);
    }
    case "ref": {
      const d = w.defs.get(t.name)!;
      if (d.kind === "enum") return `<${pascal(d.name)}>${names.shift()}`;
      if (d.kind === "record") {
        const tmp = `r${stmts.length}`;
        stmts.push(`const ${tmp} = new ${pascal(d.name)}();`);
        for (const f of d.fields) stmts.push(`${tmp}.${camel(f.name)} = ${liftFlat(w, f.type, names, stmts)};`);
        return tmp;
      }
    }
  }
  throw new Error(`binding: flat parameter of type ${key(t)} is not supported`);
}

export function generateGuest(w: World, implModule: string): { types: string; exports: string } {
  const types = collectTypes(w);
  const defs: string[] = [];
  for (const d of w.defs.values()) {
    if (d.kind === "record") {
      defs.push(`${docComment(d.doc)}export class ${pascal(d.name)} {\n${d.fields.map((f) => `${docComment(f.doc, "  ")}  ${camel(f.name)}: ${asType(w, f.type)} = ${asDefault(w, f.type)};`).join("\n")}\n}`);
    } else if (d.kind === "enum") {
      defs.push(`${docComment(d.doc)}export enum ${pascal(d.name)} {\n${d.cases.map((c, i) => `${docComment(c.doc, "  ")}  ${pascal(c.name)} = ${i},`).join("\n")}\n}\n/** The WIT names of ${d.name}, by value. */\nexport const ${pascal(d.name).toUpperCase()}_NAMES: string[] = ${JSON.stringify(d.cases.map((c) => c.name))};`);
    } else {
      const tags = d.cases.map((c, i) => `  static readonly ${pascal(c.name)}: u32 = ${i};`).join("\n");
      const fields = d.cases.filter((c) => c.type).map((c) => `  ${camel(c.name)}: ${asType(w, c.type!)}${isReference(w, c.type!) ? " | null = null" : ` = ${asDefault(w, c.type!)}`};`).join("\n");
      const makers = d.cases
        .map((c, i) => (c.type ? `  static ${camel(c.name)}(x: ${asType(w, c.type)}): ${pascal(d.name)} {\n    const v = new ${pascal(d.name)}(${i});\n    v.${camel(c.name)} = x;\n    return v;\n  }` : `  static ${camel(c.name)}(): ${pascal(d.name)} {\n    return new ${pascal(d.name)}(${i});\n  }`))
        .join("\n");
      defs.push(`${docComment(d.doc)}export class ${pascal(d.name)} {\n${tags}\n${fields}\n  constructor(public tag: u32) {}\n${makers}\n}`);
    }
  }
  const wrappers: string[] = [];
  for (const f of w.funcs) {
    const flatParams = f.params.flatMap((p) => flatten(w, p.type));
    const flatResults = f.result ? flatten(w, f.result) : [];
    const byPointer = flatParams.length > MAX_FLAT_PARAMS;
    if (flatResults.length <= MAX_FLAT_RESULTS && f.result) throw new Error(`binding: ${f.name} must return a record or a result`);
    const stmts: string[] = [];
    const argExprs: string[] = [];
    let sig: string;
    if (byPointer) {
      const { offsets } = fieldOffsets(w, f.params.map((p) => p.type));
      sig = "args: usize";
      f.params.forEach((p, i) => argExprs.push(guestLoad(w, p.type, `args + ${offsets[i]}`)));
    } else {
      const names = flatParams.map((ft, i) => `a${i}`);
      sig = flatParams.map((ft, i) => `a${i}: ${ft}`).join(", ");
      const queue = [...names];
      for (const p of f.params) argExprs.push(liftFlat(w, p.type, queue, stmts));
    }
    const call = `impl.${camel(f.name)}(${argExprs.join(", ")})`;
    const body = [...stmts];
    if (!f.result) body.push(`${call};`);
    else {
      body.push(`const out = ${call};`, `const area = heap.alloc(${size(w, f.result)});`, `store_${key(f.result)}(area, out);`, "return area;");
    }
    wrappers.push(`${docComment(f.doc)}export function ${f.name}(${sig})${f.result ? ": usize" : ": void"} {\n  ${body.join("\n  ")}\n}`);
  }
  const helpers = guestHelpers(w, calls(wrappers.join("\n")), types);
  const failure = w.funcs.map(topResult).find((r) => r?.err)?.err;
  const names = [...w.defs.values()].map((d) => pascal(d.name));
  const typesText = `// GENERATED by build/binding.ts from assembly/core.wit: do not edit. The contract's types as
// AssemblyScript classes and enums, for the implementation in assembly/.

${defs.join("\n\n")}

/** An optional value type (option<u32>): AssemblyScript has no nullable value types. */
export class Box<T> {
  constructor(public value: T) {}
}

/** A decision: a value, or a failure with a stable code. */
export class Outcome<T> {
  failure: ${failure ? asType(w, failure) : "bool"} | null = null;
  constructor(public value: T) {}
}

/** The successful outcome v. */
export function ok<T>(v: T): Outcome<T> {
  return new Outcome<T>(v);
}
`;
  const exportsText = `// GENERATED by build/binding.ts from assembly/core.wit: do not edit. The guest side of the
// canonical ABI: each export lifts its arguments from linear memory, calls the implementation in
// assembly/, and lowers the result into a return area it allocates.
import * as impl from "${implModule}";
import { Box, Outcome, ${names.join(", ")} } from "./types";

function loadString(p: usize): string {
  return String.UTF8.decodeUnsafe(<usize>load<u32>(p), <usize>load<u32>(p + 4), false);
}

function storeString(p: usize, s: string): void {
  const b = String.UTF8.encode(s, false);
  store<u32>(p, <u32>changetype<usize>(b));
  store<u32>(p + 4, <u32>b.byteLength);
}

${helpers}

/** cabi_realloc of the canonical ABI: the host allocates argument buffers through it. */
export function cabi_realloc(old: usize, oldSize: usize, align: usize, size: usize): usize {
  if (old != 0) return heap.realloc(old, size);
  return heap.alloc(size);
}

${wrappers.join("\n\n")}
`;
  return { types: typesText, exports: exportsText };
}

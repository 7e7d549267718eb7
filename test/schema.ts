// A JSON Schema validator for the schemas in ../shared/schemas (draft-04/07 features they use:
// $ref across files, type, properties, required, items, enum, pattern, minimum, maximum,
// minItems, allOf, anyOf, oneOf, additionalProperties, patternProperties). Returns the errors.
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const SCHEMAS = join(import.meta.dir, "../../shared/schemas");

type S = Record<string, any>;
const cache = new Map<string, S>();
const load = (file: string): S => {
  if (!cache.has(file)) cache.set(file, JSON.parse(readFileSync(file, "utf8")));
  return cache.get(file)!;
};

function resolve(ref: string, file: string): [S, string] {
  const [path, frag] = ref.split("#");
  const target = path ? join(dirname(file), path) : file;
  let node = load(target);
  for (const part of (frag ?? "").split("/").filter(Boolean)) node = node[part];
  if (node === undefined) throw new Error(`unresolvable $ref ${ref} from ${file}`);
  return [node, target];
}

function typeOf(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isInteger(v) ? "integer" : "number";
  return typeof v;
}

function check(v: unknown, s: S, file: string, at: string, errs: string[]): void {
  if (s.$ref) {
    const [t, f] = resolve(s.$ref, file);
    return check(v, t, f, at, errs);
  }
  if (s.type) {
    const want = [s.type].flat();
    const got = typeOf(v);
    if (!want.includes(got) && !(got === "integer" && want.includes("number"))) return void errs.push(`${at}: want ${want.join("|")}, got ${got}`);
  }
  if (s.enum && !s.enum.some((e: unknown) => JSON.stringify(e) === JSON.stringify(v))) errs.push(`${at}: ${JSON.stringify(v)} not in ${JSON.stringify(s.enum)}`);
  if (typeof v === "string" && s.pattern && !new RegExp(s.pattern).test(v)) errs.push(`${at}: ${JSON.stringify(v)} does not match ${s.pattern}`);
  if (typeof v === "number") {
    if (s.minimum !== undefined && v < s.minimum) errs.push(`${at}: ${v} < ${s.minimum}`);
    if (s.maximum !== undefined && v > s.maximum) errs.push(`${at}: ${v} > ${s.maximum}`);
  }
  if (Array.isArray(v)) {
    if (s.minItems !== undefined && v.length < s.minItems) errs.push(`${at}: fewer than ${s.minItems} items`);
    if (s.items) v.forEach((x, i) => check(x, s.items, file, `${at}[${i}]`, errs));
  }
  if (typeOf(v) === "object") {
    const o = v as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) errs.push(`${at}: missing ${r}`);
    for (const [k, x] of Object.entries(o)) {
      let matched = false;
      if (s.properties?.[k]) {
        matched = true;
        check(x, s.properties[k], file, `${at}.${k}`, errs);
      }
      for (const [p, ps] of Object.entries(s.patternProperties ?? {})) {
        if (new RegExp(p).test(k)) {
          matched = true;
          check(x, ps as S, file, `${at}.${k}`, errs);
        }
      }
      if (!matched && s.additionalProperties === false) errs.push(`${at}: unexpected property ${k}`);
      else if (!matched && typeof s.additionalProperties === "object") check(x, s.additionalProperties, file, `${at}.${k}`, errs);
    }
  }
  for (const sub of s.allOf ?? []) check(v, sub, file, at, errs);
  const passes = (sub: S) => {
    const e: string[] = [];
    check(v, sub, file, at, e);
    return e.length === 0;
  };
  if (s.anyOf && !s.anyOf.some(passes)) errs.push(`${at}: matches none of anyOf`);
  if (s.oneOf && s.oneOf.filter(passes).length !== 1) errs.push(`${at}: does not match exactly one of oneOf`);
}

/** Errors of `doc` against a schema file (e.g. `cdi/schema.json`, `oci/config-schema.json`). */
export function validate(doc: unknown, schema: string): string[] {
  const file = join(SCHEMAS, schema);
  const errs: string[] = [];
  check(doc, load(file), file, "$", errs);
  return errs;
}

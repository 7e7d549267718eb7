// The requirement language of NVIDIA_REQUIRE_* and `--require`.
import { Code, Failure } from "../build/out/gen/types";
import { failure } from "./outcome";
import { allDigits } from "./text";

const NAMES: string[] = ["cuda", "driver", "arch", "brand"];
// Longest first, so that "<=" is not read as "<" followed by "=value".
const OPS: string[] = [">=", "<=", "!=", "=", "<", ">"];

export class Term {
  constructor(public name: string, public op: string, public value: string, public text: string) {}
}

/** A parsed expression (outer list ORed, inner ANDed), or why it does not parse. */
export class Parsed {
  constructor(public alts: Array<Array<Term>>, public error: Failure | null) {}
}

function isVersion(v: string): bool {
  if (v.length == 0) return false;
  const parts = v.split(".");
  for (let i = 0; i < parts.length; i++) if (!allDigits(parts[i])) return false;
  return true;
}

function isWord(v: string): bool {
  if (v.length == 0) return false;
  for (let i = 0; i < v.length; i++) {
    const c = v.charCodeAt(i) | 0x20;
    const d = v.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (d >= 0x30 && d <= 0x39) || d == 0x2d || d == 0x5f)) return false;
  }
  return true;
}

function bad(text: string, why: string): Failure {
  return failure(Code.BadRequirement, "invalid requirement `" + text + "`: " + why);
}

function parseTerm(text: string, out: Term[]): Failure | null {
  let name = "";
  for (let i = 0; i < NAMES.length; i++) {
    if (text.startsWith(NAMES[i])) {
      name = NAMES[i];
      break;
    }
  }
  if (name.length == 0) return bad(text, "unknown name (want cuda, driver, arch or brand)");
  const rest = text.substring(name.length);
  let op = "";
  for (let i = 0; i < OPS.length; i++) {
    if (rest.startsWith(OPS[i])) {
      op = OPS[i];
      break;
    }
  }
  if (op.length == 0) return bad(text, "missing operator (want = != < <= > >=)");
  const value = rest.substring(op.length);
  if (name == "brand") {
    if (!isWord(value)) return bad(text, "brand must be a word");
    if (op != "=" && op != "!=") return bad(text, "brand takes only = or !=");
    out.push(new Term(name, op, value.toLowerCase(), text));
    return null;
  }
  if (!isVersion(value)) return bad(text, "value must be a version such as 12.4");
  out.push(new Term(name, op, value, text));
  return null;
}

/**
 * parse(expr). Grammar: `alt (SP alt)*`, alt = `term ("," term)*`, term = `name op value` with
 * names cuda, driver, arch (dotted versions) and brand (a word, = or != only), ops
 * `= != < <= > >=`. Spaces OR, commas AND. Failure: `bad-requirement` naming the expression.
 */
export function parse(expr: string): Parsed {
  const alts = new Array<Array<Term>>();
  const words = expr.trim().split(" ");
  for (let i = 0; i < words.length; i++) {
    const w = words[i].trim();
    if (w.length == 0) continue;
    const terms = new Array<Term>();
    const parts = w.split(",");
    for (let j = 0; j < parts.length; j++) {
      const p = parts[j].trim();
      if (p.length == 0) return new Parsed(alts, bad(expr, "empty term"));
      const err = parseTerm(p, terms);
      if (err !== null) return new Parsed(alts, err);
    }
    alts.push(terms);
  }
  if (alts.length == 0) return new Parsed(alts, bad(expr, "empty expression"));
  return new Parsed(alts, null);
}

/** -1, 0 or 1: dotted versions compared numerically, missing components read as 0. */
export function compareVersions(a: string, b: string): i32 {
  const pa = a.split(".");
  const pb = b.split(".");
  const n = pa.length > pb.length ? pa.length : pb.length;
  for (let i = 0; i < n; i++) {
    const x = i < pa.length ? stripZeros(pa[i]) : "0";
    const y = i < pb.length ? stripZeros(pb[i]) : "0";
    // By length first, so that arbitrarily long components never overflow.
    if (x.length != y.length) return x.length < y.length ? -1 : 1;
    if (x != y) return x < y ? -1 : 1;
  }
  return 0;
}

function stripZeros(s: string): string {
  let i = 0;
  while (i < s.length - 1 && s.charCodeAt(i) == 0x30) i++;
  return s.substring(i);
}

function holds(t: Term, fact: string): bool {
  if (t.name == "brand") {
    const eq = fact.toLowerCase() == t.value;
    return t.op == "=" ? eq : !eq;
  }
  if (!isVersion(fact)) return false;
  return versionHolds(t, fact);
}

/** A version term (`cuda>=12.0`) against a version fact. */
export function versionHolds(t: Term, fact: string): bool {
  const c = compareVersions(fact, t.value);
  if (t.op == "=") return c == 0;
  if (t.op == "!=") return c != 0;
  if (t.op == "<") return c < 0;
  if (t.op == "<=") return c <= 0;
  if (t.op == ">") return c > 0;
  return c >= 0;
}

/**
 * check(expr, cuda, driver, arch, brand): null when one alternative holds for these facts, else
 * `unsatisfied` naming the expression (with the reference's advice for a cuda>= condition), or
 * `bad-requirement`.
 */
export function check(expr: string, cuda: string, driver: string, arch: string, brand: string): Failure | null {
  const parsed = parse(expr);
  if (parsed.error !== null) return parsed.error;
  for (let i = 0; i < parsed.alts.length; i++) {
    let all = true;
    const alt = parsed.alts[i];
    for (let j = 0; j < alt.length && all; j++) {
      const n = alt[j].name;
      all = holds(alt[j], n == "cuda" ? cuda : n == "driver" ? driver : n == "arch" ? arch : brand);
    }
    if (all) return null;
  }
  const e = expr.trim();
  const advice = e.startsWith("cuda>=") ? ", please update your driver to a newer version, or use an earlier cuda container" : "";
  return failure(Code.Unsatisfied, "unsatisfied condition: " + e + advice);
}

// The architecture of README.md, checked on the imports of src/: arrows point down only
// (cmd -> engine -> discover, core, inject, cache -> sys), discover only reads, inject only
// applies (every system call through Libc, no decision), sys knows no policy.
import { describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";

const SRC = join(import.meta.dir, "../../src");

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });
}

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Every import of a file: static (type-only marked), dynamic, and re-exports. */
export function importsOf(file: string, text = readFileSync(file, "utf8")): Import[] {
  const out: Import[] = [];
  const rel = (spec: string) => (spec.startsWith(".") ? relative(SRC, join(dirname(file), spec)).replace(/\.ts$/, "") : spec);
  for (const m of text.matchAll(/^\s*(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gm)) out.push({ from: relative(SRC, file).replace(/\.ts$/, ""), to: rel(m[3]), typeOnly: !!m[2] });
  for (const m of text.matchAll(/import\("([^"]+)"\)/g)) out.push({ from: relative(SRC, file).replace(/\.ts$/, ""), to: rel(m[1]), typeOnly: false });
  for (const m of text.matchAll(/require\("([^"]+)"\)/g)) out.push({ from: relative(SRC, file).replace(/\.ts$/, ""), to: rel(m[1]), typeOnly: false });
  return out;
}

const layer = (p: string) => (p.startsWith("..") || !p.includes("/") ? (p.startsWith("../build") ? "gen" : p.includes(":") ? p : "top") : p.split("/")[0]);

/** A rule: files of `layer` must not import what `forbid` matches. */
const RULES: [string, string, (i: Import) => boolean][] = [
  ["engine", "imports no command", (i) => layer(i.to) === "cmd"],
  ["discover", "imports nothing above it", (i) => ["cmd", "engine", "inject", "cache", "engines"].includes(layer(i.to))],
  ["discover", "uses the core's types only", (i) => i.to === "core" && !i.typeOnly],
  ["discover", "never writes", (i) => i.to === "atomic"],
  ["inject", "imports nothing above it", (i) => ["cmd", "engine", "discover", "cache", "engines", "config"].includes(layer(i.to))],
  ["inject", "decides nothing: the core's types only", (i) => i.to === "core" && !i.typeOnly],
  ["inject", "makes every call through Libc", (i) => i.to.startsWith("node:")],
  ["sys", "knows no policy", (i) => ["cmd", "engine", "discover", "inject", "cache", "engines", "config", "core", "cdi"].includes(layer(i.to))],
  ["cache", "is written from the engine only", (i) => ["cmd", "engine", "inject"].includes(layer(i.to))],
  ["engines", "edit plain data", (i) => ["cmd", "engine", "discover", "inject", "sys", "core"].includes(layer(i.to))],
  ["config", "reads config only", (i) => ["cmd", "engine", "discover", "inject", "sys"].includes(layer(i.to)) || (i.to === "core" && !i.typeOnly)],
  ["cdi", "is a format only", (i) => ["cmd", "engine", "discover", "inject", "sys"].includes(layer(i.to)) || (i.to === "core" && !i.typeOnly)],
];

/** The arrows of src/ that break a rule. */
function violations(imports: Import[]): string[] {
  const out: string[] = [];
  for (const i of imports) for (const [l, why, bad] of RULES) if (layer(i.from) === l && bad(i)) out.push(`${i.from} -> ${i.to}: ${l} ${why}`);
  return out;
}

/** Writes through node:fs in discover. */
const WRITES = /\b(writeFileSync|appendFileSync|mkdirSync|renameSync|rmSync|unlinkSync|symlinkSync|writeSync|openSync)\b/;

describe("layers", () => {
  const all = files(SRC);

  test("every arrow of src/ goes where the architecture allows", () => {
    expect(violations(all.flatMap((f) => importsOf(f)))).toEqual([]);
  });

  test("discover calls no writing function", () => {
    expect(all.filter((f) => relative(SRC, f).startsWith("discover/") && WRITES.test(readFileSync(f, "utf8"))).map((f) => relative(SRC, f))).toEqual([]);
  });

  test("the check catches a wrong arrow", () => {
    const bad = importsOf(join(SRC, "inject/apply.ts"), 'import { core } from "../core";\nimport { readFileSync } from "node:fs";\nconst e = await import("../engine/inject");\n');
    expect(violations(bad)).toEqual([
      "inject/apply -> core: inject decides nothing: the core's types only",
      "inject/apply -> node:fs: inject makes every call through Libc",
      "inject/apply -> engine/inject: inject imports nothing above it",
    ]);
  });
});

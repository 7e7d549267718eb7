// src/config/tomledit.ts: the in-place TOML editor runtime configure uses, on its own.
import { describe, expect, test } from "bun:test";
import { addedLines, changes, editToml, scan } from "../../src/config/tomledit";

const parse = (t: string) => Bun.TOML.parse(t) as Record<string, any>;
/** Edits text so that it reads as f(parsed text). */
const editWith = (text: string, f: (t: Record<string, any>) => void) => {
  const have = parse(text);
  const want = structuredClone(have);
  f(want);
  return editToml(text, have, want, "f.toml");
};

describe("scan", () => {
  test("headers, not brackets inside strings, multi-line strings or arrays", () => {
    const text = [
      'a = """',
      "[not.a.header]",
      '"""',
      "b = [",
      "  [1, 2],",
      "]",
      "c = '[x]' # [y]",
      '  [ "q.r" . s ]  # a header',
      "[[t.u]]",
      "d = '''",
      "[no]'''",
    ].join("\n");
    const s = scan(text);
    expect(s.headers.map((h) => [h.line, h.indent, h.path])).toEqual([
      [7, "  ", ["q.r", "s"]],
      [8, "", ["t", "u"]],
    ]);
    expect(s.kinds).toEqual(["kv", "cont", "cont", "kv", "cont", "cont", "kv", "header", "header", "kv", "cont"]);
  });
});

describe("changes", () => {
  test("only the leaves that differ or are new, new tables leaf by leaf", () => {
    expect(changes({ a: 1, t: { x: [1], y: "s" } }, { a: 1, t: { x: [1, 2], y: "s", n: { k: true } }, z: {} })).toEqual([
      { path: ["t", "x"], value: [1, 2] },
      { path: ["t", "n", "k"], value: true },
      { path: ["z"], value: {} },
    ]);
  });

  test("a key taken away is not something it does", () => {
    expect(() => changes({ a: 1, b: 2 }, { a: 1 })).toThrow("removing `b` is not supported");
  });
});

describe("editToml", () => {
  test("no change: the very text", () => {
    const text = "# c\r\na = 1  \r\n";
    expect(editToml(text, parse(text), parse(text), "f")).toBe(text);
  });

  test("a multi-line string holding a line like a header is left alone", () => {
    const text = 'motd = """\n[welcome]\n"""\n\n[t]\nx = 1\n';
    const out = editWith(text, (t) => {
      t.t.y = 2;
      t.top = "v";
    });
    expect(out).toBe('motd = """\n[welcome]\n"""\ntop = "v"\n\n[t]\nx = 1\ny = 2\n');
  });

  test("a top-level key goes after the others, before the first table and the comment above it", () => {
    const text = "# head\nversion = 2 # v\n\n# the tables\n[a]\nb = 1\n";
    expect(editWith(text, (t) => (t.imports = ["/x/*.toml"]))).toBe('# head\nversion = 2 # v\nimports = ["/x/*.toml"]\n\n# the tables\n[a]\nb = 1\n');
  });

  test("a file that starts with a table gets its top-level key above it", () => {
    expect(editWith("[a]\nb = 1\n", (t) => (t.version = 2))).toBe("version = 2\n\n[a]\nb = 1\n");
  });

  test("added keys take their neighbours' indentation, tabs too", () => {
    expect(editWith("[a]\n\tb = 1\n", (t) => (t.a.c = "x"))).toBe('[a]\n\tb = 1\n\tc = "x"\n');
    expect(editWith("[a]\n    b = 1\n\n  [a.s]\n      q = 1\n", (t) => (t.a.s.r = 2))).toBe("[a]\n    b = 1\n\n  [a.s]\n      q = 1\n      r = 2\n");
  });

  test("a value changed in place keeps its comment and its line", () => {
    expect(editWith("[a]\n  b = 'x'   # why\n  c = 1\n", (t) => (t.a.b = "y"))).toBe('[a]\n  b = "y"   # why\n  c = 1\n');
  });

  test("a key in a table with sub-tables only, or implied by them", () => {
    expect(editWith("[a]\n\n[a.b]\nx = 1\n", (t) => (t.a.y = 1))).toBe("[a]\ny = 1\n\n[a.b]\nx = 1\n");
    expect(editWith("# about b\n[a.b]\nx = 1\n", (t) => (t.a.y = 1))).toBe("[a]\ny = 1\n\n# about b\n[a.b]\nx = 1\n");
  });

  test("a new table under existing ones: no empty parent headers", () => {
    expect(editWith("[p.q]\nx = 1\n", (t) => (t.p.r = { s: { k: "v" } }))).toBe('[p.q]\nx = 1\n\n[p.r.s]\nk = "v"\n');
  });

  test("what toml-edit-js refuses is one error naming the file", () => {
    expect(() => editWith("[a]\nb = { c = { d = 1 } }\n", (t) => (t.a.b.n = { m: { o: 1 } }))).toThrow(/^cannot edit `f.toml` in place: /);
  });
});

describe("addedLines", () => {
  test("a longest common subsequence: what b adds", () => {
    expect(addedLines(["a", "b", "c"], ["a", "x", "b", "c", "y"])).toEqual([false, true, false, false, true]);
    expect(addedLines([], ["x"])).toEqual([true]);
    expect(addedLines(["a"], ["a"])).toEqual([false]);
  });
});

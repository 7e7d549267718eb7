// config.toml's fast reader (src/config/tomlfast.ts) against Bun.TOML.parse: where the fast reader
// answers, the answer is Bun's; where Bun refuses a text, the fast reader never accepts it.
import { describe, expect, test } from "bun:test";
import { defaultConfigText } from "../../src/cmd/ctk/config";
import { parseSimpleToml } from "../../src/config/tomlfast";

/** Bun's answer, or the error it gives. */
const bun = (text: string): unknown => {
  try {
    return Bun.TOML.parse(text);
  } catch (e) {
    return { error: String(e) };
  }
};

describe("config.toml's fast reader", () => {
  test("nvct's `config default` (the reference's layout) is read without Bun's parser, as Bun reads it", () => {
    const text = defaultConfigText();
    expect(parseSimpleToml(text)).not.toBeNull();
    expect(parseSimpleToml(text)).toEqual(Bun.TOML.parse(text) as any);
  });

  test.each([
    ["empty", "", {}],
    ["comments and blank lines, CRLF", "# a\r\n\r\n  # b\r\n", {}],
    ["keys of the root, then tables", 'a = "x"\nb = true\n[t]\nc = 3\n[t.u]\nd = ["p", "q",]\n', { a: "x", b: true, t: { c: 3, u: { d: ["p", "q"] } } }],
    ["a super-table given after its sub-table", "[a.b]\nx = 1\n[a]\ny = 2\n", { a: { b: { x: 1 }, y: 2 } }],
    ["escapes and a # inside strings; literal strings as they are", 'a = "q\\"\\\\\\t#"  # c\nb = \'C:\\\\x #\'\n', { a: 'q"\\\t#', b: "C:\\\\x #" }],
    ["quoted keys and spaced headers", '"k y" = 1\n[ "t a" . b ]\nz = -2\n', { "k y": 1, "t a": { b: { z: -2 } } }],
  ])("%s", (_d, text, want) => {
    expect(parseSimpleToml(text)).toEqual(want as any);
    expect(bun(text)).toEqual(want as any);
  });

  test.each([
    ["a dotted key", "a.b = 1\n"],
    ["an array of tables", "[[a]]\nb = 1\n"],
    ["an inline table", "a = { b = 1 }\n"],
    ["a float", "a = 1.5\n"],
    ["an integer with underscores", "a = 1_000\n"],
    ["a hexadecimal integer", "a = 0x10\n"],
    ["an integer past 2^53", "a = 9007199254740993\n"],
    ["-0", "a = -0\n"],
    ["a date", "a = 1979-05-27\n"],
    ["a multi-line string", 'a = """x"""\n'],
    ["a multi-line array", "a = [\n 1,\n]\n"],
    ["a \\u escape", 'a = "\\u00e9"\n'],
    ["a duplicate key (Bun's error)", "a = 1\na = 2\n"],
    ["a table given twice (Bun's error)", "[a]\n[a]\n"],
    ["a key that is also a table (Bun's error)", "a = 1\n[a]\n"],
    ["__proto__", "__proto__ = 1\n"],
    ["a control character in a comment", "# \x01\n"],
    ["a byte-order mark", "\ufeffa = 1\n"],
    ["garbage", "a = \n"],
    ["a carriage return with no newline after it", "a = 1\r"],
    ["a lone carriage return", "\r"],
  ])("left to Bun: %s", (_d, text) => {
    expect(parseSimpleToml(text)).toBeNull();
  });

  // Seeded random texts from pieces inside and outside the subset: every accepted text is one Bun
  // reads the same, and none Bun refuses is accepted.
  test("random texts: never an answer Bun's parser would not give", () => {
    // Mostly pieces inside the subset, so that whole texts of them (and their clashes: a key
    // given twice, a table twice, a key that is a table) come up often.
    const keys = ["a", "b", "log-level", '"q k"', "c_d", "1"];
    const oddKeys = ["__proto__", "a.b", "é"];
    const values = ['"s"', "'l'", "true", "false", "0", "-7", "+3", "[]", '["x", "y"]', "[1, 2,]", "[ true , 'z' ]", '"\\n\\t"'];
    const oddValues = ["07", "1.0", '"\\u0041"', "{}", "[[]]", '"unterminated', "nan", "1e3", "-0"];
    const headers = ["[t]", "[t.u]", "[ t . v ]", '["h h"]', "[[t]]", "[t", "[]", "[t] # c", "[t.u.w]"];
    let seed = 42;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return (seed >>> 8) % n;
    };
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const lines: string[] = [];
      for (let j = 0, n = 1 + rnd(8); j < n; j++) {
        const r = rnd(10);
        if (r < 2) lines.push(headers[rnd(headers.length)]);
        else if (r < 3) lines.push(rnd(2) ? "# comment" : "");
        else {
          const k = rnd(20) ? keys[rnd(keys.length)] : oddKeys[rnd(oddKeys.length)];
          const v = rnd(20) ? values[rnd(values.length)] : oddValues[rnd(oddValues.length)];
          lines.push(`${k}${rnd(2) ? " = " : "="}${v}${rnd(4) ? "" : " # c"}`);
        }
      }
      const text = lines.join(rnd(5) ? "\n" : "\r\n") + "\n";
      const fast = parseSimpleToml(text);
      if (fast === null) {
        if ("error" in (bun(text) as object)) refused++;
        continue;
      }
      accepted++;
      expect({ text, got: fast }).toEqual({ text, got: bun(text) as any });
    }
    // The test is only as good as the share of texts the fast reader takes.
    expect(accepted).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
  });
});

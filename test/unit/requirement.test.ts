import { describe, expect, test } from "bun:test";
import { checkRequirement, parseRequirement } from "../../src/core";

const H100 = { cuda: "12.4", driver: "550.54.14", arch: "9.0", brand: "tesla" };

describe("requirement language: parse", () => {
  const good: [string, string, unknown][] = [
    ["one term", "cuda>=12.4", [[{ name: "cuda", op: ">=", value: "12.4" }]]],
    ["space is OR, comma is AND", "cuda>=12.4 brand=tesla,driver>=470", [
      [{ name: "cuda", op: ">=", value: "12.4" }],
      [{ name: "brand", op: "=", value: "tesla" }, { name: "driver", op: ">=", value: "470" }],
    ]],
    ["every operator", "arch=8.0,arch!=7.0,arch<9,arch<=9,arch>7,arch>=7", [[
      { name: "arch", op: "=", value: "8.0" }, { name: "arch", op: "!=", value: "7.0" }, { name: "arch", op: "<", value: "9" },
      { name: "arch", op: "<=", value: "9" }, { name: "arch", op: ">", value: "7" }, { name: "arch", op: ">=", value: "7" },
    ]]],
    ["extra spaces between alternatives", "  cuda>=11   cuda>=12 ", [[{ name: "cuda", op: ">=", value: "11" }], [{ name: "cuda", op: ">=", value: "12" }]]],
    ["brand is lower-cased", "brand=Tesla", [[{ name: "brand", op: "=", value: "tesla" }]]],
  ];
  test.each(good)("%s: %s", (_d, expr, want) => expect(parseRequirement(expr)).toEqual(want as any));

  const bad: [string, string, string][] = [
    ["empty", "", "empty expression"],
    ["unknown name", "gpu>=1", "unknown name"],
    ["missing operator", "cuda12.4", "missing operator"],
    ["missing value", "cuda>=", "value must be a version"],
    ["letters in a version", "cuda>=12.4a", "value must be a version"],
    ["empty version component", "driver>=470..1", "value must be a version"],
    ["ordered brand", "brand>tesla", "brand takes only = or !="],
    ["empty term between commas", "cuda>=12,,driver>=1", "empty term"],
    ["operator typo", "cuda=>12", "value must be a version"],
    ["brand with a symbol", "brand=te$la", "brand must be a word"],
  ];
  test.each(bad)("rejects %s: %p", (_d, expr, why) => {
    let err: any;
    try {
      parseRequirement(expr);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe("bad-requirement");
    expect(err.message).toContain(why);
    expect(err.message).toContain(`\`${expr.trim()}\``);
  });
});

describe("requirement language: evaluate", () => {
  const cases: [string, string, Record<string, string>, boolean][] = [
    ["cuda holds", "cuda>=12.4", H100, true],
    ["cuda too new", "cuda>=13.0", H100, false],
    ["numeric, not string, order: 12.10 > 12.4", "cuda>=12.10", { ...H100, cuda: "12.4" }, false],
    ["numeric order the other way", "cuda>=12.4", { ...H100, cuda: "12.10" }, true],
    ["driver with three components", "driver>=550.54.3", H100, true],
    ["missing components are zero", "cuda=12.4.0", H100, true],
    ["leading zeros", "driver>=0550", H100, true],
    ["OR: second alternative holds", "cuda>=13.0 brand=tesla,driver>=550", H100, true],
    ["AND: one term fails", "brand=tesla,driver<500", H100, false],
    ["brand is case-insensitive", "brand=TESLA", { ...H100, brand: "Tesla" }, true],
    ["brand !=", "brand!=geforce", H100, true],
    ["arch <", "arch<9.0", H100, false],
    ["arch >", "arch>8.9", H100, true],
    ["!= on versions", "driver!=550.54.14", H100, false],
    ["long components do not overflow", "driver>=99999999999999999999", H100, false],
  ];
  test.each(cases)("%s: %s", (_d, expr, facts, ok) => {
    const run = () => checkRequirement(expr, facts as any);
    if (ok) expect(run).not.toThrow();
    else expect(run).toThrow(`unsatisfied condition: ${expr}`);
  });

  test("a malformed fact is an error, not a pass", () => {
    expect(() => checkRequirement("cuda>=12", { ...H100, cuda: "twelve" })).toThrow("invalid fact `cuda=twelve`");
  });
});

// The requirement language, as the plan checks it on each selected GPU.
import { describe, expect, test } from "bun:test";
import { core } from "../../src/core";
import { facts, failure, gpu, planInput } from "./fixture";

const H100 = { cuda: "12.4", driver: "550.54.14", arch: "9.0", brand: "Tesla" };

/** Plans one GPU with these facts under the requirement. */
function check(expr: string, f: Partial<typeof H100> = {}) {
  const x = { ...H100, ...f };
  const d = facts([gpu(0, { arch: x.arch, brand: x.brand })]);
  d.inventory.cuda = x.cuda;
  d.inventory.driver = x.driver;
  return core().plan(planInput({ devices: ["0"], requires: [expr] }, d));
}

describe("requirement language", () => {
  const cases: [string, string, Partial<typeof H100>, boolean][] = [
    ["cuda holds", "cuda>=12.4", {}, true],
    ["cuda too new", "cuda>=13.0", {}, false],
    ["numeric, not string, order: 12.10 > 12.4", "cuda>=12.10", { cuda: "12.4" }, false],
    ["numeric order the other way", "cuda>=12.4", { cuda: "12.10" }, true],
    ["driver with three components", "driver>=550.54.3", {}, true],
    ["missing components are zero", "cuda=12.4.0", {}, true],
    ["leading zeros", "driver>=0550", {}, true],
    ["space is OR: the second alternative holds", "cuda>=13.0 brand=tesla,driver>=550", {}, true],
    ["comma is AND: one term fails", "brand=tesla,driver<500", {}, false],
    ["every operator", "arch=9.0,arch!=7.0,arch<10,arch<=9,arch>7,arch>=7", {}, true],
    ["extra spaces between alternatives", "  cuda>=13   cuda>=12 ", {}, true],
    ["brand is case-insensitive", "brand=TESLA", { brand: "Tesla" }, true],
    ["brand !=", "brand!=geforce", {}, true],
    ["arch <", "arch<9.0", {}, false],
    ["arch >", "arch>8.9", {}, true],
    ["!= on versions", "driver!=550.54.14", {}, false],
    ["long components do not overflow", "driver>=99999999999999999999", {}, false],
    ["a fact that is not a version fails the term, never passes it", "cuda>=12", { cuda: "twelve" }, false],
  ];
  test.each(cases)("%s: %s", (_d, expr, f, ok) => {
    const err = failure(() => check(expr, f));
    if (ok) expect(err).toBeNull();
    else expect(err?.code).toBe("unsatisfied");
  });

  test("an unsatisfied cuda condition carries the reference's advice; others name the expression", () => {
    expect(failure(() => check("cuda>=13.0"))).toEqual({ code: "unsatisfied", message: "unsatisfied condition: cuda>=13.0, please update your driver to a newer version, or use an earlier cuda container" });
    expect(failure(() => check("arch<9.0"))).toEqual({ code: "unsatisfied", message: "unsatisfied condition: arch<9.0" });
  });

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
    const err = failure(() => check(expr));
    expect(err?.code).toBe("bad-requirement");
    expect(err!.message).toContain(why);
    expect(err!.message).toContain(`\`${expr}\``);
  });

  test("checked on every selected GPU; a MIG device checks its parent", () => {
    const d = facts([gpu(0, { arch: "8.0", migEnabled: true, migs: [{ index: 0, gi: 1, ci: 0, uuid: "MIG-x" }] }), gpu(1, { arch: "7.5" })]);
    expect(failure(() => core().plan(planInput({ devices: ["0:0"], requires: ["arch>=8.0"] }, d)))).toBeNull();
    expect(failure(() => core().plan(planInput({ devices: ["0", "1"], requires: ["arch>=8.0"] }, d)))?.code).toBe("unsatisfied");
  });
});

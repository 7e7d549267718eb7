import { describe, expect, test } from "bun:test";
import { driverCapabilities } from "../../src/core";

describe("driver capabilities", () => {
  const cases: [string, string, string | undefined, string[]][] = [
    ["empty means the default", "", undefined, ["compute", "utility"]],
    ["one", "utility", undefined, ["utility"]],
    ["trimmed (the reference panics here)", "compute, utility", undefined, ["compute", "utility"]],
    ["reported in a fixed order", "video,compute,graphics", undefined, ["compute", "graphics", "video"]],
    ["duplicates dropped", "video,video", undefined, ["video"]],
    ["all is every supported one", "all", undefined, ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"]],
    ["all limited by supported-driver-capabilities", "all", "utility,compute", ["compute", "utility"]],
    ["all plus another", "all,utility", "utility", ["utility"]],
    ["empty items ignored", ",utility,", undefined, ["utility"]],
  ];
  test.each(cases)("%s: %p", (_d, list, supported, want) => expect(driverCapabilities(list, supported)).toEqual(want));

  const bad: [string, string, string | undefined, string][] = [
    ["unknown value", "compute,gpu", undefined, "unknown driver capability `gpu`"],
    ["case matters", "Compute", undefined, "unknown driver capability `Compute`"],
    ["not supported by config", "video", "utility,compute", "unsupported driver capability `video`"],
    ["bad supported list", "utility", "utility,warp", "unknown supported capability `warp`"],
  ];
  test.each(bad)("rejects %s", (_d, list, supported, msg) => {
    expect(() => driverCapabilities(list, supported)).toThrow(msg);
  });
});

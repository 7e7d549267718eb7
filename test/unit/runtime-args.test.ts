import { describe, expect, test } from "bun:test";
import { parseRuntimeArgs } from "../../src/cmd/runtime";
import { addLegacyHook } from "../../src/engine/runtime";

describe("runtime argv: the command, the bundle, runc's log options", () => {
  const cases: [string, string[], object][] = [
    ["create with --bundle", ["--root", "/r", "create", "--bundle", "/b", "id"], { command: "create", bundle: "/b" }],
    ["create with -b=", ["create", "-b", "/b", "id"], { command: "create", bundle: "/b" }],
    ["--bundle=", ["create", "--bundle=/b", "id"], { command: "create", bundle: "/b" }],
    ["a bundle named create is not the command", ["start", "--bundle", "create", "id"], { command: "start", bundle: "create" }],
    ["no bundle: the working directory", ["create", "id"], { command: "create", bundle: "/cwd" }],
    ["runc's global options before the command", ["--root", "/run/x", "--log", "/l", "--log-format", "json", "--systemd-cgroup", "create", "id"], { command: "create", log: "/l", logFormat: "json" }],
    ["--debug", ["--debug", "create", "id"], { command: "create", debug: true }],
    ["--version anywhere", ["--version"], { version: true }],
    ["--log= spelling", ["--log=/l", "state", "id"], { command: "state", log: "/l", logFormat: "text" }],
    ["Go's single-dash spellings", ["-root", "/r", "create", "-bundle", "/b", "id"], { command: "create", bundle: "/b" }],
    ["-b=", ["create", "-b=/b", "id"], { command: "create", bundle: "/b" }],
    ["crun's options with values", ["--cgroup-manager", "systemd", "--log-level", "debug", "create", "--bundle", "/b", "id"], { command: "create", bundle: "/b" }],
  ];
  test.each(cases)("%s", (_d, argv, want) => expect(parseRuntimeArgs(argv, "/cwd")).toMatchObject(want));

  test("no command", () => expect(parseRuntimeArgs(["--version"], "/cwd").command).toBeUndefined());

  test("--bundle without a value is an error", () => {
    expect(() => parseRuntimeArgs(["create", "--bundle"], "/")).toThrow("--bundle needs a value");
  });
});

describe("legacy hook", () => {
  test("the hook is added once, whichever of its names is there", () => {
    const spec: any = { hooks: { prestart: [{ path: "/other" }] } };
    expect(addLegacyHook(spec, "/usr/bin/nvidia-container-runtime-hook")).toBe(true);
    expect(addLegacyHook(spec, "/opt/nvidia-container-runtime-hook")).toBe(false);
    expect(spec.hooks.prestart).toEqual([{ path: "/other" }, { path: "/usr/bin/nvidia-container-runtime-hook", args: ["nvidia-container-runtime-hook", "prestart"] }]);
    const other: any = { hooks: { prestart: [{ path: "/usr/bin/nvidia-container-toolkit" }] } };
    expect(addLegacyHook(other, "/usr/bin/nvidia-container-runtime-hook")).toBe(false);
  });
});

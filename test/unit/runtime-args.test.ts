import { describe, expect, test } from "bun:test";
import { addLegacyHook, parseRuntimeArgs, requestedDevices } from "../../src/cmd/runtime";
import { defaults } from "../../src/config/config";

describe("runtime argv: the command, the bundle, runc's log options", () => {
  const cases: [string, string[], object][] = [
    ["create with --bundle", ["--root", "/r", "create", "--bundle", "/b", "id"], { command: "create", bundle: "/b" }],
    ["create with -b=", ["create", "-b", "/b", "id"], { command: "create", bundle: "/b" }],
    ["--bundle=", ["create", "--bundle=/b", "id"], { command: "create", bundle: "/b" }],
    ["a bundle named create is not the command", ["start", "--bundle", "create", "id"], { command: "start", bundle: "create" }],
    ["no bundle: the working directory", ["create", "id"], { command: "create", bundle: "/cwd" }],
    ["runc's global options before the command", ["--root", "/run/x", "--log", "/l", "--log-format", "json", "--systemd-cgroup", "create", "id"], { command: "create", log: "/l", logFormat: "json" }],
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

describe("legacy hook and requested devices", () => {
  test("the hook is added once", () => {
    const spec: any = { hooks: { prestart: [{ path: "/other" }] } };
    expect(addLegacyHook(spec, "/usr/bin/nvidia-container-runtime-hook")).toBe(true);
    expect(addLegacyHook(spec, "/opt/nvidia-container-runtime-hook")).toBe(false);
    expect(spec.hooks.prestart.map((h: any) => h.path)).toEqual(["/other", "/usr/bin/nvidia-container-runtime-hook"]);
  });

  const cfg = defaults();
  const cases: [string, object, string[], string][] = [
    ["annotations first", { annotations: { "cdi.k8s.io/a": "nvidia.com/gpu=0, nvidia.com/gpu=1" }, process: { env: ["NVIDIA_VISIBLE_DEVICES=all"] } }, ["nvidia.com/gpu=0", "nvidia.com/gpu=1"], "annotations"],
    ["other annotations ignored", { annotations: { "other/a": "x=y" }, process: { env: ["NVIDIA_VISIBLE_DEVICES=0,1"] } }, ["0", "1"], "NVIDIA_VISIBLE_DEVICES"],
    ["void", { process: { env: ["NVIDIA_VISIBLE_DEVICES=void"] } }, [], "NVIDIA_VISIBLE_DEVICES"],
    ["the last of repeated variables", { process: { env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_VISIBLE_DEVICES=2"] } }, ["2"], "NVIDIA_VISIBLE_DEVICES"],
  ];
  test.each(cases)("%s", (_d, spec, names, from) => expect(requestedDevices(spec as any, cfg)).toEqual({ names, from }));
});

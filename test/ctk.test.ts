// nvidia-ctk cdi generate / list and nvidia-cdi-hook's arguments, on the fake driver.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanCompiledLibraries, MIG_ON_ONE } from "./fake/driver";
import { BIN, fakeDriver, inFakeHost } from "./helpers";
import { validate } from "./schema";

const CTK = join(BIN, "nvidia-ctk");
let fake: ReturnType<typeof fakeDriver>;
let work: string;
beforeAll(() => {
  fake = fakeDriver(MIG_ON_ONE, "ctk");
  work = mkdtempSync(join(tmpdir(), "nvct-ctk-"));
}, 180_000);
afterAll(() => {
  fake.remove();
  rmSync(work, { recursive: true, force: true });
  cleanCompiledLibraries();
});

function generate(args: string[], driverRoot = false) {
  const r = inFakeHost(fake.dir, [CTK, "cdi", "generate", ...args], { driverRoot });
  return { ...r, spec: r.status === 0 && args.includes("json") ? JSON.parse(r.stdout) : null };
}

describe("nvidia-ctk cdi generate", () => {
  test("a device per GPU, per MIG device, and all; valid against the CDI schema; minimum version", () => {
    const r = generate(["--format", "json"]);
    expect(r.stderr).toBe("");
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
    expect(r.spec.cdiVersion).toBe("0.5.0");
    expect(r.spec.kind).toBe("nvidia.com/gpu");
    expect(r.spec.devices.map((d: any) => d.name)).toEqual(["0", "0:0", "0:1", "1", "all"]);
    expect(r.spec.devices[2].containerEdits.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap21", "/dev/nvidia-caps/nvidia-cap22"]);
    const common = r.spec.containerEdits;
    expect(common.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]);
    expect(common.mounts).toContainEqual({ hostPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", containerPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", options: ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
    expect(common.hooks.map((h: any) => h.args.slice(0, 2))).toEqual([["nvidia-cdi-hook", "create-symlinks"], ["nvidia-cdi-hook", "update-ldcache"]]);
    expect(common.hooks[0].args).toContain("libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so");
    for (const h of common.hooks) expect(h.env).toEqual(["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]);
  });

  test("uuid and type-index names; vendor and class", () => {
    const u = generate(["--format", "json", "--device-name-strategy", "uuid", "--vendor", "example.com", "--class", "accel"]);
    expect(u.spec.kind).toBe("example.com/accel");
    expect(u.spec.devices.map((d: any) => d.name)).toEqual([MIG_ON_ONE.gpus[0].uuid, ...MIG_ON_ONE.gpus[0].migs!.map((m) => m.uuid), MIG_ON_ONE.gpus[1].uuid, "all"]);
    expect(u.spec.cdiVersion).toBe("0.3.0");
    const t = generate(["--format", "json", "--device-name-strategy", "type-index"]);
    expect(t.spec.devices.map((d: any) => d.name)).toEqual(["gpu0", "mig0:0", "mig0:1", "gpu1", "all"]);
  });

  test("a driver root: host paths under it, container paths without it", () => {
    const r = generate(["--format", "json", "--driver-root", "/run/nvidia/driver"], true);
    expect(r.stderr).toBe("");
    expect(r.spec.containerEdits.mounts).toContainEqual({ hostPath: "/run/nvidia/driver/usr/bin/nvidia-smi", containerPath: "/usr/bin/nvidia-smi", options: ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
  });

  test("--output: YAML written atomically, readable by cdi list", () => {
    const out = join(work, "cdi", "nvidia.yaml");
    const r = generate(["--output", out]);
    expect(r.status).toBe(0);
    expect(readdirSync(join(work, "cdi"))).toEqual(["nvidia.yaml"]);
    const spec = Bun.YAML.parse(readFileSync(out, "utf8"));
    expect(validate(spec, "cdi/schema.json")).toEqual([]);
    const l = inFakeHost(fake.dir, [CTK, "cdi", "list", "--spec-dir", join(work, "cdi")]);
    expect(l.stdout).toBe(["0", "0:0", "0:1", "1", "all"].map((n) => `nvidia.com/gpu=${n}\n`).join(""));
  });

  const bad: [string, string[], string][] = [
    ["format", ["--format", "toml"], "invalid --format `toml`"],
    ["strategy", ["--device-name-strategy", "serial"], "invalid --device-name-strategy `serial`"],
    ["mode", ["--mode", "wsl"], "unsupported --mode `wsl`"],
    ["vendor", ["--vendor", "Nvidia"], "invalid --vendor `Nvidia`"],
    ["relative driver root", ["--driver-root", "driver"], "invalid --driver-root `driver`"],
    ["missing driver root", ["--driver-root", "/nonexistent"], "failed to generate the CDI spec"],
    ["unknown flag", ["--bogus"], "unrecognized option '--bogus'"],
  ];
  test.each(bad)("rejects a bad %s, naming it", (_d, args, msg) => {
    const out = join(work, "bad", "x.yaml");
    const r = generate([...args, "--output", out]);
    expect(r.stderr).toContain(msg);
    expect(r.status).not.toBe(0);
    expect(existsSync(join(work, "bad")) && readdirSync(join(work, "bad")).length > 0).toBe(false);
  });
});

describe("nvidia-ctk system", () => {
  test("create-device-nodes --control-devices, then create-dev-char-symlinks, under a dev root", () => {
    const root = join(work, "devroot");
    require("node:fs").mkdirSync(join(root, "dev"), { recursive: true });
    const r = inFakeHost(fake.dir, ["sh", "-c", `${CTK} system create-device-nodes --control-devices --dev-root ${root} && ${CTK} system create-dev-char-symlinks --dev-root ${root} && stat -c '%n %t:%T' ${root}/dev/nvidia* && ls -l ${root}/dev/char | awk 'NR>1 {print $9, $11}'`]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").filter(Boolean).map((l) => l.replace(root, "R"))).toEqual([
      "R/dev/nvidia-modeset c3:fe", "R/dev/nvidia-uvm 1fe:0", "R/dev/nvidia-uvm-tools 1fe:1", "R/dev/nvidiactl c3:ff",
      "195:254 ../nvidia-modeset", "195:255 ../nvidiactl", "510:0 ../nvidia-uvm", "510:1 ../nvidia-uvm-tools",
    ]);
  });

  test("create-device-nodes without --control-devices says what is missing", () => {
    const r = inFakeHost(fake.dir, [CTK, "system", "create-device-nodes"]);
    expect(r.stderr).toContain("use --control-devices");
    expect(r.status).toBe(2);
  });
});

describe("nvidia-cdi-hook arguments", () => {
  const bad: [string, string[], string][] = [
    ["unknown hook", ["frob"], "unknown hook `frob`"],
    ["link without ::", ["create-symlinks", "--link", "libcuda.so.1"], "invalid --link `libcuda.so.1`"],
    ["relative link", ["create-symlinks", "--link", "a::b"], "invalid --link `a::b`"],
    ["relative folder", ["update-ldcache", "--folder", "lib"], "invalid --folder `lib`"],
    ["bad mode", ["chmod", "--mode", "rwx", "--path", "/dev/x"], "invalid --mode `rwx`"],
    ["no path", ["chmod", "--mode", "755"], "chmod: missing --path"],
  ];
  test.each(bad)("%s", (_d, args, msg) => {
    const r = inFakeHost(fake.dir, [join(BIN, "nvidia-cdi-hook"), ...args]);
    expect(r.stderr).toContain(msg);
    expect(r.status).toBe(2);
  });

  test("--help on every tool", () => {
    for (const argv of [[CTK, "--help"], [CTK, "cdi", "generate", "--help"], [join(BIN, "nvidia-cdi-hook"), "--help"], [join(BIN, "nvidia-cdi-hook"), "chmod", "--help"], [join(BIN, "nvidia-container-runtime-hook"), "--help"]]) {
      const r = inFakeHost(fake.dir, argv);
      expect(r.status).toBe(0);
      expect(r.stdout).toContain("USAGE");
    }
  });
});

describe("nvidia-cdi-hook in a hostile root", () => {
  test("links and the ld cache land inside the root whatever its symlinks say; an image's file is kept", () => {
    const { mkdirSync, symlinkSync, writeFileSync, readlinkSync, readdirSync: ls, lstatSync } = require("node:fs");
    const bundle = join(work, "hook-bundle");
    const rootfs = join(bundle, "rootfs");
    const victim = join(work, "hook-victim");
    mkdirSync(join(rootfs, "usr"), { recursive: true });
    mkdirSync(victim, { recursive: true });
    symlinkSync(victim, join(rootfs, "usr/lib")); // absolute: must mean <rootfs>/<victim>
    symlinkSync(victim, join(rootfs, "etc"));
    symlinkSync("/nowhere", join(rootfs, "usr/share"));
    mkdirSync(join(rootfs, victim), { recursive: true });
    writeFileSync(join(bundle, "config.json"), JSON.stringify({ root: { path: "rootfs" } }));
    const state = JSON.stringify({ pid: process.pid, bundle });
    const run = (...args: string[]) => require("node:child_process").spawnSync(join(BIN, "nvidia-cdi-hook"), args, { input: state, encoding: "utf8" });
    const a = run("create-symlinks", "--link", "libcuda.so.550::/usr/lib/libcuda.so.1");
    expect(a.stderr).toBe("");
    const b = run("update-ldcache", "--folder", "/usr/lib");
    expect(b.stderr).toBe("");
    expect(ls(victim)).toEqual([]);
    const inside = join(rootfs, victim);
    expect(readlinkSync(join(inside, "libcuda.so.1"))).toBe("libcuda.so.550");
    expect(lstatSync(join(inside, "ld.so.cache")).isFile()).toBe(true);
    const c = run("create-symlinks", "--link", "x::/usr/share/x/y");
    expect(c.stderr).toBe("nvidia-cdi-hook: mount error: `/usr/share` is a symlink that leads nowhere inside the container\n");
    expect(c.status).toBe(1);
  });
});

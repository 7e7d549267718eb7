// nvidia-container-cli info and list on fake drivers, against golden files (test/golden/), with
// and without a driver root; and every flag's bad values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cleanCompiledLibraries, FOUR_H100, MIG_ON_ONE, THREE_MIXED, type Scenario } from "./fake/driver";
import { BIN, fakeDriver, inFakeHost } from "./helpers";

const CLI = join(BIN, "nvidia-container-cli");
const GOLDEN = join(import.meta.dir, "golden");
const SCENARIOS: Record<string, Scenario> = { "four-h100": FOUR_H100, "three-mixed": THREE_MIXED, "mig-on-one": MIG_ON_ONE };
const fakes: Record<string, ReturnType<typeof fakeDriver>> = {};

beforeAll(() => {
  for (const [name, s] of Object.entries(SCENARIOS)) fakes[name] = fakeDriver(s, name);
}, 180_000);
afterAll(() => {
  for (const f of Object.values(fakes)) f.remove();
  cleanCompiledLibraries();
});

/** Compares with test/golden/<name>; UPDATE_GOLDEN=1 rewrites the file instead. */
function golden(name: string, got: string) {
  const file = join(GOLDEN, name);
  if (process.env.UPDATE_GOLDEN === "1" || !existsSync(file)) {
    if (process.env.CI) throw new Error(`golden file ${name} is missing`);
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(file, got);
  }
  expect(got).toBe(readFileSync(file, "utf8"));
}

const COMMANDS: [string, string[]][] = [
  ["info", ["info"]],
  ["info-csv", ["info", "--csv"]],
  ["list", ["list"]],
  ["list-d", ["list", "-d"]],
  ["list-l-compat32", ["list", "-l", "--compat32"]],
  ["list-b-i-f", ["list", "-b", "-i", "-f"]],
];

describe("info and list, golden", () => {
  for (const scenario of Object.keys(SCENARIOS)) {
    for (const [label, argv] of COMMANDS) {
      test(`${scenario}: ${argv.join(" ")}`, () => {
        const r = inFakeHost(fakes[scenario].dir, [CLI, ...argv]);
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        golden(`${scenario}.${label}.txt`, r.stdout);
      });
      test(`${scenario}: --root /run/nvidia/driver ${argv.join(" ")}`, () => {
        const r = inFakeHost(fakes[scenario].dir, [CLI, "--root=/run/nvidia/driver", ...argv], { driverRoot: true });
        expect(r.stderr).toBe("");
        expect(r.status).toBe(0);
        golden(`${scenario}.root.${label}.txt`, r.stdout);
      });
    }
  }

  test("list -d selects devices: a GPU by index, one by bus id, a MIG device", () => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, "list", "--device=2,0000:3b:00.0"]);
    expect(r.stdout).toBe("/dev/nvidiactl\n/dev/nvidia-uvm\n/dev/nvidia-uvm-tools\n/dev/nvidia-modeset\n/dev/nvidia1\n/dev/nvidia3\n");
    const m = inFakeHost(fakes["mig-on-one"].dir, [CLI, "list", "-d", "0:1"]);
    expect(m.stdout.split("\n").slice(4)).toEqual([
      "/dev/nvidia0",
      "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/access",
      "/proc/driver/nvidia/capabilities/gpu0/mig/gi2/ci0/access",
      "/dev/nvidia-caps/nvidia-cap21",
      "/dev/nvidia-caps/nvidia-cap22",
      "",
    ]);
  });

  test("the same paths exist on the host they name", () => {
    const r = inFakeHost(fakes["mig-on-one"].dir, ["sh", "-c", `${CLI} list | xargs ls -d >/dev/null && echo all-exist`]);
    expect(r.stdout).toBe("all-exist\n");
  });
});

describe("errors", () => {
  const cases: [string, string[], number, string][] = [
    ["unknown option", ["--bogus", "info"], 64, "nvidia-container-cli: unrecognized option '--bogus'"],
    ["unknown short option", ["-z", "info"], 64, "nvidia-container-cli: invalid option -- 'z'"],
    ["unknown command", ["frobnicate"], 64, "nvidia-container-cli: unknown command `frobnicate`"],
    ["no command", [], 64, "USAGE nvidia-container-cli [OPTIONS] info|list"],
    ["relative root", ["--root=driver", "info"], 64, "invalid root `driver`: must be an absolute path"],
    ["missing root", ["--root", "/nonexistent/driver", "info"], 64, "invalid root `/nonexistent/driver`: no such directory"],
    ["root is a file", ["-r", "/etc/hostname", "info"], 64, "invalid root `/etc/hostname`: not a directory"],
    ["bad user", ["--user=root", "info"], 64, "invalid user `root`: want UID[:GID]"],
    ["missing ldcache", ["--ldcache=/nonexistent/ld.so.cache", "info"], 1, "failed to open `/nonexistent/ld.so.cache`: ENOENT"],
    ["ldcache that is not one", ["-l", "/etc/hostname", "info"], 1, "`/etc/hostname`: invalid ld.so.cache"],
    ["root option without value", ["info", "--root"], 64, "nvidia-container-cli: unrecognized option '--root'"],
    ["info option to list", ["list", "--csv"], 64, "unrecognized option '--csv'"],
    ["extra operand", ["info", "extra"], 64, "unexpected argument `extra`"],
    ["unknown device", ["list", "-d", "7"], 1, "nvidia-container-cli: device error: unknown device `7`"],
    ["malformed device", ["list", "--device=GPU-"], 1, "nvidia-container-cli: device error: invalid device id `GPU-`"],
    ["mig-config other than all", ["list", "--mig-config=0"], 64, "invalid --mig-config `0`: only `all` is supported"],
  ];
  test.each(cases)("%s", (_d, argv, status, msg) => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, ...argv]);
    expect(r.stdout + r.stderr).toContain(msg);
    expect(r.status).toBe(status);
  });

  test("no driver: initialization error naming libnvidia-ml", () => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, "info"], { driverRoot: true });
    expect(r.stderr).toBe(
      "nvidia-container-cli: initialization error: load library failed: libnvidia-ml.so.1: cannot open shared object file: no such file or directory\n",
    );
    expect(r.status).toBe(1);
  });

  test("NVML init failing: initialization error with NVML's message", () => {
    const f = fakeDriver({ ...FOUR_H100, fail: { nvmlInit_v2: 9 } }, "nvml-fails");
    try {
      const r = inFakeHost(f.dir, [CLI, "info"]);
      expect(r.stderr).toBe("nvidia-container-cli: initialization error: nvml error: nvmlInit_v2: Driver Not Loaded\n");
      expect(r.status).toBe(1);
    } finally {
      f.remove();
    }
  });

  test("NVML failing mid-way (a GPU lost): error, no partial output", () => {
    const f = fakeDriver({ ...FOUR_H100, fail: { nvmlDeviceGetUUID: 15 } }, "nvml-lost");
    try {
      const r = inFakeHost(f.dir, [CLI, "info"]);
      expect(r.stdout).toBe("");
      expect(r.stderr).toBe("nvidia-container-cli: initialization error: nvml error: nvmlDeviceGetUUID: GPU is lost\n");
      expect(r.status).toBe(1);
    } finally {
      f.remove();
    }
  });

  test("--debug writes a log file; --help and --version print", () => {
    const r = inFakeHost(fakes["four-h100"].dir, ["sh", "-c", `${CLI} --debug=/tmp/nvct-debug.$$ info >/dev/null && cat /tmp/nvct-debug.$$ && rm /tmp/nvct-debug.$$`]);
    expect(r.stdout).toContain("nvidia-container-cli DEBUG command");
    const h = inFakeHost(fakes["four-h100"].dir, [CLI, "list", "--help"]);
    expect(h.stdout).toContain("--compat32");
    expect(h.status).toBe(0);
    const v = inFakeHost(fakes["four-h100"].dir, [CLI, "--version"]);
    expect(v.stdout).toMatch(/^nvct version \d+\.\d+\.\d+\ncommit: \S+\n$/);
  });
});

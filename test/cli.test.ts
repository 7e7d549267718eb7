// nvidia-container-cli info and list on fake drivers, against golden files (test/golden/), with
// and without a driver root; and every flag's bad values.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cleanCompiledLibraries, FOUR_H100, MIG_ON_ONE, migMinor, THREE_MIXED, type Scenario } from "./fake/driver";
import { expectGolden } from "./golden-file";
import { BIN, fakeDriver, inFakeHost } from "./setup";

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

/** Compares with test/golden/<name> (test/golden-file.ts). */
const golden = (name: string, got: string) => expectGolden(join(GOLDEN, name), got, name);

const COMMANDS: [string, string[]][] = [
  ["info", ["info"]],
  ["info-csv", ["info", "--csv"]],
  ["list", ["list"]],
  ["list-d-all", ["list", "-d", "all"]],
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
    // In the order given, as the reference lists them.
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, "list", "--device=2,0000:3b:00.0"]);
    expect(r.stdout).toBe("/dev/nvidiactl\n/dev/nvidia-uvm\n/dev/nvidia-uvm-tools\n/dev/nvidia-modeset\n/dev/nvidia3\n/dev/nvidia1\n");
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

  test("list -d all on a MIG host: each MIG device's GI and CI access files, then their nodes", () => {
    const r = inFakeHost(fakes["mig-on-one"].dir, [CLI, "list", "-d", "all"]);
    expect(r.stderr).toBe("");
    const m = MIG_ON_ONE.gpus[0].migs!;
    expect(r.stdout.split("\n").slice(4)).toEqual([
      "/dev/nvidia0",
      "/dev/nvidia1",
      ...m.flatMap((x) => [
        `/proc/driver/nvidia/capabilities/gpu0/mig/gi${x.gi}/access`,
        `/proc/driver/nvidia/capabilities/gpu0/mig/gi${x.gi}/ci${x.ci}/access`,
        `/dev/nvidia-caps/nvidia-cap${migMinor(0, x.gi)}`,
        `/dev/nvidia-caps/nvidia-cap${migMinor(0, x.gi, x.ci)}`,
      ]),
      "",
    ]);
  });

  test("list -d all --mig-config=all: the config file and its node, then per MIG-capable GPU its capability directory, /dev/nvidia-caps and every node mig-minors lists for it", () => {
    const r = inFakeHost(fakes["mig-on-one"].dir, [CLI, "list", "-d", "all", "--mig-config=all"]);
    expect(r.stderr).toBe("");
    const every = (gpu: number) => Array.from({ length: 15 }, (_, gi) => [migMinor(gpu, gi), ...Array.from({ length: 8 }, (_, ci) => migMinor(gpu, gi, ci))]).flat().map((n) => `/dev/nvidia-caps/nvidia-cap${n}`);
    expect(r.stdout.split("\n").slice(6)).toEqual([
      "/proc/driver/nvidia/capabilities/mig/config",
      "/dev/nvidia-caps/nvidia-cap1",
      "/proc/driver/nvidia/capabilities/gpu0",
      "/dev/nvidia-caps",
      ...every(0),
      "/proc/driver/nvidia/capabilities/gpu1",
      "/dev/nvidia-caps",
      ...every(1),
      "",
    ]);
  });

  test("list on a GPU without MIG (Turing, GeForce): no MIG lines whatever is asked", () => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, "list", "-d", "1,2", "--mig-monitor=all"]);
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("/dev/nvidiactl\n/dev/nvidia-uvm\n/dev/nvidia-uvm-tools\n/dev/nvidia-modeset\n/dev/nvidia1\n/dev/nvidia3\n/proc/driver/nvidia/capabilities/mig/monitor\n/dev/nvidia-caps/nvidia-cap2\n");
  });

  test("the same paths exist on the host they name", () => {
    const r = inFakeHost(fakes["mig-on-one"].dir, ["sh", "-c", `${CLI} list | xargs ls -d >/dev/null && echo all-exist`]);
    expect(r.stdout).toBe("all-exist\n");
  });
});

describe("errors: libnvidia-container's words and statuses", () => {
  const TRY = "Try `nvidia-container-cli --help' or `nvidia-container-cli --usage' for more information.\n";
  const cases: [string, string[], number, string][] = [
    ["unknown option", ["--bogus", "info"], 1, "nvidia-container-cli: unrecognized option '--bogus'\n" + TRY],
    ["unknown short option", ["-z", "info"], 1, "nvidia-container-cli: invalid option -- 'z'\n" + TRY],
    ["unknown command", ["frobnicate"], 1, "nvidia-container-cli: unknown command `frobnicate`\n" + TRY],
    ["relative root", ["--root=driver", "info"], 1, "nvidia-container-cli: invalid root `driver`: must be an absolute path\n" + TRY],
    ["missing root", ["--root", "/nonexistent/driver", "info"], 1, "nvidia-container-cli: invalid root `/nonexistent/driver`: no such directory\n" + TRY],
    ["root is a file", ["-r", "/etc/hostname", "info"], 1, "nvidia-container-cli: invalid root `/etc/hostname`: not a directory\n" + TRY],
    ["bad user", ["--user=root", "info"], 1, "nvidia-container-cli: invalid user `root`: want UID[:GID]\n" + TRY],
    ["missing ldcache", ["--ldcache=/nonexistent/ld.so.cache", "info"], 1, "nvidia-container-cli: initialization error: failed to open `/nonexistent/ld.so.cache`: ENOENT\n"],
    ["ldcache that is not one", ["-l", "/etc/hostname", "info"], 1, "nvidia-container-cli: initialization error: `/etc/hostname`: invalid ld.so.cache: missing `glibc-ld.so.cache1.1` header\n"],
    ["a global option after the command", ["info", "--root"], 1, "nvidia-container-cli: unrecognized option '--root'\n" + TRY],
    ["info's option to list", ["list", "--csv"], 1, "nvidia-container-cli: unrecognized option '--csv'\n" + TRY],
    ["extra operand", ["info", "extra"], 1, "nvidia-container-cli: unexpected argument `extra`\n" + TRY],
    ["unknown device", ["list", "-d", "7"], 1, "nvidia-container-cli: device error: unknown device `7`\n"],
    ["malformed device", ["list", "--device=GPU-"], 1, "nvidia-container-cli: device error: invalid device id `GPU-`\n"],
    ["list -d none: no such device, as the reference says", ["list", "-d", "none"], 1, "nvidia-container-cli: device error: unknown device `none`\n"],
    ["list -d without ids", ["list", "-d"], 1, "nvidia-container-cli: option requires an argument -- 'd'\n" + TRY],
    ["mig-config other than all", ["list", "-d", "all", "--mig-config=0"], 1, "nvidia-container-cli: device error: invalid --mig-config `0`: only `all` is supported\n"],
  ];
  test.each(cases)("%s", (_d, argv, status, msg) => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI, ...argv]);
    expect(r.stderr).toBe(msg);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(status);
  });

  test("no command: the usage, on stderr, status 1", () => {
    const r = inFakeHost(fakes["three-mixed"].dir, [CLI]);
    expect(r.stderr).toStartWith("NVIDIA container command-line utility (nvct)");
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
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
      expect(r.stderr).toBe("nvidia-container-cli: initialization error: nvml error: GPU 0: nvmlDeviceGetUUID: GPU is lost\n");
      expect(r.status).toBe(1);
    } finally {
      f.remove();
    }
  });

  test("--debug writes a log file; --help and --version print", () => {
    const r = inFakeHost(fakes["four-h100"].dir, ["sh", "-c", `${CLI} --debug=/tmp/nvct-debug.$$ info >/dev/null && cat /tmp/nvct-debug.$$ && rm /tmp/nvct-debug.$$`]);
    // libnvidia-container's form: its banner, then glog lines.
    expect(r.stdout).toStartWith("\n-- WARNING, the following logs are for debugging purposes only --\n\n");
    expect(r.stdout).toMatch(/^I\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ nvidia-container-cli\] command \{"command":"info"\}$/m);
    const h = inFakeHost(fakes["four-h100"].dir, [CLI, "list", "--help"]);
    expect(h.stdout).toContain("--compat32");
    expect(h.status).toBe(0);
    const v = inFakeHost(fakes["four-h100"].dir, [CLI, "--version"]);
    expect(v.stdout).toMatch(/^cli-version: \d+\.\d+\.\d+\nlib-version: \d+\.\d+\.\d+\nbuild revision: \S+\nbuild platform: x86_64\n$/);
  });
});

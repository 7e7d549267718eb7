// The fake host lays the driver over the real default paths and leaves nothing behind.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { cleanCompiledLibraries, MIG_ON_ONE, UVM_MAJOR } from "./fake/driver";
import { fakeDriver, inFakeHost } from "./setup";

let fake: ReturnType<typeof fakeDriver>;
beforeAll(() => {
  fake = fakeDriver(MIG_ON_ONE, "fakehost");
}, 180_000);
afterAll(() => {
  fake.remove();
  cleanCompiledLibraries();
});

const snapshot = () => ({
  dev: readdirSync("/dev").sort(),
  mounts: readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ").slice(3, 5).join(" ")).sort(),
  ldcache: createHash("sha256").update(readFileSync("/etc/ld.so.cache")).digest("hex"),
  procDriver: readdirSync("/proc/driver").sort(),
  usrLib: readdirSync("/usr/lib").sort(),
  usrBin: readdirSync("/usr/bin").filter((f) => f.startsWith("nvidia")),
  tmp: readdirSync("/tmp").filter((f) => f.startsWith("nvct-fakehost")),
  run: readdirSync("/run").sort(),
});

describe("fake host", () => {
  test("inside: driver nodes, procfs (16-bit domain names), libraries in the ld cache, nvidia-smi on PATH, daemon sockets under /run", () => {
    const r = inFakeHost(fake.dir, ["sh", "-c", "stat -c '%n %t:%T' /dev/nvidiactl /dev/nvidia0 /dev/nvidia1 /dev/nvidia-uvm; ls /proc/driver/nvidia/gpus; grep nvidia-uvm /proc/devices; ldconfig -p | grep -c 'libcuda.so.1 '; nvidia-smi; stat -c '%F' /var/run/nvidia-persistenced/socket /run/nvidia-fabricmanager/socket"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(
      [
        "/dev/nvidiactl c3:ff", "/dev/nvidia0 c3:0", "/dev/nvidia1 c3:1", `/dev/nvidia-uvm ${UVM_MAJOR.toString(16)}:0`,
        "0000:10:00.0", "0000:20:00.0", `${UVM_MAJOR} nvidia-uvm`, "2",
        "NVIDIA-SMI 550.54.14   fake driver, 2 GPU(s)", "socket", "socket", "",
      ].join("\n"),
    );
  });

  test("with --driver-root: the driver is under /run/nvidia/driver only", () => {
    const r = inFakeHost(fake.dir, ["sh", "-c", "ls /run/nvidia/driver/usr/bin/nvidia-smi; ldconfig -p | grep -c nvidia; test -e /usr/bin/nvidia-smi || echo no-host-smi"], { driverRoot: true });
    expect(r.stdout).toBe("/run/nvidia/driver/usr/bin/nvidia-smi\n0\nno-host-smi\n");
  });

  test("leaves the machine as it was: /dev, mount table, ld cache, /proc/driver, /usr", () => {
    const before = snapshot();
    expect(inFakeHost(fake.dir, ["true"]).status).toBe(0);
    expect(inFakeHost(fake.dir, ["true"], { driverRoot: true }).status).toBe(0);
    expect(inFakeHost(fake.dir, ["false"]).status).toBe(1);
    expect(snapshot()).toEqual(before);
    expect(before.dev.some((d) => d.startsWith("nvidia"))).toBe(false);
  });

  test("refuses a directory that is not a fake driver", () => {
    const r = inFakeHost("/tmp", ["true"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("is not a fake driver");
  });
});

import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { makePlan, readLdCache, writeLdCache } from "../../src/core";

const L = "/usr/lib/x86_64-linux-gnu";
const FACTS = (caps: string) => [
  ["layout", L, "/usr/lib/i386-linux-gnu"],
  ["caps", caps],
  ["node", "/dev/nvidiactl", "/dev/nvidiactl", "195", "255", "always"],
  ["node", "/dev/nvidia-uvm", "/dev/nvidia-uvm", "510", "0", "compute"],
  ["node", "/dev/nvidia-modeset", "/dev/nvidia-modeset", "195", "254", "display"],
  ["node", "/dev/nvidia0", "/dev/nvidia0", "195", "0", "always"],
  ["lib", "utility", "64", `/drv${L}/libnvidia-ml.so.550`, "libnvidia-ml.so.1"],
  ["lib", "compute", "64", `/drv${L}/libcuda.so.550`, "libcuda.so.1"],
  ["lib", "compute", "32", "/drv/usr/lib/i386-linux-gnu/libcuda.so.550", "libcuda.so.1"],
  ["lib", "graphics", "64", `/drv${L}/libnvidia-glcore.so.550`, "libnvidia-glcore.so.550"],
  ["bin", "utility", "/drv/usr/bin/nvidia-smi"],
  ["bin", "compute", "/drv/usr/bin/nvidia-cuda-mps-control"],
  ["fw", "/drv/lib/firmware/nvidia/550/gsp.bin", "/lib/firmware/nvidia/550/gsp.bin"],
  ["ipc", "utility", "/drv/run/nvidia-persistenced/socket", "/run/nvidia-persistenced/socket", "socket"],
  ["procfile", "version", "/proc/driver/nvidia/version"],
];

const summary = (caps: string) =>
  makePlan(FACTS(caps)).map((o) => {
    switch (o.op) {
      case "device": return `device ${o.dst} ${o.flags.join(",")}`;
      case "bind": return `${o.kind} ${o.src} -> ${o.dst} ${o.flags.join(",")}`;
      case "symlink": return `link ${o.dir}/${o.name} -> ${o.target}`;
      case "procfs": return `procfs ${o.files.map((f) => f[0]).join(",")}`;
      case "ldcache": return `ldcache ${o.entries.map((e) => `${e[0]}:${e[2]}`).join(",")}`;
    }
  });

describe("plan", () => {
  test("utility,compute: nodes with ro,nosuid,noexec; files ro,nosuid,nodev; links; cache", () => {
    expect(summary("compute,utility")).toEqual([
      "device /dev/nvidiactl ro,nosuid,noexec",
      "device /dev/nvidia-uvm ro,nosuid,noexec",
      "device /dev/nvidia0 ro,nosuid,noexec",
      `file /drv${L}/libnvidia-ml.so.550 -> ${L}/libnvidia-ml.so.550 ro,nosuid,nodev`,
      `file /drv${L}/libcuda.so.550 -> ${L}/libcuda.so.550 ro,nosuid,nodev`,
      "file /drv/usr/bin/nvidia-smi -> /usr/bin/nvidia-smi ro,nosuid,nodev",
      "file /drv/usr/bin/nvidia-cuda-mps-control -> /usr/bin/nvidia-cuda-mps-control ro,nosuid,nodev",
      "file /drv/lib/firmware/nvidia/550/gsp.bin -> /lib/firmware/nvidia/550/gsp.bin ro,nosuid,nodev",
      "socket /drv/run/nvidia-persistenced/socket -> /run/nvidia-persistenced/socket nosuid,nodev,noexec",
      `link ${L}/libnvidia-ml.so.1 -> libnvidia-ml.so.550`,
      `link ${L}/libcuda.so.1 -> libcuda.so.550`,
      `link ${L}/libcuda.so -> libcuda.so.1`,
      "procfs version",
      "ldcache libnvidia-ml.so.1:64,libcuda.so.1:64",
    ]);
  });

  test("utility only: no uvm, no CUDA, no MPS", () => {
    const s = summary("utility");
    expect(s.some((l) => l!.includes("uvm") || l!.includes("cuda"))).toBe(false);
    expect(s).toContain("file /drv/usr/bin/nvidia-smi -> /usr/bin/nvidia-smi ro,nosuid,nodev");
  });

  test("display adds the modeset node and graphics libraries; compat32 the 32-bit ones", () => {
    const s = summary("compat32,compute,display");
    expect(s).toContain("device /dev/nvidia-modeset ro,nosuid,noexec");
    expect(s).toContain(`file /drv${L}/libnvidia-glcore.so.550 -> ${L}/libnvidia-glcore.so.550 ro,nosuid,nodev`);
    expect(s).toContain("file /drv/usr/lib/i386-linux-gnu/libcuda.so.550 -> /usr/lib/i386-linux-gnu/libcuda.so.550 ro,nosuid,nodev");
    expect(s).toContain("link /usr/lib/i386-linux-gnu/libcuda.so.1 -> libcuda.so.550");
  });

  test("a malformed fact is an error naming it", () => {
    expect(() => makePlan([["layout", "x"]])).toThrow("invalid plan line `layout\tx`");
    expect(() => makePlan([["caps", "compute"], ["lib", "compute", "64", "/x/libcuda.so.1", "libcuda.so.1"]])).toThrow("before the layout line");
  });
});

describe("ld.so.cache writer", () => {
  test("glibc reads what nvct writes, in ldconfig's order, old entries kept", () => {
    const old = new Uint8Array(require("node:fs").readFileSync("/etc/ld.so.cache"));
    const out = writeLdCache(old, [
      { name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 },
      { name: "libcuda.so.1", path: "/usr/lib/i386-linux-gnu/libcuda.so.1", bits: 32 },
    ]);
    const file = `/tmp/nvct-ldcache-${process.pid}`;
    writeFileSync(file, out);
    const glibc = spawnSync("ldconfig", ["-p", "-C", file], { encoding: "utf8" }).stdout.split("\n").slice(1).filter(Boolean);
    require("node:fs").rmSync(file);
    expect(glibc.length).toBe(readLdCache(old).length + 2);
    expect(glibc).toContain(`\tlibcuda.so.1 (libc6,x86-64) => ${L}/libcuda.so.1`);
    expect(glibc).toContain("\tlibcuda.so.1 (libc6) => /usr/lib/i386-linux-gnu/libcuda.so.1");
    expect(readLdCache(out).map((e) => e.name)).toEqual(glibc.map((l) => l.trim().split(" ")[0]));
  });

  test("an added entry replaces the image's entry of the same name and width", () => {
    const first = writeLdCache(new Uint8Array(), [{ name: "libcuda.so.1", path: "/image/libcuda.so.1", bits: 64 }]);
    const second = writeLdCache(first, [{ name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 }]);
    expect(readLdCache(second)).toEqual([{ name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 }]);
  });

  test("a corrupt old cache is replaced, not trusted", () => {
    const out = writeLdCache(new Uint8Array([1, 2, 3, 4]), [{ name: "libnvidia-ml.so.1", path: `${L}/libnvidia-ml.so.1`, bits: 64 }]);
    expect(readLdCache(out).length).toBe(1);
  });

  test("version-aware order: .so.10 after .so.9, as the loader's binary search needs", () => {
    const names = ["libz.so.9", "libz.so.10", "liba.so.1", "libz.so.1"];
    const out = writeLdCache(new Uint8Array(), names.map((n) => ({ name: n, path: `/l/${n}`, bits: 64 as const })));
    expect(readLdCache(out).map((e) => e.name)).toEqual(["libz.so.10", "libz.so.9", "libz.so.1", "liba.so.1"]);
  });

  test("old entries keep their flags, osversion and hwcap; glibc-hwcaps ones are dropped", () => {
    // A cache written by hand: libfoo (osversion 7, hwcap 2) and a glibc-hwcaps libbar.
    const names = ["libfoo.so.1\0/lib/libfoo.so.1\0", "libbar.so.1\0/lib/glibc-hwcaps/x86-64-v3/libbar.so.1\0"];
    const strings = Buffer.from(names.join(""));
    const b = Buffer.alloc(48 + 2 * 24 + strings.length);
    b.write("glibc-ld.so.cache1.1", 0, "latin1");
    b.writeUInt32LE(2, 20);
    b.writeUInt32LE(strings.length, 24);
    b[28] = 2;
    let at = 48 + 2 * 24;
    names.forEach((n, i) => {
      const e = 48 + i * 24;
      const [name] = n.split("\0");
      b.writeInt32LE(0x0303, e);
      b.writeUInt32LE(at, e + 4);
      b.writeUInt32LE(at + name.length + 1, e + 8);
      b.writeUInt32LE(i === 0 ? 7 : 0, e + 12);
      b.writeBigUInt64LE(i === 0 ? 2n : (1n << 62n) | 1n, e + 16);
      at += Buffer.byteLength(n);
    });
    strings.copy(b, 48 + 2 * 24);
    const out = Buffer.from(writeLdCache(new Uint8Array(b), [{ name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 }]));
    expect(readLdCache(out).map((e) => e.name)).toEqual(["libfoo.so.1", "libcuda.so.1"]);
    // libfoo's entry is the first (descending order); its osversion and hwcap are as they were.
    expect(out.readUInt32LE(48 + 12)).toBe(7);
    expect(out.readBigUInt64LE(48 + 16)).toBe(2n);
  });

  test("a malformed entry is an error", () => {
    expect(() => writeLdCache(new Uint8Array(), [{ name: "x", path: "relative", bits: 64 }])).toThrow("invalid ld.so.cache entry");
  });
});

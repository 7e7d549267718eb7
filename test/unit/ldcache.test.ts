import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { core, type LdEntry } from "../../src/core";
import { buildFakeDriver, cleanCompiledLibraries, FOUR_H100 } from "../fake/driver";

let dir: string;
let cache: Uint8Array;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nvct-ldcache-"));
  buildFakeDriver(dir, FOUR_H100);
  cache = readFileSync(join(dir, "root/etc/ld.so.cache"));
}, 180_000);
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  cleanCompiledLibraries();
});

const readLdCache = (bytes: Uint8Array, driverOnly = false) => core().ldcacheread(bytes, !driverOnly);
const writeLdCache = (old: Uint8Array, add: LdEntry[], candidates: { path: string; head: Uint8Array }[] = [], arch = "x64") => core().ldcachewrite({ old, add, candidates, arch });
const L = "/usr/lib/x86_64-linux-gnu";

/** What glibc's own reader says: `ldconfig -p` lines as [name, bits, path]. */
function ldconfigSays(file: string): (string | number)[][] {
  const out = spawnSync("ldconfig", ["-p", "-C", file], { encoding: "utf8" }).stdout;
  return [...out.matchAll(/^\s+(\S+) \(([^)]*)\) => (\S+)$/gm)].map((m) => [m[1], m[2].includes("x86-64") ? 64 : 32, m[3]]);
}

describe("ld.so.cache reader", () => {
  test("reads what ldconfig wrote, entry for entry, 64- and 32-bit", () => {
    const got: (string | number)[][] = readLdCache(cache).map((e) => [e.name, e.bits, e.path]);
    expect(got).toEqual(ldconfigSays(join(dir, "root/etc/ld.so.cache")));
    expect(got.filter((e) => e[1] === 32).length).toBe(4);
    expect(got).toContainEqual(["libcuda.so.1", 64, "/usr/lib/x86_64-linux-gnu/libcuda.so.1"]);
    expect(got).toContainEqual(["libcuda.so.1", 32, "/usr/lib/i386-linux-gnu/libcuda.so.1"]);
  });

  test("reads this machine's own cache like ldconfig -p", () => {
    const got: (string | number)[][] = readLdCache(readFileSync("/etc/ld.so.cache")).map((e) => [e.name, e.bits, e.path]);
    expect(got).toEqual(ldconfigSays("/etc/ld.so.cache"));
    expect(got.length).toBeGreaterThan(10);
  });

  test("the driver's libraries only: exact stems of the vocabulary, .so or .so.*", () => {
    const all = readLdCache(readFileSync("/etc/ld.so.cache"));
    expect(readLdCache(readFileSync("/etc/ld.so.cache"), true)).toEqual([]);
    expect(all.length).toBeGreaterThan(10);
    const drv = readLdCache(cache, true).map((e) => e.name);
    expect(drv).toContain("libcudadebugger.so.1");
    expect(drv.every((n) => n.startsWith("lib"))).toBe(true);
  });

  test("reads the new table after an old ld.so-1.7.0 one", () => {
    const old = Buffer.alloc(16 + 12 * 2);
    old.write("ld.so-1.7.0\0", 0, "latin1");
    old.writeUInt32LE(2, 12);
    // Offsets in the new table are relative to its header, so prefixing keeps them valid.
    const both = Buffer.concat([old, cache]);
    expect(readLdCache(both)).toEqual(readLdCache(cache));
  });

  const corrupt: [string, () => Uint8Array, string][] = [
    ["empty file", () => new Uint8Array(0), "missing `glibc-ld.so.cache1.1` header"],
    ["wrong magic", () => Buffer.from("not a cache at all, no no no no no no no no no no"), "missing `glibc-ld.so.cache1.1` header"],
    ["header cut short", () => cache.slice(0, 30), "truncated header"],
    ["entry table cut short", () => cache.slice(0, 48 + 24 * 3), "entry table runs past the end"],
    ["huge entry count", () => { const b = Buffer.from(cache); b.writeUInt32LE(0xffffffff, 20); return b; }, "entry table runs past the end"],
    ["string offset outside the file", () => { const b = Buffer.from(cache); b.writeUInt32LE(0x7fffffff, 48 + 4); return b; }, "string offset outside the file in entry 0"],
    ["unterminated string table", () => { const b = Buffer.from(cache); const n = b.readUInt32LE(20); return b.slice(0, 48 + n * 24 + 3); }, "invalid ld.so.cache"],
    ["old table count past the end", () => { const b = Buffer.alloc(64); b.write("ld.so-1.7.0\0", 0, "latin1"); b.writeUInt32LE(1000, 12); return b; }, "old table runs past the end"],
  ];
  test.each(corrupt)("rejects a corrupt cache: %s", (_d, bytes, msg) => {
    let err: any;
    try {
      readLdCache(bytes());
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe("bad-ldcache");
    expect(err.message).toContain(msg);
  });

  test("random bytes never trap the core", () => {
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) & 0xff);
    for (let i = 0; i < 300; i++) {
      const b = Buffer.from(cache.slice(0, 48 + ((i * 37) % 2000)));
      for (let k = 0; k < 8; k++) b[(rnd() * 7 + k * 13) % b.length] = rnd();
      try {
        readLdCache(b);
      } catch (e: any) {
        expect(e.code).toBe("bad-ldcache");
      }
    }
  });
});

describe("ld.so.cache writer", () => {
  test("glibc reads what nvct writes, in ldconfig's order, old entries kept", () => {
    const old = new Uint8Array(readFileSync("/etc/ld.so.cache"));
    const out = writeLdCache(old, [
      { name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 },
      { name: "libcuda.so.1", path: "/usr/lib/i386-linux-gnu/libcuda.so.1", bits: 32 },
    ]);
    const file = join(dir, "written.cache");
    require("node:fs").writeFileSync(file, out);
    const glibc = spawnSync("ldconfig", ["-p", "-C", file], { encoding: "utf8" }).stdout.split("\n").slice(1).filter(Boolean);
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
    const out = writeLdCache(new Uint8Array(), names.map((n) => ({ name: n, path: `/l/${n}`, bits: 64 })));
    expect(readLdCache(out).map((e) => e.name)).toEqual(["libz.so.10", "libz.so.9", "libz.so.1", "liba.so.1"]);
  });

  test("candidates of a folder: libraries by name and ELF class; others left out", () => {
    const elf = (cls: number) => new Uint8Array([0x7f, 0x45, 0x4c, 0x46, cls]);
    const out = writeLdCache(new Uint8Array(), [], [
      { path: "/usr/lib/libfoo.so.1", head: elf(2) },
      { path: "/usr/lib/libbar.so.2.1", head: elf(1) },
      { path: "/usr/lib/libnotelf.so.1", head: new Uint8Array([1, 2, 3, 4, 5]) },
      { path: "/usr/lib/libdev.so", head: elf(2) },
      { path: "/usr/lib/libso.so.x.so", head: elf(2) },
      { path: "/usr/lib/lib.so", head: elf(2) },
      { path: "/usr/lib/README", head: elf(2) },
    ]);
    // An unversioned library (libnvrm_gpu.so on Tegra) is filed under its name, as ldconfig files it.
    expect(readLdCache(out)).toEqual([{ name: "libfoo.so.1", path: "/usr/lib/libfoo.so.1", bits: 64 }, { name: "libdev.so", path: "/usr/lib/libdev.so", bits: 64 }, { name: "libbar.so.2.1", path: "/usr/lib/libbar.so.2.1", bits: 32 }]);
  });

  test("arm64: 64-bit entries carry the aarch64 flag", () => {
    const out = Buffer.from(writeLdCache(new Uint8Array(), [{ name: "libcuda.so.1", path: "/l/libcuda.so.1", bits: 64 }], [], "arm64"));
    expect(out.readInt32LE(48)).toBe(0x0a03);
  });

  test("old entries keep their flags, osversion and hwcap; glibc-hwcaps ones whose subdirectory cannot be read are dropped", () => {
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
    expect(out.readUInt32LE(48 + 12)).toBe(7);
    expect(out.readBigUInt64LE(48 + 16)).toBe(2n);
  });

  describe("glibc-hwcaps entries (glibc 2.33 and later)", () => {
    // An image whose libfoo has optimised builds in glibc-hwcaps subdirectories, cached by the
    // system's own ldconfig: those entries point into the cache's extension section.
    let root: string;
    let image: Uint8Array;
    const HW = `${L}/glibc-hwcaps`;
    beforeAll(() => {
      root = join(dir, "hwcaps-image");
      const so = (path: string, soname: string) => {
        require("node:fs").mkdirSync(join(root, path, ".."), { recursive: true });
        spawnSync("gcc", ["-shared", "-fPIC", `-Wl,-soname,${soname}`, "-o", join(root, path), "-x", "c", "/dev/null"]);
      };
      so(`${L}/libfoo.so.1`, "libfoo.so.1");
      so(`${HW}/x86-64-v2/libfoo.so.1`, "libfoo.so.1");
      so(`${HW}/x86-64-v3/libfoo.so.1`, "libfoo.so.1");
      so(`${HW}/x86-64-v2/libbar.so.2`, "libbar.so.2");
      so(`${L}/libbar.so.2`, "libbar.so.2");
      require("node:fs").mkdirSync(join(root, "etc"), { recursive: true });
      require("node:fs").writeFileSync(join(root, "etc/ld.so.conf"), `${L}\n`);
      spawnSync("ldconfig", ["-r", root]);
      image = new Uint8Array(readFileSync(join(root, "etc/ld.so.cache")));
    });
    const lines = (file: string) => spawnSync("ldconfig", ["-p", "-C", file], { encoding: "utf8" }).stdout.split("\n").filter((l) => l.startsWith("\t"));

    test("kept with their subdirectories (the extension section written), in ldconfig's order", () => {
      const before = lines(join(root, "etc/ld.so.cache"));
      expect(before).toContain(`\tlibfoo.so.1 (libc6,x86-64, hwcap: "x86-64-v3") => ${HW}/x86-64-v3/libfoo.so.1`);
      const out = writeLdCache(image, [{ name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 }]);
      const file = join(dir, "hwcaps-written.cache");
      require("node:fs").writeFileSync(file, out);
      // Every line glibc's reader gives for the image's cache, in its order, and the one added.
      expect(lines(file).filter((l) => !l.includes("libcuda"))).toEqual(before);
      expect(lines(file)).toContain(`\tlibcuda.so.1 (libc6,x86-64) => ${L}/libcuda.so.1`);
      // Written again from nvct's own output: the same (the indices are nvct's, not ldconfig's).
      require("node:fs").writeFileSync(file, writeLdCache(out, []));
      expect(lines(file).filter((l) => !l.includes("libcuda"))).toEqual(before);
    });

    test.skipIf(process.getuid!() !== 0)("the loader picks the glibc-hwcaps build from nvct's cache, as from ldconfig's", () => {
      // A program linked with libfoo.so.1, run in a chroot of the image with nvct's cache.
      const fs = require("node:fs");
      const main = join(dir, "hwcaps-main.c");
      fs.writeFileSync(main, "int main(void) { return 0; }\n");
      spawnSync("gcc", ["-o", join(root, "prog"), main, `-L${join(root, L)}`, "-Wl,--no-as-needed", "-l:libfoo.so.1"]);
      for (const lib of ["/lib64/ld-linux-x86-64.so.2", "/lib/x86_64-linux-gnu/libc.so.6"]) {
        fs.mkdirSync(join(root, lib, ".."), { recursive: true });
        fs.copyFileSync(lib, join(root, lib));
      }
      const chosen = (cache: Uint8Array) => {
        fs.writeFileSync(join(root, "etc/ld.so.cache"), cache);
        const r = spawnSync("chroot", [root, "/prog"], { encoding: "utf8", env: { ...process.env, LD_DEBUG: "libs" } });
        return /trying file=(\S*libfoo\S*)/.exec(r.stderr)?.[1];
      };
      const byLdconfig = chosen(image);
      expect(byLdconfig).toStartWith(`${HW}/`);
      expect(chosen(writeLdCache(image, [{ name: "libcuda.so.1", path: `${L}/libcuda.so.1`, bits: 64 }]))).toBe(byLdconfig);
      fs.writeFileSync(join(root, "etc/ld.so.cache"), image);
    });

    test("an added driver library replaces the image's entries of its name, glibc-hwcaps ones too", () => {
      const out = writeLdCache(image, [{ name: "libfoo.so.1", path: `${L}/libfoo.so.1.driver`, bits: 64 }]);
      expect(readLdCache(out).filter((e) => e.name === "libfoo.so.1")).toEqual([{ name: "libfoo.so.1", path: `${L}/libfoo.so.1.driver`, bits: 64 }]);
    });
  });

  test("a malformed entry is an error naming it", () => {
    expect(() => writeLdCache(new Uint8Array(), [{ name: "x", path: "relative", bits: 64 }])).toThrow("invalid ld.so.cache entry `x` -> `relative`");
  });
});

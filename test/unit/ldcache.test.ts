import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readLdCache } from "../../src/core";
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

  test("with stems, only those libraries: exact stem, .so or .so.*", () => {
    const got = readLdCache(cache, ["libcuda", "libnvidia-ml"]).map((e) => `${e.name} ${e.bits}`);
    expect(got.sort()).toEqual(["libcuda.so.1 32", "libcuda.so.1 64", "libnvidia-ml.so.1 32", "libnvidia-ml.so.1 64"]);
    // libcudadebugger shares the prefix but not the stem.
    expect(readLdCache(cache, ["libcuda"]).some((e) => e.name.startsWith("libcudadebugger"))).toBe(false);
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

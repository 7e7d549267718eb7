import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeAtomic } from "../../src/atomic";
import { parseLossless } from "../../src/json";

let dir: string;
beforeAll(() => void (dir = mkdtempSync(join(tmpdir(), "nvct-atomic-"))));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("writeAtomic", () => {
  test("a new file; then a rewrite keeps the old mode; no temp file left", () => {
    const f = join(dir, "a", "config.toml");
    writeAtomic(f, "x = 1\n");
    expect(readFileSync(f, "utf8")).toBe("x = 1\n");
    chmodSync(f, 0o600);
    writeAtomic(f, "x = 2\n");
    expect(readFileSync(f, "utf8")).toBe("x = 2\n");
    expect(statSync(f).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, "a"))).toEqual(["config.toml"]);
  });

  test("a symlinked target is written where the link points, the link kept", () => {
    const real = join(dir, "real.json");
    writeFileSync(real, "{}");
    const link = join(dir, "link.json");
    symlinkSync(real, link);
    writeAtomic(link, '{"a":1}');
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(readFileSync(real, "utf8")).toBe('{"a":1}');
  });

  test("a failure names the file and leaves the old one", () => {
    const bad = join(dir, "dangling");
    symlinkSync(join(dir, "no", "such", "x"), bad);
    expect(() => writeAtomic(bad, "new")).toThrow(`failed to write \`${bad}\`: it is a symlink to a missing file`);
    expect(lstatSync(bad).isSymbolicLink()).toBe(true);
  });
});

describe("lossless JSON", () => {
  test("a uint64 rlimit survives a read and a write", () => {
    const text = '{"process":{"rlimits":[{"type":"RLIMIT_MEMLOCK","hard":18446744073709551615,"soft":18446744073709551615}]},"x":1.5,"y":-3,"z":1e3}';
    expect(JSON.stringify(parseLossless(text))).toBe(text.replace("1e3", "1000"));
  });
});

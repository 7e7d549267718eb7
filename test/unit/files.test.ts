// Reading files others control, through node:fs and through libc (the runtime shim's
// passthrough), and the PATH lookup the shim and the docker wrapper exec by: the same answers from
// both surfaces, never blocking on a FIFO.
import { afterAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { lookPath } from "../../src/discover/path";
import { nodeReads, readRegularText, type ReadCalls } from "../../src/files";
import { libcReads } from "../../src/sys/exec";

const dir = mkdtempSync(join(tmpdir(), "nvct-files-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

const text = file("config.toml", '[nvidia-container-runtime]\nruntimes = ["runc"]\n');
const big = file("big", "x".repeat(5000));
const fifo = join(dir, "fifo");
spawnSync("mkfifo", [fifo]);
mkdirSync(join(dir, "adir"));

const surfaces: [string, ReadCalls][] = [
  ["node:fs", nodeReads],
  ["libc", libcReads],
];

describe.each(surfaces)("readRegularText through %s", (_name, calls) => {
  test("a regular file: its text", () => {
    expect(readRegularText(text, 4096, calls)).toBe('[nvidia-container-runtime]\nruntimes = ["runc"]\n');
  });
  test.each([
    ["a missing file: ENOENT", join(dir, "missing"), 4096, "ENOENT"],
    ["a FIFO: refused at once, never waiting for a writer", fifo, 4096, "not a regular file"],
    ["a directory: refused", join(dir, "adir"), 4096, "not a regular file"],
    ["a device: refused", "/dev/zero", 4096, "not a regular file"],
    ["a file over the limit: refused", big, 4096, "larger than 4096 bytes"],
  ])("%s", (_d, path, max, code) => {
    let err: any;
    try {
      readRegularText(path, max, calls);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe(code);
  });
});

describe("lookPath (execvp's search)", () => {
  const bin = (d: string, name: string, mode: number) => {
    mkdirSync(join(dir, d), { recursive: true });
    writeFileSync(join(dir, d, name), "#!/bin/sh\n");
    chmodSync(join(dir, d, name), mode);
    return join(dir, d, name);
  };
  mkdirSync(join(dir, "p1", "tool"), { recursive: true });
  bin("p2", "tool", 0o644);
  const real = bin("p3", "tool", 0o755);
  bin("p4", "real", 0o755);
  symlinkSync("real", join(dir, "p4", "linked"));
  test.each([
    ["a directory and a file without x skipped: the next directory's program", `${dir}/p1:${dir}/p2:${dir}/p3`, "tool", real],
    ["a link is returned as the path looked up, not its target", `${dir}/p4`, "linked", `${dir}/p4/linked`],
    ["none: null", `${dir}/p1:${dir}/p2`, "tool", null],
    ["a name with a slash is not searched", `${dir}/p3`, `${dir}/p3/tool`, real],
  ])("%s", (_d, path, name, want) => {
    expect(lookPath(name, { PATH: path })).toBe(want);
  });
});

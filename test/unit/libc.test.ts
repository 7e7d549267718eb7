import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readlinkSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AT_EMPTY_PATH, AT_FDCWD, isDir, O_DIRECTORY, O_PATH, RESOLVE_IN_ROOT, RESOLVE_NO_MAGICLINKS, SysError, sys } from "../../src/sys/libc";

describe("libc through bun:ffi", () => {
  const failing: [string, () => unknown, string][] = [
    ["open of a missing file: ENOENT, naming the path", () => sys.open("/nonexistent/nvct", 0), "failed to open `/nonexistent/nvct`: ENOENT"],
    ["O_DIRECTORY on a file: ENOTDIR", () => sys.open("/etc/hostname", O_DIRECTORY), "failed to open `/etc/hostname`: ENOTDIR"],
    ["mount of a missing source: ENOENT", () => sys.mount("/nonexistent/src", "/tmp", null, 4096), "failed to mount `/nonexistent/src`: ENOENT"],
    ["unmount of something not mounted: EINVAL", () => sys.umount("/etc", 0), "failed to unmount `/etc`: EINVAL"],
    ["close of a bad descriptor: EBADF", () => sys.close(987654), "failed to close `987654`: EBADF"],
    ["setns on a non-namespace fd: EINVAL", () => {
      const fd = sys.open("/etc/hostname", 0);
      try {
        sys.setns(fd, 0);
      } finally {
        sys.close(fd);
      }
    }, "failed to setns"],
  ];
  test.each(failing)("%s", (_d, fn, msg) => {
    let err: unknown;
    try {
      fn();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SysError);
    expect((err as SysError).message).toContain(msg);
    expect((err as SysError).errno).toBeGreaterThan(0);
  });

  test("execve of a missing program: one SysError naming it, ENOENT (the process goes on)", async () => {
    const { execve } = await import("../../src/sys/exec");
    expect(() => execve("/nonexistent/nvct-runc", ["runc", "state"], ["A=1"])).toThrow("failed to execute `/nonexistent/nvct-runc`: ENOENT (execve)");
  });

  test("a successful open returns a descriptor that close accepts", () => {
    const fd = sys.open("/", O_PATH | O_DIRECTORY);
    expect(fd).toBeGreaterThan(2);
    expect(() => sys.close(fd)).not.toThrow();
  });

  // The calls write their paths and structs into buffers made once (src/sys/libc.ts): these
  // check that what the kernel reads is what was asked, call after call.
  describe("arguments the kernel reads", () => {
    const dir = mkdtempSync(join(tmpdir(), "nvct-libc-"));
    const root = join(dir, "root");
    mkdirSync(join(root, "etc"), { recursive: true });
    writeFileSync(join(root, "etc", "inside"), "");
    symlinkSync("/etc", join(root, "abs"));
    const fd = sys.open(root, O_PATH | O_DIRECTORY);

    test("openat2 honours RESOLVE_IN_ROOT: an absolute link resolves inside the root", () => {
      const inside = sys.openat2(fd, "/abs/inside", O_PATH, 0, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      expect(inside).toBeGreaterThan(2);
      sys.close(inside);
      // /etc/hostname is the host's: never reached through the root's /abs.
      expect(() => sys.openat2(fd, "/abs/hostname", O_PATH, 0, RESOLVE_IN_ROOT)).toThrow("ENOENT");
    });

    test("two-path calls keep both: symlinkat's target and name, renameat's old and new", () => {
      sys.symlinkat("target/of/link", fd, "link");
      expect(readlinkSync(join(root, "link"))).toBe("target/of/link");
      sys.renameat(fd, "link", fd, "moved");
      expect(existsSync(join(root, "link"))).toBe(false);
      expect(sys.readlink(fd, "moved")).toBe("target/of/link");
    });

    test("a link target and a name that begin with a byte-order mark keep it", () => {
      symlinkSync("\ufefftarget", join(root, "\ufeffbom"));
      expect(sys.readlink(fd, "\ufeffbom")).toBe("\ufefftarget");
      const dir = sys.open(root, O_DIRECTORY);
      try {
        expect(sys.readdir(dir, root)).toContain("\ufeffbom");
      } finally {
        sys.close(dir);
      }
    });

    test("statx: a directory's mode, the same file twice alike, null when absent", () => {
      const a = sys.stat(fd, "etc", 0)!;
      expect(isDir(a)).toBe(true);
      const b = sys.stat(AT_FDCWD, join(root, "etc"), 0)!;
      expect(b.ino).toBe(a.ino);
      expect(sys.stat(fd, "missing", 0)).toBeNull();
      expect(isDir(sys.stat(fd, "", AT_EMPTY_PATH)!)).toBe(true);
    });

    test.each([
      ["a NUL inside a path: EINVAL, never a shorter path", "etc\0/inside", "EINVAL"],
      ["a path longer than PATH_MAX: ENAMETOOLONG", "x/".repeat(2100), "ENAMETOOLONG"],
    ])("%s", (_d, path, code) => {
      expect(() => sys.openat(fd, path, O_PATH, 0)).toThrow(code);
    });

    test("clean up", () => {
      sys.close(fd);
      rmSync(dir, { recursive: true, force: true });
    });
  });
});

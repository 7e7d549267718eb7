import { describe, expect, test } from "bun:test";
import { O_DIRECTORY, O_PATH, SysError, sys } from "../../src/sys/libc";

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

  test("a successful open returns a descriptor that close accepts", () => {
    const fd = sys.open("/", O_PATH | O_DIRECTORY);
    expect(fd).toBeGreaterThan(2);
    expect(() => sys.close(fd)).not.toThrow();
  });
});

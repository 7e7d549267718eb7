// Hostile images: symlinks and odd files in the rootfs must never make the hook touch the host,
// and a failure half-way must leave no mount and no file behind.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FOUR_H100 } from "../fake/driver";
import { scene } from "../setup";

const S = scene("hostile", { h100: FOUR_H100 });

/** A container whose image prepare() made hostile; the host is watched from inside the fake host. */
function hostile(prepare: (rootfs: string, victim: string) => void, script = "probe dlopen libcuda.so.1; ls /usr/bin | grep -c nvidia") {
  const victim = S.dir("victim");
  writeFileSync(join(victim, "keep"), "host file\n");
  const dir = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=all", "LD_PRELOAD=/tmp/evil.so"], script, prepare: (rootfs) => prepare(rootfs, victim) });
  const r = S.run(dir, { watch: [victim, "/usr/lib/x86_64-linux-gnu", "/usr/bin"] });
  return { ...r, rootfs: join(dir, "rootfs"), victim, victimFiles: readdirSync(victim).sort(), hostChanged: r.host!.after !== r.host!.before };
}

describe("hostile images", () => {
  const escapes: [string, (rootfs: string, victim: string) => void][] = [
    ["library dir is an absolute symlink to a host dir", (r, v) => {
      rmSync(join(r, "usr/lib/x86_64-linux-gnu"), { recursive: true, force: true });
      mkdirSync(join(r, "usr/lib"), { recursive: true });
      symlinkSync(v, join(r, "usr/lib/x86_64-linux-gnu"));
    }],
    ["library dir is a relative symlink climbing out", (r, v) => {
      mkdirSync(join(r, "usr/lib"), { recursive: true });
      symlinkSync(`../../../../../../../../../../..${v}`, join(r, "usr/lib/x86_64-linux-gnu"));
    }],
    ["/usr/bin is a symlink to a host dir", (r, v) => {
      rmSync(join(r, "usr/bin"), { recursive: true, force: true });
      symlinkSync(v, join(r, "usr/bin"));
    }],
    ["/etc is a symlink to a host dir (the ld.so.cache write)", (r, v) => {
      rmSync(join(r, "etc"), { recursive: true, force: true });
      symlinkSync(v, join(r, "etc"));
    }],
    ["the library file itself is a symlink to a host file", (r, v) => {
      mkdirSync(join(r, "usr/lib/x86_64-linux-gnu"), { recursive: true });
      symlinkSync(join(v, "keep"), join(r, "usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14"));
    }],
    ["ld.so.cache is a symlink to a host file", (r, v) => {
      symlinkSync(join(v, "keep"), join(r, "etc/ld.so.cache"));
    }],
    ["ld.so.cache is a FIFO (an open would block)", (r) => {
      spawnSync("mkfifo", [join(r, "etc/ld.so.cache")]);
    }],
    ["ld.so.cache is a symlink to /dev/zero (a read would never end)", (r) => {
      symlinkSync("/dev/zero", join(r, "etc/ld.so.cache"));
    }],
    ["nvidia-smi is a symlink into runc's /proc (CVE-2025-52881 class)", (r) => {
      symlinkSync("/proc/1/attr/exec", join(r, "usr/bin/nvidia-smi"));
    }],
  ];
  test.each(escapes)("%s: the host is untouched", (_d, prepare) => {
    const r = hostile(prepare);
    expect(r.victimFiles).toEqual(["keep"]);
    expect(readFileSync(join(r.victim, "keep"), "utf8")).toBe("host file\n");
    expect(r.hostChanged).toBe(false);
    // Whatever the image did, anything created landed inside the rootfs, or the start failed.
    if (r.status === 0) expect(r.stdout).toContain("dlopen libcuda.so.1: OK");
    else expect(r.stderr).toContain("nvidia-container-runtime-hook: mount error:");
  });

  test("a failure half-way undoes every mount and file it made", () => {
    // /usr/bin is a file: the binaries cannot go there, after the libraries went in.
    const r = hostile((rootfs) => {
      rmSync(join(rootfs, "usr/bin"), { recursive: true, force: true });
      writeFileSync(join(rootfs, "usr/bin"), "not a directory\n");
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("nvidia-container-runtime-hook: mount error: failed to open `/usr/bin`: ENOTDIR");
    expect(r.hostChanged).toBe(false);
    // The library directories and files it had made for the mounts are gone again.
    expect(existsSync(join(r.rootfs, "usr/lib"))).toBe(false);
    expect(existsSync(join(r.rootfs, "lib/firmware"))).toBe(false);
    expect(readdirSync(join(r.rootfs, "dev"))).toEqual([]);
  });

  test("a directory symlink into /proc is refused, and undone", () => {
    const r = hostile((rootfs) => {
      rmSync(join(rootfs, "usr/bin"), { recursive: true, force: true });
      symlinkSync("/proc/sys/kernel", join(rootfs, "usr/bin"));
    });
    expect(r.status).not.toBe(0);
    // /proc is another mount than the root's: refused as soon as /usr/bin is resolved.
    expect(r.stderr).toContain("refusing `/usr/bin`: a symlink in the image leads it into another mount of the container");
    expect(r.hostChanged).toBe(false);
  });

  test("an image's own libcuda.so.1 file is kept, as ldconfig keeps it", () => {
    const r = hostile((rootfs) => {
      mkdirSync(join(rootfs, "usr/lib/x86_64-linux-gnu"), { recursive: true });
      writeFileSync(join(rootfs, "usr/lib/x86_64-linux-gnu/libcuda.so.1"), "the image's stub\n");
    }, "cat /usr/lib/x86_64-linux-gnu/libcuda.so.1");
    expect(r.status).toBe(0);
    expect(r.stdout).toBe("the image's stub\n");
  });

  // A volume (a bind mount of a host directory the spec asks for) is mounted under the rootfs
  // before the hook runs; a symlink of the image leading into it must not make nvct write there.
  const intoVolume: [string, (rootfs: string) => void][] = [
    ["the library dir is a symlink into a volume", (r) => {
      mkdirSync(join(r, "usr/lib"), { recursive: true });
      symlinkSync("/data/lib", join(r, "usr/lib/x86_64-linux-gnu"));
    }],
    ["/usr/lib is a symlink to a volume's root", (r) => {
      mkdirSync(join(r, "usr"), { recursive: true });
      symlinkSync("/data", join(r, "usr/lib"));
    }],
    ["/etc is a symlink into a volume (the ld.so.cache write)", (r) => {
      rmSync(join(r, "etc"), { recursive: true, force: true });
      symlinkSync("/data/etc", join(r, "etc"));
    }],
  ];
  test.each(intoVolume)("%s: refused by the mount id, the host directory untouched", (_d, prepare) => {
    const volume = S.dir("volume");
    mkdirSync(join(volume, "lib"));
    mkdirSync(join(volume, "etc"));
    writeFileSync(join(volume, "lib/keep"), "host file\n");
    const dir = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=all"], script: "true", prepare: (rootfs) => (mkdirSync(join(rootfs, "data")), prepare(rootfs)), mounts: [{ destination: "/data", source: volume, type: "bind", options: ["rbind", "rw"] }] });
    const r = S.run(dir, { watch: [volume] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/nvidia-container-runtime-hook: mount error: refusing `\/(usr\/lib\/x86_64-linux-gnu|usr\/lib|etc)`: a symlink in the image leads it into another mount of the container \(a volume\)/);
    expect(r.host!.after).toBe(r.host!.before);
    expect(readdirSync(volume).sort()).toEqual(["etc", "lib"]);
    expect(readdirSync(join(volume, "lib"))).toEqual(["keep"]);
    expect(readdirSync(join(volume, "etc"))).toEqual([]);
  });

  test("a volume reached by its own path is no reason to refuse", () => {
    const volume = S.dir("volume");
    const r = S.container({ env: ["NVIDIA_VISIBLE_DEVICES=all"], script: "probe dlopen libcuda.so.1; ls /data", prepare: (rootfs) => mkdirSync(join(rootfs, "data")), mounts: [{ destination: "/data", source: volume, type: "bind", options: ["rbind", "rw"] }] });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("dlopen libcuda.so.1: OK\n");
  });

  test("a symlink loop in the image is an error, not a hang", () => {
    const r = hostile((rootfs) => {
      mkdirSync(join(rootfs, "usr/lib"), { recursive: true });
      symlinkSync("loop-b", join(rootfs, "usr/lib/x86_64-linux-gnu"));
      symlinkSync("x86_64-linux-gnu", join(rootfs, "usr/lib/loop-b"));
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("ELOOP");
    expect(lstatSync(join(r.rootfs, "usr/lib/x86_64-linux-gnu")).isSymbolicLink()).toBe(true);
  });
});

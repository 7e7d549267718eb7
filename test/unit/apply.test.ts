// The shell's apply step against the recording Libc double, without root: the calls a plan
// makes, the flags of each mount, and at every call that can fail, a complete undo.
import { describe, expect, test } from "bun:test";
import { core, type Plan } from "../../src/core";
import { NvctError } from "../../src/errors";
import { apply } from "../../src/inject/apply";
import { RecordingLibc } from "../../src/sys/record";
import { facts, gpu, L, planInput, V } from "./fixture";

const ROOTFS = "/bundle/rootfs";
const PLAN: Plan = core().plan(planInput({ devices: ["0"], caps: ["compute", "utility"] }, facts([gpu(0)])));

function run(plan: Plan, sys: RecordingLibc) {
  return apply(plan, { pid: 4242, rootfs: ROOTFS, cgroup: { version: 1, dir: "/sys/fs/cgroup/devices/c1" }, ldcache: (old, add) => new Uint8Array(Buffer.from(`cache of ${add.length}`)), log: () => {} }, sys);
}

/** The calls that change something, in order, each as a short line. */
const changes = (sys: RecordingLibc) =>
  sys.calls
    .filter(([c]) => ["write", "unshare", "setns", "mkdirat", "openat", "symlinkat", "unlinkat", "renameat", "cloneTree", "tmpfs", "setMountAttrs", "moveMount", "umount"].includes(c))
    .filter(([c, , flags]) => c !== "openat" || (Number(flags) & 0o100) !== 0)
    .map((c) => c.map((x) => (typeof x === "object" ? JSON.stringify(x) : String(x))).join(" "));

describe("apply, against the recording double", () => {
  test("a plan's calls: cgroup rules, the namespace, then each operation through the root", () => {
    const sys = new RecordingLibc(ROOTFS);
    run(PLAN, sys);
    expect(changes(sys)).toEqual([
      "write /sys/fs/cgroup/devices/c1/devices.allow c 195:255 rw",
      "write /sys/fs/cgroup/devices/c1/devices.allow c 510:0 rw",
      "write /sys/fs/cgroup/devices/c1/devices.allow c 510:1 rw",
      "write /sys/fs/cgroup/devices/c1/devices.allow c 195:0 rw",
      "unshare 512",
      "setns /proc/4242/ns/mnt 131072",
      // /proc/driver/nvidia: a tmpfs built detached, its directories made and files written, made
      // read-only, mounted; the GPU's directory is bound onto the one made for it further down.
      'tmpfs {"mode":"0555"} 0',
      "mkdirat gpus 365",
      "mkdirat gpus/0000:18:00.0 365",
      `openat params ${0o100 | 0o200 | 1} 292`,
      "write /proc/driver/nvidia/params ResmanDebugLevel: 4294967295\nModifyDeviceFiles: 0\n",
      `openat version ${0o100 | 0o200 | 1} 292`,
      "write /proc/driver/nvidia/version content of /proc/driver/nvidia/version\n",
      `openat registry ${0o100 | 0o200 | 1} 292`,
      "write /proc/driver/nvidia/registry content of /proc/driver/nvidia/registry\n",
      "setMountAttrs  15",
      "moveMount tmpfs /proc/driver/nvidia",
      // Each node: a file made to mount onto, a detached bind of the host's node, its flags, the move.
      "mkdirat dev 493",
      ...["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0"].flatMap((n) => [`openat ${n} ${0o100 | 0o200 | 1 | 0o400000} 420`, `cloneTree /dev/${n}`, `setMountAttrs /dev/${n} 11`, `moveMount /dev/${n} /dev/${n}`]),
      "mkdirat usr 493",
      "mkdirat lib 493",
      "mkdirat x86_64-linux-gnu 493",
      ...[`libnvidia-ml.so.${V}`, `libcuda.so.${V}`].flatMap((n) => [`openat ${n} ${0o100 | 0o200 | 1 | 0o400000} 420`, `cloneTree ${L}/${n}`, `setMountAttrs ${L}/${n} 7`, `moveMount ${L}/${n} ${L}/${n}`]),
      "mkdirat bin 493",
      ...["nvidia-smi", "nvidia-cuda-mps-control"].flatMap((n) => [`openat ${n} ${0o100 | 0o200 | 1 | 0o400000} 420`, `cloneTree /usr/bin/${n}`, `setMountAttrs /usr/bin/${n} 7`, `moveMount /usr/bin/${n} /usr/bin/${n}`]),
      "mkdirat lib 493",
      "mkdirat firmware 493",
      "mkdirat nvidia 493",
      `mkdirat ${V} 493`,
      `openat gsp_ga10x.bin ${0o100 | 0o200 | 1 | 0o400000} 420`,
      `cloneTree /usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin`,
      `setMountAttrs /usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin 7`,
      `moveMount /usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin /lib/firmware/nvidia/${V}/gsp_ga10x.bin`,
      "mkdirat run 493",
      "mkdirat nvidia-persistenced 493",
      `openat socket ${0o100 | 0o200 | 1 | 0o400000} 420`,
      "cloneTree /run/nvidia-persistenced/socket",
      "setMountAttrs /run/nvidia-persistenced/socket 14",
      "moveMount /run/nvidia-persistenced/socket /run/nvidia-persistenced/socket",
      // The GPU's procfs directory onto the one in the read-only tmpfs: nothing made there.
      "cloneTree /proc/driver/nvidia/gpus/0000:18:00.0",
      "setMountAttrs /proc/driver/nvidia/gpus/0000:18:00.0 15",
      "moveMount /proc/driver/nvidia/gpus/0000:18:00.0 /proc/driver/nvidia/gpus/0000:18:00.0",
      `symlinkat libnvidia-ml.so.${V} libnvidia-ml.so.1`,
      `symlinkat libcuda.so.${V} libcuda.so.1`,
      "symlinkat libcuda.so.1 libcuda.so",
      // The ld cache: written beside (a stale temporary file removed first), renamed over.
      "mkdirat etc 493",
      "unlinkat .ld.so.cache.nvct 0",
      `openat .ld.so.cache.nvct ${0o100 | 0o200 | 1 | 0o400000} 420`,
      "write /etc/.ld.so.cache.nvct cache of 2",
      "renameat .ld.so.cache.nvct ld.so.cache",
    ]);
    expect(sys.mounts.length).toBe(12);
  });

  test("every failing call undoes everything done before it, newest first, and names the call", () => {
    const ok = new RecordingLibc(ROOTFS);
    run(PLAN, ok);
    const counts = new Map<string, number>();
    for (const [c] of ok.calls) counts.set(c, (counts.get(c) ?? 0) + 1);
    let cases = 0;
    for (const call of ["write", "setns", "openat2", "mkdirat", "openat", "cloneTree", "setMountAttrs", "moveMount", "tmpfs", "symlinkat", "renameat"]) {
      for (let nth = 1; nth <= (counts.get(call) ?? 0); nth++) {
        const sys = new RecordingLibc(ROOTFS, { call, nth, errno: 28 });
        const before = sys.snapshot();
        let err: unknown;
        try {
          run(PLAN, sys);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(NvctError);
        expect((err as Error).message).toContain("ENOSPC");
        // The container's root as it was, no mount left, every rule allowed denied again.
        expect({ call, nth, tree: sys.snapshot(), mounts: sys.mounts }).toEqual({ call, nth, tree: before, mounts: [] });
        const writes = sys.calls.filter(([c]) => c === "write").map(([, file, rule]) => [String(file).split("/").pop(), rule]);
        const allowed = writes.filter(([f]) => f === "devices.allow").map(([, r]) => r);
        const denied = writes.filter(([f]) => f === "devices.deny").map(([, r]) => r);
        expect(denied.sort()).toEqual(allowed.filter((_, i) => !(call === "write" && i === nth - 1)).sort());
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(60);
  });

  test("v1: a rule the cgroup grants already is neither written nor denied on undo", () => {
    const sys = new RecordingLibc(ROOTFS, { call: "moveMount", nth: 2, errno: 28 });
    sys.hostFiles.set("/sys/fs/cgroup/devices/c1/devices.list", "c 1:3 rwm\nc 195:* rwm\nc *:* m\n");
    expect(() => run(PLAN, sys)).toThrow("ENOSPC");
    const writes = sys.calls.filter(([c, f]) => c === "write" && String(f).includes("/devices.")).map(([, f, r]) => `${String(f).split("/").pop()} ${r}`);
    expect(writes).toEqual(["devices.allow c 510:0 rw", "devices.allow c 510:1 rw", "devices.deny c 510:1 rw", "devices.deny c 510:0 rw"]);
  });

  test("v1: a cgroup that allows every device (the root cgroup) gets no rule, and no deny when undone", () => {
    // Its list hides what it denies; a deny written there would reach every cgroup below it.
    const sys = new RecordingLibc(ROOTFS, { call: "moveMount", nth: 2, errno: 28 });
    sys.hostFiles.set("/sys/fs/cgroup/devices/c1/devices.list", "a *:* rwm\n");
    expect(() => run(PLAN, sys)).toThrow("ENOSPC");
    expect(sys.calls.filter(([c]) => c === "write").map(([, f]) => String(f))).not.toContainEqual(expect.stringContaining("devices."));
  });

  test("a symlink in the image leading into a volume (another mount) is refused before anything is made in it", () => {
    const sys = new RecordingLibc(ROOTFS);
    const volume = sys.volume("data", ["lib"]);
    sys.root.nodes.set("usr", { type: "dir" });
    sys.root.nodes.set("usr/lib", { type: "dir" });
    sys.root.nodes.set("usr/lib/x86_64-linux-gnu", { type: "link", target: "/data/lib" });
    const before = sys.snapshot();
    expect(() => run(PLAN, sys)).toThrow("refusing `/usr/lib/x86_64-linux-gnu`: a symlink in the image leads it into another mount of the container (a volume)");
    expect({ tree: sys.snapshot(), volume: volume.entries(), mounts: sys.mounts }).toEqual({ tree: before, volume: ["", "lib"], mounts: [] });
  });

  test("a volume reached by its own path (no symlink) is a target like any directory", () => {
    const sys = new RecordingLibc(ROOTFS);
    sys.root.nodes.set("usr", { type: "dir" });
    const volume = sys.volume("usr/bin");
    run(PLAN, sys);
    expect(volume.entries()).toEqual(["", "nvidia-cuda-mps-control", "nvidia-smi"]);
  });

  test("a link over an image's file (create-symlinks): the file moved aside, removed once all is done; a start killed in between is made good by the next", () => {
    const link = (fail?: { call: string; nth: number; errno: number }) => {
      const sys = new RecordingLibc(ROOTFS, fail);
      sys.root.nodes.set("lib", { type: "dir" });
      return sys;
    };
    const plan = { ops: [{ tag: "symlink" as const, val: { dir: "/lib", name: "libfoo.so", target: "libfoo.so.1", keepFile: false } }], cgroup: { rules: [], prologue: new Uint8Array() } };
    const go = (sys: RecordingLibc) => apply(plan, { pid: null, rootfs: ROOTFS, cgroup: null, log: () => {} }, sys);
    // As a killed start left it: the image's file aside, the link made.
    const killed = link();
    killed.root.nodes.set("lib/.libfoo.so.nvct", { type: "file", content: Buffer.from("image") });
    killed.root.nodes.set("lib/libfoo.so", { type: "link", target: "libfoo.so.1" });
    go(killed);
    expect(killed.snapshot().filter((l) => l.startsWith("lib/"))).toEqual(["lib/libfoo.so link -> libfoo.so.1"]);
    // The same, failing at the link: the image's file is back at its name, nothing aside.
    const failed = link({ call: "symlinkat", nth: 1, errno: 28 });
    failed.root.nodes.set("lib/.libfoo.so.nvct", { type: "file", content: Buffer.from("image") });
    failed.root.nodes.set("lib/libfoo.so", { type: "link", target: "libfoo.so.1" });
    expect(() => go(failed)).toThrow("`/lib/libfoo.so`: ENOSPC");
    expect(failed.snapshot().filter((l) => l.startsWith("lib/"))).toEqual(["lib/libfoo.so file image"]);
  });

  test("a broken applier that forgets one undo is caught by the test above", () => {
    // Take one undo away (mkdirat's): a failure after the first directory then leaves it behind.
    const sys = new RecordingLibc(ROOTFS, { call: "moveMount", nth: 3, errno: 28 });
    const before = sys.snapshot();
    const realUnlink = sys.unlinkat.bind(sys);
    sys.unlinkat = (dirfd, path, flags) => (path === "dev" ? undefined : realUnlink(dirfd, path, flags));
    expect(() => run(PLAN, sys)).toThrow("ENOSPC");
    expect(sys.snapshot()).not.toEqual(before);
  });

  test("the procfs tmpfs is read-only once mounted: a bind target not made in it beforehand fails (EROFS), and all is undone", () => {
    const noDirs: Plan = { ...PLAN, ops: PLAN.ops.map((o) => (o.tag === "procfs" ? { ...o, val: { ...o.val, dirs: [] } } : o)) };
    const sys = new RecordingLibc(ROOTFS);
    const before = sys.snapshot();
    expect(() => run(noDirs, sys)).toThrow("EROFS");
    expect({ tree: sys.snapshot(), mounts: sys.mounts }).toEqual({ tree: before, mounts: [] });
  });

  test("an image's symlink at a mount target is replaced, and put back on undo", () => {
    const sys = new RecordingLibc(ROOTFS, { call: "renameat", nth: 1, errno: 5 });
    sys.root.nodes.set("usr", { type: "dir" });
    sys.root.nodes.set("usr/bin", { type: "dir" });
    sys.root.nodes.set("usr/bin/nvidia-smi", { type: "link", target: "/etc/shadow" });
    const before = sys.snapshot();
    expect(() => run(PLAN, sys)).toThrow("EIO");
    expect(sys.snapshot()).toEqual(before);
    // The link was never followed: no mount ever went onto /etc/shadow.
    expect(sys.calls.filter(([c, , to]) => c === "moveMount" && String(to).includes("shadow"))).toEqual([]);
  });
});

// `nvidia-container-cli configure` driving the engine as containerd's `ctr run --gpus` and the
// reference Go hook call it, under real runc in the fake host.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { BIN, inFakeHost, scene } from "../setup";

const CLI = join(BIN, "nvidia-container-cli");
const S = scene("configure", { mixed: THREE_MIXED });

function viaCli(args: (rootfs: string) => string[]) {
  const hook = join(import.meta.dir, "ctr-hook.sh");
  const dir = S.bundle({ hook: { path: hook, args: [hook, CLI, ...args("ROOTFS")] } });
  // The bundle's rootfs is known only now: put it where the arguments say ROOTFS.
  const cfg = join(dir, "config.json");
  const fs = require("node:fs");
  fs.writeFileSync(cfg, fs.readFileSync(cfg, "utf8").replaceAll('"ROOTFS"', JSON.stringify(join(dir, "rootfs"))));
  return S.run(dir);
}

const V = "550.54.14";

describe("configure under runc", () => {
  test("as ctr run --gpus 1 calls it", () => {
    const r = viaCli((rootfs) => ["--load-kmods", "configure", "--ldconfig=@/sbin/ldconfig", "--device=1", "--compute", "--utility", "--pid={{pid}}", rootfs]);
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.report.libs).toContain(`libcuda.so.${V}`);
    expect(r.report.gpus).toEqual(["0000:3b:00.0"]);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("as the reference Go hook calls it: all devices, a requirement, short options", () => {
    const r = viaCli((rootfs) => ["--load-kmods", "--debug=/dev/null", "configure", "-l", "@/sbin/ldconfig", "-d", "all", "-c", "-u", "-r", "cuda>=12.0", "--require=driver>=500", "-p", "{{pid}}", rootfs]);
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"]);
  });

  test("utility only, --no-persistenced, no compute: no CUDA", () => {
    const r = viaCli((rootfs) => ["configure", "--device=0", "--utility", "--no-persistenced", "--pid={{pid}}", rootfs]);
    expect(r.report.libs).toEqual([`libnvidia-cfg.so.${V}`, `libnvidia-ml.so.${V}`]);
    expect(r.report.nodes).toEqual(["nvidia0", "nvidiactl"]);
  });

  test("--no-devbind: the cgroup allows the nodes, nothing is bound", () => {
    const r = viaCli((rootfs) => ["configure", "--device=0", "--utility", "--no-devbind", "--pid={{pid}}", rootfs]);
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual([]);
    expect(r.report.libs).toEqual([`libnvidia-cfg.so.${V}`, `libnvidia-ml.so.${V}`]);
  });

  test("a failing --require stops the container with a requirement error", () => {
    const r = viaCli((rootfs) => ["configure", "--device=0", "--compute", "--require=cuda>=13.0", "--pid={{pid}}", rootfs]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("nvidia-container-cli: requirement error: unsatisfied condition: cuda>=13.0");
  });
});

describe("configure: bad flags", () => {
  const cases: [string, string[], string][] = [
    ["missing rootfs", ["configure", "--pid=1"], "configure: missing ROOTFS"],
    ["relative rootfs", ["configure", "--pid=1", "rootfs"], "invalid rootfs `rootfs`: must be an absolute path other than /"],
    ["rootfs /", ["configure", "--pid=1", "/"], "invalid rootfs `/`: must be an absolute path other than /"],
    ["missing rootfs dir", ["configure", "--pid=1", "/nonexistent/rootfs"], "invalid rootfs `/nonexistent/rootfs`: no such directory"],
    ["missing pid", ["configure", "/tmp"], "configure: missing --pid"],
    ["bad pid", ["configure", "--pid=abc", "/tmp"], "invalid pid `abc`"],
    ["dead pid", ["configure", "--pid=999999999", "/tmp"], "invalid pid `999999999`: no such process"],
    ["bad ldconfig", ["configure", "--pid=1", "--ldconfig=ldconfig", "/tmp"], "invalid ldconfig `ldconfig`: want an absolute path, or @ and a host path"],
    ["bad cuda-compat-mode", ["configure", "--pid=1", "--cuda-compat-mode=yes", "/tmp"], "invalid cuda-compat-mode `yes`: want mount, ldconfig or disabled"],
    ["unknown flag", ["configure", "--gpus=all", "/tmp"], "unrecognized option '--gpus'"],
  ];
  test.each(cases)("%s", (_d, argv, msg) => {
    const r = inFakeHost(S.driver(), [CLI, ...argv]);
    expect(r.stderr).toBe(`nvidia-container-cli: ${msg}\nTry \`nvidia-container-cli --help' or \`nvidia-container-cli --usage' for more information.\n`);
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
  });
});

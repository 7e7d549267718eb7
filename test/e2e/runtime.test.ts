// nvidia-container-runtime under runc in the fake host, as docker and containerd drive it
// (create through the shim, then start): legacy mode, CDI mode from nvct's generated spec and
// from a spec written by hand in the reference's style; errors leave config.json as it was.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { BIN, FAKEHOST, inFakeHost, scene } from "../setup";
import { validate } from "../schema";
import { parseReport, REPORT } from "./bundle";

const SHIM = join(BIN, "nvidia-container-runtime");
const S = scene("runtime", { mixed: THREE_MIXED, features: { ...THREE_MIXED, gds: true, features: true } });
let specDir: string;
let work: string;

beforeAll(() => {
  work = S.work;
  specDir = join(work, "cdi");
  const g = inFakeHost(S.driver(), [join(BIN, "nvidia-ctk"), "cdi", "generate", "--output", join(specDir, "nvidia.yaml"), "--nvidia-cdi-hook-path", join(BIN, "nvidia-cdi-hook")]);
  if (g.status !== 0) throw new Error(g.stderr);
}, 180_000);

let seq = 0;
function viaShim(o: { env?: string[]; annotations?: Record<string, string>; config: string; logJson?: boolean; prepare?: (dir: string) => void; fake?: string; script?: string }) {
  const dir = S.bundle({ env: o.env, script: o.script ?? REPORT, hook: null, debian: ++seq % 2 === 0 });
  if (o.annotations) {
    const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    spec.annotations = o.annotations;
    writeFileSync(join(dir, "config.json"), JSON.stringify(spec));
  }
  o.prepare?.(dir);
  const cfg = join(dir, "config.toml");
  writeFileSync(cfg, o.config);
  const before = readFileSync(join(dir, "config.json"), "utf8");
  const log = join(dir, "runc.log");
  const extra = o.logJson ? ["--log", log, "--log-format", "json"] : [];
  const r = spawnSync(FAKEHOST, [S.driver(o.fake), "--", join(import.meta.dir, "runtime.sh"), SHIM, join(dir, "state"), dir, `nvct-rt-${process.pid}-${seq}`, ...extra], {
    encoding: "utf8",
    env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: cfg, PATH: `${BIN}:${process.env.PATH}` },
    timeout: 60_000,
  });
  const after = readFileSync(join(dir, "config.json"), "utf8");
  let spec: any = null;
  try {
    spec = JSON.parse(after);
  } catch {}
  return { ...r, report: parseReport(r.stdout), before, after, spec, log, dir };
}

const cdiConfig = (mode: string) => `[nvidia-container-runtime]\nmode = "${mode}"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["${join(tmpdir(), "nonexistent-cdi")}", "SPECDIR"]\n`;
const withDir = (c: string) => c.replace("SPECDIR", specDir);

describe("nvidia-container-runtime", () => {
  test("legacy mode: adds nvct's prestart hook; the container gets its GPUs; config.json validates", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=1"], config: '[nvidia-container-runtime]\nmode = "legacy"\n', logJson: true });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.spec.hooks.prestart).toEqual([{ path: join(BIN, "nvidia-container-runtime-hook"), args: ["nvidia-container-runtime-hook", "prestart"] }]);
    expect(validate(r.spec, "oci/config-schema.json")).toEqual([]);
    const lines = readFileSync(r.log, "utf8").trim().split("\n").map((l) => JSON.parse(l));
    expect(lines[0]).toEqual({ level: "info", msg: `Using legacy mode for bundle ${r.dir}`, time: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/) });
  });

  test("the debug log (logrus text, at debug level): the mode, what it generates, the time of each phase", () => {
    const log = join(S.dir("rtlog"), "nvidia-container-runtime.log");
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=1"], config: `[nvidia-container-runtime]\nmode = "jit-cdi"\ndebug = "${log}"\nlog-level = "debug"\n` });
    expect(r.stdout).toContain("shim-exit: 0");
    const text = readFileSync(log, "utf8");
    expect(text).toMatch(/^time="[^"]+" level=info msg="Using jit-cdi mode for bundle [^"]+"$/m);
    expect(text).toMatch(/^time="[^"]+" level=info msg="Generating CDI edits for runtime.nvidia.com\/gpu devices 1"$/m);
    expect(text).toMatch(/^time="[^"]+" level=debug msg="phases: entry \d+\.\d\d ms, request \d+\.\d\d ms, (\w+ \d+\.\d\d ms, )*edited \d+\.\d\d ms"$/m);
  });

  test("cdi mode: NVIDIA_VISIBLE_DEVICES=0 from nvct's generated spec; hooks make libcuda.so.1 loadable", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=0"], config: withDir(cdiConfig("cdi")) });
    expect(r.stderr).not.toContain("error");
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(["nvidia-modeset", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidiactl"]);
    expect(r.report.opens).toContain("open /dev/nvidia0: ENXIO");
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
    expect(r.spec.process.env).toContain("NVIDIA_VISIBLE_DEVICES=void");
    expect(validate(r.spec, "oci/config-schema.json")).toEqual([]);
    // The hooks carry their own environment: nothing of the image's reaches them.
    for (const h of r.spec.hooks.createContainer) expect(h.env).toEqual(["NVIDIA_CTK_DEBUG=false"]);
  });

  test("auto mode with a qualified name in an annotation: cdi", () => {
    const r = viaShim({ annotations: { "cdi.k8s.io/gpus": "nvidia.com/gpu=2" }, config: withDir(cdiConfig("auto")) });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toContain("nvidia3");
    expect(r.report.nodes).not.toContain("nvidia0");
    expect(r.spec.hooks.prestart).toBeUndefined();
  });

  test("auto mode with an index: jit-cdi, as the newest toolkit: the edits generated from the driver, no prestart hook", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=2"], config: withDir(cdiConfig("auto")) });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia3", "nvidiactl"]);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
    expect(r.spec.hooks.prestart ?? []).toEqual([]);
    expect(r.spec.process.env).toContain("NVIDIA_VISIBLE_DEVICES=void");
    expect(r.spec.linux.devices.map((d: { path: string }) => d.path)).toContain("/dev/nvidia3");
  });

  test("jit-cdi: runtime.nvidia.com/gpu names, a MIG-free UUID, none (the driver only); mixing with spec-file devices is refused", () => {
    const uuid = "GPU-a0b1c2de-1111-2222-3333-444455556671";
    const byName = viaShim({ env: [`NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=${uuid}`], config: withDir(cdiConfig("jit-cdi")) });
    expect(byName.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    const none = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=none"], config: withDir(cdiConfig("jit-cdi")) });
    expect(none.stdout).toContain("shim-exit: 0");
    expect(none.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidiactl"]);
    expect(none.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
    const mixed = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0,nvidia.com/gpu=1"], config: withDir(cdiConfig("jit-cdi")) });
    expect(mixed.stdout).not.toContain("shim-exit: 0");
    expect(mixed.stderr).toContain("requesting a CDI device with vendor 'runtime.nvidia.com' is not supported when requesting other CDI devices");
    expect(mixed.after).toBe(mixed.before);
  });

  test("a spec written by hand in the reference's style (0.5.0, nvidia-ctk hook) is consumed", () => {
    const hand = join(work, "hand-cdi");
    mkdirSync(hand, { recursive: true });
    const ctk = join(BIN, "nvidia-ctk");
    writeFileSync(join(hand, "nvidia.json"), JSON.stringify({
      cdiVersion: "0.5.0",
      kind: "example.com/gpu",
      devices: [{ name: "gpu1", containerEdits: { deviceNodes: [{ path: "/dev/nvidia1" }] } }],
      containerEdits: {
        env: ["NVIDIA_VISIBLE_DEVICES=void"],
        deviceNodes: [{ path: "/dev/nvidiactl" }],
        mounts: [{ hostPath: "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14", containerPath: "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.550.54.14", options: ["ro", "nosuid", "nodev", "bind"] }],
        hooks: [
          { hookName: "createContainer", path: ctk, args: ["nvidia-ctk", "hook", "create-symlinks", "--link", "libnvidia-ml.so.550.54.14::/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1"] },
          { hookName: "createContainer", path: ctk, args: ["nvidia-ctk", "hook", "update-ldcache", "--folder", "/usr/lib/x86_64-linux-gnu"] },
        ],
      },
    }));
    const r = viaShim({ annotations: { "cdi.k8s.io/x": "example.com/gpu=gpu1" }, config: `[nvidia-container-runtime]\nmode = "cdi"\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["${hand}"]\n` });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(["nvidia1", "nvidiactl"]);
    expect(r.report.dl[1]).toBe("dlopen libnvidia-ml.so.1: OK");
  });

  test("an unknown CDI device: an error naming it, config.json unchanged, nothing started", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=7"], config: withDir(cdiConfig("cdi")) });
    expect(r.stderr).toContain("nvidia-container-runtime: unresolvable CDI device `nvidia.com/gpu=7`");
    expect(r.stdout).toContain("shim-exit: 1");
    expect(r.after).toBe(r.before);
  });

  test("an unreadable spec: an error naming the bundle, config.json unchanged", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=0"], config: '[nvidia-container-runtime]\nmode = "legacy"\n', prepare: (d) => writeFileSync(join(d, "config.json"), "{not json") });
    expect(r.stderr).toContain(`failed to load the OCI spec of bundle \`${r.dir}\``);
    expect(r.after).toBe("{not json");
  });

  test("other commands pass straight through to runc; --version prints the runtime's own lines first", () => {
    const r = inFakeHost(S.driver(), [SHIM, "--version"]);
    const runc = spawnSync("runc", ["--version"], { encoding: "utf8" }).stdout;
    expect(r.stdout).toMatch(/^NVIDIA Container Runtime version \d+\.\d+\.\d+\ncommit: \S+\nspec: \S+\n\n/);
    expect(r.stdout.slice(r.stdout.indexOf("\n\n") + 2)).toBe(runc);
    expect(r.status).toBe(0);
  });

  test("the low-level runtime replaces the shim: same pid, same stdio, its exit status", () => {
    const low = join(work, "fake-runc");
    writeFileSync(low, '#!/bin/sh\necho "low-level pid $$ args $*"\nexit 7\n', { mode: 0o755 });
    const cfg = join(work, "exec.toml");
    writeFileSync(cfg, `[nvidia-container-runtime]\nruntimes = ["/nonexistent/runc", "${low}"]\n`);
    const r = spawnSync("sh", ["-c", `echo "shim pid $$"; exec ${SHIM} --root /x state some-id`], { encoding: "utf8", env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: cfg } });
    const [shim, lowLine] = r.stdout.trim().split("\n");
    expect(lowLine).toBe(`low-level pid ${shim.split(" ")[2]} args --root /x state some-id`);
    expect(r.status).toBe(7);
  });

  test("no low-level runtime found: an error naming the ones tried", () => {
    const cfg = join(work, "none.toml");
    writeFileSync(cfg, '[nvidia-container-runtime]\nruntimes = ["no-such-runc"]\n');
    const r = spawnSync(SHIM, ["state", "x"], { encoding: "utf8", env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: cfg } });
    expect(r.stderr).toBe("nvidia-container-runtime: no low-level runtime found: tried `no-such-runc` (nvidia-container-runtime.runtimes)\n");
    expect(r.status).toBe(1);
  });

  test("NVIDIA_GDS and NVIDIA_GDRCOPY=enabled add their nodes, with device rules; GDS its files", () => {
    const r = viaShim({
      env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_GDS=enabled", "NVIDIA_GDRCOPY=enabled", "NVIDIA_NVSWITCH=disabled"],
      config: '[nvidia-container-runtime]\nmode = "legacy"\n',
      fake: "features",
      script: "ls /dev | grep -E 'nvidia-fs|gdrdrv|nvswitch'; probe open /dev/nvidia-fs0 /dev/gdrdrv; cat /etc/cufile.json; test -d /run/udev && echo udev",
    });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe('gdrdrv\nnvidia-fs0\nnvidia-fs1\nopen /dev/nvidia-fs0: ENXIO\nopen /dev/gdrdrv: ENXIO\n{ "logging": { "level": "ERROR" } }\nudev\nshim-exit: 0\n');
    expect(validate(r.spec, "oci/config-schema.json")).toEqual([]);
    // Without a GPU request the features add nothing, as the reference gates them.
    const none = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_GDS=enabled"], config: '[nvidia-container-runtime]\nmode = "legacy"\n', fake: "features", script: "ls /dev | grep -c nvidia-fs" });
    expect(none.stdout).toBe("0\nshim-exit: 0\n");
  });

  test("NVIDIA_MOFED and NVIDIA_NVSWITCH=enabled add theirs", () => {
    const r = viaShim({
      env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MOFED=enabled", "NVIDIA_NVSWITCH=enabled"],
      config: '[nvidia-container-runtime]\nmode = "legacy"\n',
      fake: "features",
      script: "ls /dev /dev/infiniband | grep -E 'nvswitch|uverbs|rdma' | sort | tr '\\n' ' '",
    });
    expect(r.stdout).toBe("nvidia-nvswitch0 nvidia-nvswitchctl rdma_cm uverbs0 shim-exit: 0\n");
  });

  test("cdi mode honours accept-nvidia-visible-devices-envvar-when-unprivileged", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=all"], config: "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n" + withDir(cdiConfig("auto")), script: "ls /dev | grep -c nvidia" });
    expect(r.stdout).toBe("0\nshim-exit: 0\n");
  });

  test("an unqualified name in a CDI annotation is an error naming it", () => {
    const r = viaShim({ annotations: { "cdi.k8s.io/gpus": "gpu0" }, config: withDir(cdiConfig("cdi")) });
    expect(r.stderr).toContain("invalid CDI device name `gpu0` in annotation `cdi.k8s.io/gpus`");
    expect(r.after).toBe(r.before);
  });

  test("a uint64 rlimit (docker --ulimit memlock=-1) survives the rewrite", () => {
    const r = viaShim({
      env: ["NVIDIA_VISIBLE_DEVICES=0"],
      config: '[nvidia-container-runtime]\nmode = "legacy"\n',
      prepare: (d) => {
        const spec = JSON.parse(readFileSync(join(d, "config.json"), "utf8"));
        spec.process.rlimits = [{ type: "RLIMIT_MEMLOCK", hard: 1, soft: 1 }];
        // Raising a hard limit needs CAP_SYS_RESOURCE, as docker's --ulimit relies on.
        for (const set of ["bounding", "effective", "permitted"]) spec.process.capabilities[set].push("CAP_SYS_RESOURCE");
        writeFileSync(join(d, "config.json"), JSON.stringify(spec).replace('"hard":1,"soft":1', '"hard":18446744073709551615,"soft":18446744073709551615'));
      },
      script: "ulimit -l",
    });
    expect(r.after).toContain('"hard":18446744073709551615,"soft":18446744073709551615');
    // runc decoded the spec (a rounded number fails its uint64 decoding before anything runs);
    // whether it may then raise the limit depends on this machine's CAP_SYS_RESOURCE.
    expect(r.stderr).not.toContain("unmarshal");
    expect(r.stdout.startsWith("unlimited\n") || r.stderr.includes("error setting rlimit type 8")).toBe(true);
  });

  test("an unknown mode is an error naming it", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=0"], config: '[nvidia-container-runtime]\nmode = "magic"\n' });
    expect(r.stderr).toBe("nvidia-container-runtime: unsupported mode `magic` (nvidia-container-runtime.mode): want auto, legacy, cdi, jit-cdi or csv\n");
    expect(r.after).toBe(r.before);
  });
});

// End to end: real runc containers in the fake host, GPUs given by nvct's prestart hook.
import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIG_ON_ONE, THREE_MIXED, migMinor } from "../fake/driver";
import { scene } from "../setup";
import type { Report } from "./bundle";

const S = scene("e2e-hook", { mixed: THREE_MIXED, mig: MIG_ON_ONE, imex: { ...THREE_MIXED, imexChannels: 4 } });
const container = (o: Parameters<typeof S.container>[0] & { fake?: string } = {}) => S.container({ fake: "mixed", ...o });

const V = "550.54.14";
const UTILITY_LIBS = [`libnvidia-cfg.so.${V}`, `libnvidia-ml.so.${V}`];
const COMPUTE_LIBS = ["libcuda", "libcudadebugger", "libnvidia-allocator", "libnvidia-gpucomp", "libnvidia-nvvm", "libnvidia-opencl", "libnvidia-pkcs11", "libnvidia-ptxjitcompiler"].map((l) => `${l}.so.${V}`);
const DEFAULT_LIBS = [...UTILITY_LIBS, ...COMPUTE_LIBS].sort();
const ALL_NODES_MIXED = ["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"];

describe("hook: which GPUs (NVIDIA_VISIBLE_DEVICES)", () => {
  const nogpu: [string, string[]][] = [
    ["unset", []],
    ["empty", ["NVIDIA_VISIBLE_DEVICES="]],
    ["void", ["NVIDIA_VISIBLE_DEVICES=void"]],
    ["void among ids", ["NVIDIA_VISIBLE_DEVICES=0,void"]],
  ];
  test.each(nogpu)("%s: not a GPU container, nothing injected", (_d, env) => {
    const r = container({ env });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.report).toMatchObject({ nodes: [], libs: [], bins: [], gpus: [], dl: ["dlopen libcuda.so.1: FAIL libcuda.so.1: cannot open shared object file: No such file or directory", "dlopen libnvidia-ml.so.1: FAIL libnvidia-ml.so.1: cannot open shared object file: No such file or directory"] });
  });

  test("none: the driver without GPUs", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=none"] });
    expect(r.status).toBe(0);
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidiactl"]);
    expect(r.report.libs).toEqual(DEFAULT_LIBS);
    expect(r.report.gpus).toEqual([]);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("all: every GPU, nodes open with ENXIO (allowed by the cgroup, no driver behind)", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all"] });
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(ALL_NODES_MIXED);
    expect(r.report.opens.sort()).toEqual(["/dev/nvidia-uvm: ENXIO", "/dev/nvidia0: ENXIO", "/dev/nvidia1: ENXIO", "/dev/nvidia3: ENXIO", "/dev/nvidiactl: ENXIO"].map((s) => `open ${s}`));
    expect(r.report.gpus).toEqual(["0000:07:00.0", "0000:3b:00.0", "0001:86:00.0"]);
  });

  test("0,2: GPUs 0 and 2 (minor 3), GPU 1 absent", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0,2"] });
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia3", "nvidiactl"]);
    expect(r.report.opens).toContain("open /dev/nvidia3: ENXIO");
    expect(r.report.gpus).toEqual(["0000:07:00.0", "0001:86:00.0"]);
    expect(r.report.libs).toEqual(DEFAULT_LIBS);
    expect(r.report.bins).toEqual(["nvidia-cuda-mps-control", "nvidia-cuda-mps-server", "nvidia-debugdump", "nvidia-persistenced", "nvidia-smi"]);
    expect(r.report.ro.length).toBe(DEFAULT_LIBS.length + 5);
    expect(r.report.ro.every((l) => l.endsWith(": EROFS"))).toBe(true);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("a GPU UUID selects that GPU", () => {
    const r = container({ env: [`NVIDIA_VISIBLE_DEVICES=${THREE_MIXED.gpus[1].uuid}`] });
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.report.gpus).toEqual(["0000:3b:00.0"]);
  });

  test("a MIG device: its GPU's node, its capability nodes and access files", () => {
    const r = container({ env: [`NVIDIA_VISIBLE_DEVICES=${MIG_ON_ONE.gpus[0].migs![1].uuid}`], fake: "mig" });
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(["nvidia-caps", "nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidiactl"]);
    expect(r.report.caps).toEqual(["nvidia-cap21", "nvidia-cap22"]);
    expect(r.report.opens).toContain("open /dev/nvidia-caps/nvidia-cap21: ENXIO");
    expect(r.report.migcaps).toEqual(["capabilities/gpu0/mig/gi2/access", "capabilities/gpu0/mig/gi2/ci0/access"]);
    expect(r.report.gpus).toEqual(["0000:10:00.0"]);
  });

  test("an unknown id: the container does not start, the error names the id", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=7"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("nvidia-container-runtime-hook: device error: unknown device `7`");
    expect(r.stdout).toBe("");
  });
});

describe("hook: capabilities", () => {
  const cases: [string, string, (r: Report) => void][] = [
    ["utility only: NVML and nvidia-smi, no CUDA, no uvm", "utility", (r) => {
      expect(r.libs).toEqual(UTILITY_LIBS);
      expect(r.nodes).toEqual(["nvidia0", "nvidia1", "nvidia3", "nvidiactl"]);
      expect(r.bins).toEqual(["nvidia-debugdump", "nvidia-persistenced", "nvidia-smi"]);
      expect(r.dl[0]).toStartWith("dlopen libcuda.so.1: FAIL");
    }],
    ["compute only", "compute", (r) => {
      expect(r.libs).toEqual(COMPUTE_LIBS);
      expect(r.bins).toEqual(["nvidia-cuda-mps-control", "nvidia-cuda-mps-server"]);
    }],
    ["video brings its libraries and compute's", "video", (r) => {
      expect(r.libs).toEqual([...COMPUTE_LIBS, `libnvcuvid.so.${V}`, `libnvidia-encode.so.${V}`, `libnvidia-opticalflow.so.${V}`, `libvdpau_nvidia.so.${V}`].sort());
    }],
    ["graphics", "graphics", (r) => {
      expect(r.libs).toContain(`libGLX_nvidia.so.${V}`);
      expect(r.libs).toContain(`libnvidia-glcore.so.${V}`);
      expect(r.libs).not.toContain(`libcuda.so.${V}`);
      expect(r.nodes).not.toContain("nvidia-modeset");
    }],
    ["all: every library, 32-bit ones, the modeset node", "all", (r) => {
      expect(r.libs.length).toBe(27);
      expect(r.libs32).toEqual(["libGLX_nvidia", "libcuda", "libnvidia-glcore", "libnvidia-ml"].map((l) => `${l}.so.${V}`));
      expect(r.nodes).toContain("nvidia-modeset");
    }],
  ];
  test.each(cases)("%s", (_d, caps, check) => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all", `NVIDIA_DRIVER_CAPABILITIES=${caps}`] });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    check(r.report);
  });

  test("an unknown capability is an error naming it", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=compute, warp"] });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("unknown driver capability `warp`");
  });
});

describe("hook: requirements", () => {
  const cases: [string, string[], string | null][] = [
    ["a requirement that holds", ["NVIDIA_REQUIRE_CUDA=cuda>=12.0 brand=tesla,driver>=470"], null],
    ["a requirement that fails", ["NVIDIA_REQUIRE_CUDA=cuda>=13.0"], "requirement error: unsatisfied condition: cuda>=13.0"],
    ["arch checked on every selected GPU (7.5 fails)", ["NVIDIA_REQUIRE_ARCH=arch>=8.0"], "unsatisfied condition: arch>=8.0"],
    ["NVIDIA_DISABLE_REQUIRE skips them", ["NVIDIA_REQUIRE_CUDA=cuda>=13.0", "NVIDIA_DISABLE_REQUIRE=true"], null],
    ["legacy image: CUDA_VERSION implies cuda>=major.minor, and all GPUs", ["CUDA_VERSION=12.4.1"], null],
    ["legacy image too new for the driver", ["CUDA_VERSION=13.1.0"], "unsatisfied condition: cuda>=13.1"],
    ["NVIDIA_REQUIRE_JETPACK is not checked", ["NVIDIA_REQUIRE_JETPACK=cuda>=99"], null],
  ];
  test.each(cases)("%s", (_d, env, error) => {
    const visible = env.some((e) => e.startsWith("CUDA_VERSION")) ? [] : ["NVIDIA_VISIBLE_DEVICES=all"];
    const r = container({ env: [...visible, ...env] });
    if (error === null) {
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      // A legacy image gets every capability, display's modeset node included.
      expect(r.report.nodes.filter((n) => n !== "nvidia-modeset")).toEqual(ALL_NODES_MIXED);
    } else {
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(error);
    }
  });
});

describe("hook: policy", () => {
  const cases: [string, boolean, string, boolean][] = [
    ["unprivileged, envvar accepted (default)", false, "", true],
    ["privileged, envvar accepted (default)", true, "", true],
    ["unprivileged, envvar refused", false, "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n", false],
    ["privileged, envvar refused", true, "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n", true],
  ];
  test.each(cases)("%s", (_d, privileged, config, gets) => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all"], privileged, config });
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(gets ? ALL_NODES_MIXED : []);
  });

  test("volume-mount device list: the mounts decide, the env is ignored", () => {
    const r = container({
      env: ["NVIDIA_VISIBLE_DEVICES=all"],
      config: "accept-nvidia-visible-devices-as-volume-mounts = true\naccept-nvidia-visible-devices-envvar-when-unprivileged = false\n",
      mounts: [{ destination: "/var/run/nvidia-container-devices/1", source: "/dev/null", type: "bind", options: ["bind", "ro"] }],
    });
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
  });

  test("MIG config in an unprivileged container is refused", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=all"], fake: "mig" });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("cannot set NVIDIA_MIG_CONFIG_DEVICES in an unprivileged container");
  });

  test("MIG config in a privileged container gets the config capability", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=all"], privileged: true, fake: "mig" });
    expect(r.stderr).toBe("");
    expect(r.report.caps).toContain("nvidia-cap1");
    expect(r.report.migcaps).toContain("capabilities/mig/config");
  });

  test("the hook refuses the runtime's modes (cdi, jit-cdi; auto with CDI names), telling the user to use the runtime, as the reference", () => {
    for (const [env, config, mode] of [
      [["NVIDIA_VISIBLE_DEVICES=all"], '[nvidia-container-runtime]\nmode = "cdi"\n', "cdi"],
      [["NVIDIA_VISIBLE_DEVICES=0"], '[nvidia-container-runtime]\nmode = "jit-cdi"\n', "jit-cdi"],
      [["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0"], "", "cdi"],
    ] as const) {
      const r = container({ env: [...env], config });
      expect(r.status).not.toBe(0);
      expect(r.stderr).toContain(`nvidia-container-runtime-hook: invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported in ${mode} mode. Please use the NVIDIA Container Runtime (e.g. specify the --runtime=nvidia flag) instead`);
      expect(r.stdout).toBe("");
    }
    // auto with an index is legacy to the hook, whatever the runtime's auto is.
    expect(container({ env: ["NVIDIA_VISIBLE_DEVICES=0"] }).report.nodes).toContain("nvidia0");
  });
});

describe("hook: the debug log, where operators look", () => {
  test("libnvidia-container's form (banner, then I/E lines with time, pid and tool): the request and where it came from, each step, the GPUs, the time of each phase", () => {
    const file = join(S.dir("log"), "nvidia-container-toolkit.log");
    const config = `[nvidia-container-cli]\ndebug = "${file}"\n`;
    expect(container({ env: ["NVIDIA_VISIBLE_DEVICES=1"], config }).status).toBe(0);
    expect(container({ env: ["NVIDIA_VISIBLE_DEVICES=7"], config }).status).not.toBe(0);
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("\n-- WARNING, the following logs are for debugging purposes only --\n\n")).toBe(true);
    const lines = text.split("\n").filter((l) => /^[IWE]\d{4} /.test(l));
    for (const l of lines) expect(l).toMatch(/^[IWE]\d{4} \d\d:\d\d:\d\d\.\d{6} \d+ nvidia-container-runtime-hook\] \S/);
    const msgs = lines.map((l) => l.slice(l.indexOf("] ") + 2));
    expect(msgs).toContain("requested devices 1 from NVIDIA_VISIBLE_DEVICES; capabilities compute,utility");
    expect(msgs).toContain("node     /dev/nvidia1 (195:1) from /dev/nvidia1 ro,nosuid,noexec");
    expect(msgs.some((m) => /^selected GPUs 1; \d+ steps applied$/.test(m))).toBe(true);
    expect(msgs.filter((m) => /^phases: entry \d+\.\d\d ms, hook \d+\.\d\d ms, config \d+\.\d\d ms, spec \d+\.\d\d ms, request \d+\.\d\d ms/.test(m)).length).toBe(2);
    expect(lines.filter((l) => l.startsWith("E"))).toHaveLength(1);
    expect(lines.find((l) => l.startsWith("E"))).toEndWith("] device error: unknown device `7`");
  });
});

describe("hook: layouts", () => {
  test("a non-Debian rootfs gets /usr/lib64, found by name through its ld.so.cache", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0"], debian: false });
    expect(r.stderr).toBe("");
    expect(r.report.libs).toEqual(DEFAULT_LIBS);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("a driver under /run/nvidia/driver (driver root)", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=1"], config: '[nvidia-container-cli]\nroot = "/run/nvidia/driver"\n', driverRoot: true });
    expect(r.stderr).toBe("");
    expect(r.report.nodes).toEqual(["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"]);
    expect(r.report.libs).toEqual(DEFAULT_LIBS);
    expect(r.report.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });
});

describe("hook: IMEX channels", () => {
  const script = "ls /dev/nvidia-caps-imex-channels; probe open /dev/nvidia-caps-imex-channels/channel1 /dev/nvidia-caps-imex-channels/channel3";
  test("NVIDIA_IMEX_CHANNELS gives exactly those channel nodes, allowed by the cgroup", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=1,3"], fake: "imex", script });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("channel1\nchannel3\nopen /dev/nvidia-caps-imex-channels/channel1: ENXIO\nopen /dev/nvidia-caps-imex-channels/channel3: ENXIO\n");
  });
  test("all: every channel the driver has", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=all"], fake: "imex", script: "ls /dev/nvidia-caps-imex-channels | tr '\\n' ' '" });
    expect(r.stderr).toBe("");
    expect(r.stdout).toBe("channel0 channel1 channel2 channel3 ");
  });
  test("a channel the driver lacks: an error naming its node", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=7"], fake: "imex", script });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("nvidia-container-runtime-hook: device error: `/dev/nvidia-caps-imex-channels/channel7` is missing");
  });
});

describe("hook: the driver's nodes", () => {
  test("a node whose rdev is not the GPU's is refused, by name", () => {
    const odd = S.dir("odd");
    const { buildFakeDriver } = require("../fake/driver");
    buildFakeDriver(odd, THREE_MIXED);
    const f = join(odd, "devnodes");
    writeFileSync(f, readFileSync(f, "utf8").replace("nvidia1 c 195 1\n", "nvidia1 c 195 7\n"));
    const b = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=1"] });
    const r = require("../setup").inFakeHost(odd, ["runc", "--root", join(b, "runc-state"), "run", "--bundle", b, `odd-${process.pid}`]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("nvidia-container-runtime-hook: device error: `/dev/nvidia1` is 195:7, expected 195:1");
  });
});

describe("hook: the inventory cache", () => {
  test("NVML is asked once; the cache holds while procfs says the same; a change asks NVML again", () => {
    const f = S.dir("cache-driver");
    const { buildFakeDriver } = require("../fake/driver");
    buildFakeDriver(f, THREE_MIXED);
    const cache = join(S.work, "cache");
    const config = `[nvct]\ncache-dir = "${cache}"\n`;
    const { inFakeHost } = require("../setup");
    const run = (env: string[]) => {
      const b = S.bundle({ env, config });
      const r = inFakeHost(f, ["runc", "--root", join(b, "runc-state"), "run", "--bundle", b, `cache-${process.pid}-${Math.random().toString(36).slice(2)}`]);
      return { ...r, report: require("./bundle").parseReport(r.stdout) as Report };
    };
    const first = run(["NVIDIA_VISIBLE_DEVICES=1"]);
    expect(first.report.nodes).toContain("nvidia1");
    expect(require("node:fs").readdirSync(cache).filter((n: string) => n.startsWith("inventory-")).length).toBe(1);
    // From now on NVML fails: a start that still works did not ask it.
    const conf = join(f, "root/usr/lib/x86_64-linux-gnu/fake-nvml.conf");
    writeFileSync(conf, readFileSync(conf, "utf8") + "fail nvmlInit_v2 9\n");
    const second = run(["NVIDIA_VISIBLE_DEVICES=2"]);
    expect(second.stderr).toBe("");
    expect(second.report.nodes).toContain("nvidia3");
    // The driver now reports something else for a GPU: the cache is stale, NVML is asked.
    const info = join(f, "proc-driver/nvidia/gpus/0000:07:00.0/information");
    writeFileSync(info, readFileSync(info, "utf8").replace("NVIDIA A100-SXM4-40GB", "NVIDIA A100-SXM4-80GB"));
    const third = run(["NVIDIA_VISIBLE_DEVICES=0"]);
    expect(third.status).not.toBe(0);
    expect(third.stderr).toContain("initialization error: nvml error: nvmlInit_v2: Driver Not Loaded");
    rmSync(cache, { recursive: true, force: true });
  });
});

describe("hook: the host afterwards, seen from the fake host", () => {
  const WATCH = ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/dev"];
  test("a GPU container and a failed one leave the mount table, /dev, the ld cache and the driver's files as they were", () => {
    // Each start must get as far as the hook: a container that never ran it would leave the host as it was too.
    const ok = container({ env: ["NVIDIA_VISIBLE_DEVICES=all"], watch: WATCH });
    expect(ok.status).toBe(0);
    expect(ok.report.nodes).toContain("nvidia0");
    expect(ok.host!.after).toBe(ok.host!.before);
    const failed = container({ env: ["NVIDIA_VISIBLE_DEVICES=9"], watch: WATCH });
    expect(failed.status).not.toBe(0);
    expect(failed.stderr).toContain("unknown device `9`");
    expect(failed.host!.after).toBe(failed.host!.before);
  });

  test("the check sees what it must: a prestart hook that leaks a mount onto a host file is caught", () => {
    const victim = S.dir("victim");
    writeFileSync(join(victim, "keep"), "host file\n");
    const leak = S.file("leak.sh", `#!/bin/sh\nmount --bind /etc/hostname ${victim}/keep\n`);
    require("node:fs").chmodSync(leak, 0o755);
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all"], hook: { path: leak, args: [leak] }, watch: [victim] });
    expect(r.status).toBe(0);
    expect(r.host!.after).not.toBe(r.host!.before);
    // From the test's own namespace the leaked mount is invisible: that is why the check runs inside.
    expect(readFileSync(join(victim, "keep"), "utf8")).toBe("host file\n");
  });
});

describe("hook: what the reference gives, on a driver that looks like the real one", () => {
  test("/proc/driver/nvidia: the selected GPUs' directories bound read-only (16-bit domain names, all their files), params with ModifyDeviceFiles: 0", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=2"] });
    expect(r.stderr).toBe("");
    expect(r.report.gpus).toEqual(["0001:86:00.0"]);
    expect(r.report.procfiles).toEqual(["gpus/0001:86:00.0/information", "gpus/0001:86:00.0/power", "gpus/0001:86:00.0/registry", "params", "registry", "version"]);
    // The fake host's kernel has no nvidia module, so the container's own procfs has no
    // /proc/driver/nvidia: the tmpfs goes on /proc/driver, holding it (on a real host, on it).
    expect(r.report.procmounts).toEqual(["/proc/driver/nvidia/gpus/0001:86:00.0=ro,nosuid,nodev,noexec,relatime", "/proc/driver=ro,nosuid,nodev,noexec,relatime"]);
    expect(r.report.params).toBe("ModifyDeviceFiles: 0");
  });

  test("a selected GPU without its procfs directory: an error naming the directory, nothing started", () => {
    const missing = S.dir("noproc");
    const { buildFakeDriver } = require("../fake/driver");
    buildFakeDriver(missing, THREE_MIXED);
    rmSync(join(missing, "proc-driver/nvidia/gpus/0000:3b:00.0"), { recursive: true });
    const b = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=1"] });
    const run = require("../setup").inFakeHost(missing, ["runc", "--root", join(b, "runc-state"), "run", "--bundle", b, `noproc-${process.pid}`]);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toContain("nvidia-container-runtime-hook: mount error: no `/proc/driver/nvidia/gpus/0000:3b:00.0` for GPU 1 (00000000:3b:00.0)");
    expect(run.stdout).toBe("");
  });

  test("IPC sockets where the host's path resolves: /run, not /var/run", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=0"] });
    expect(r.report.ipcs).toEqual(["/run/nvidia-fabricmanager/socket", "/run/nvidia-persistenced/socket"]);
  });

  const firmware = ["gsp_ga10x.bin", "gsp_tu10x.bin"];
  const perCaps: [string, string, (r: Report) => void][] = [
    ["utility", "utility", (r) => expect(r.links).toEqual([])],
    ["video: its libraries, libnvidia-opticalflow.so, and compute's libcuda.so", "video", (r) => expect(r.links).toEqual(["libcuda.so->libcuda.so.1", "libnvidia-opticalflow.so->libnvidia-opticalflow.so.1"])],
    ["graphics: libGLX_indirect.so.0 and the application profile naming its GPUs", "graphics", (r) => {
      expect(r.links).toEqual([`libGLX_indirect.so.0->libGLX_nvidia.so.${V}`]);
      expect(r.profile).toBe('{ "profiles": [{"name": "_container_", "settings": ["EGLVisibleDGPUDevices", 0xa]}], "rules": [{"pattern": [], "profile": "_container_"}]}');
    }],
    ["display: as graphics, with the modeset node", "display", (r) => {
      expect(r.nodes).toContain("nvidia-modeset");
      expect(r.profile).toContain("0xa");
    }],
  ];
  test.each(perCaps)("GSP firmware whatever the capabilities; %s", (_d, caps, check) => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=1,2", `NVIDIA_DRIVER_CAPABILITIES=${caps}`] });
    expect(r.stderr).toBe("");
    expect(r.report.firmware).toEqual(firmware);
    check(r.report);
  });

  test("all on a MIG host: every MIG device's capability nodes and access files", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all"], fake: "mig" });
    expect(r.stderr).toBe("");
    const m = MIG_ON_ONE.gpus[0].migs!;
    expect(r.report.caps).toEqual(m.flatMap((x) => [migMinor(0, x.gi), migMinor(0, x.gi, x.ci)]).sort((a, b) => String(a).localeCompare(String(b))).map((n) => `nvidia-cap${n}`));
    expect(r.report.migcaps).toEqual(["capabilities/gpu0/mig/gi1/access", "capabilities/gpu0/mig/gi1/ci0/access", "capabilities/gpu0/mig/gi2/access", "capabilities/gpu0/mig/gi2/ci0/access"]);
    expect(r.report.opens).toContain(`open /dev/nvidia-caps/nvidia-cap${migMinor(0, 1)}: ENXIO`);
  });

  test("MIG config: the whole /dev/nvidia-caps and /proc/driver/nvidia/capabilities, to create instances with", () => {
    const r = container({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_MIG_CONFIG_DEVICES=all"], privileged: true, fake: "mig" });
    expect(r.stderr).toBe("");
    expect(r.report.caps).toEqual(readFileSync(join(S.driver("mig"), "devnodes"), "utf8").split("\n").filter((l) => l.startsWith("nvidia-caps/")).map((l) => l.split(" ")[0].slice(12)).sort());
    expect(r.report.migcaps).toEqual(["capabilities/gpu0/mig/gi1/access", "capabilities/gpu0/mig/gi1/ci0/access", "capabilities/gpu0/mig/gi2/access", "capabilities/gpu0/mig/gi2/ci0/access", "capabilities/mig/config", "capabilities/mig/monitor"]);
    // The config capability and any instance's are allowed by the device cgroup, even one not yet made.
    expect(r.report.opens).toContain("open /dev/nvidia-caps/nvidia-cap1: ENXIO");
  });
});

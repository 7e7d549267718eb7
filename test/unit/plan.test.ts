// The core's plan: which files and nodes go where with which flags, in which order; the device
// cgroup's part; and each way it refuses.
import { describe, expect, test } from "bun:test";
import { core, type Op, type Plan } from "../../src/core";
import { facts, failure, gpu, L, planInput, V } from "./fixture";

const ONE = facts([gpu(0)]);

function summary(p: Plan): string[] {
  return p.ops.map((o: Op) => {
    switch (o.tag) {
      case "device":
        return `device ${o.val.path}${o.val.bind ? "" : " (rule only)"} ${o.val.mountFlags.join(",")}`;
      case "bind":
        return `${o.val.kind} ${o.val.host} -> ${o.val.path} ${o.val.mountFlags.join(",")}`;
      case "symlink":
        return `link ${o.val.dir}/${o.val.name} -> ${o.val.target}`;
      case "procfs":
      case "tmpfs":
        return `${o.tag} ${o.val.path} ${o.val.files.map((f) => f.path).join(",")} ${o.val.mountFlags.join(",")}`;
      case "ldcache":
        return `ldcache ${o.val.entries.map((e) => `${e.name}:${e.bits}`).join(",")}`;
      default:
        return o.tag;
    }
  });
}

const plan = (inj: Parameters<typeof planInput>[0], d = ONE, o: Parameters<typeof planInput>[2] = {}) => core().plan(planInput(inj, d, o));

describe("plan", () => {
  test("utility,compute: the tmpfs first, then nodes ro,nosuid,noexec; files ro,nosuid,nodev; sockets writable; links; cache", () => {
    expect(summary(plan({ devices: ["0"] }))).toEqual([
      "procfs /proc/driver/nvidia params,version,registry ro,nosuid,nodev,noexec",
      "device /dev/nvidiactl ro,nosuid,noexec",
      "device /dev/nvidia-uvm ro,nosuid,noexec",
      "device /dev/nvidia-uvm-tools ro,nosuid,noexec",
      "device /dev/nvidia0 ro,nosuid,noexec",
      `file ${L}/libnvidia-ml.so.${V} -> ${L}/libnvidia-ml.so.${V} ro,nosuid,nodev`,
      `file ${L}/libcuda.so.${V} -> ${L}/libcuda.so.${V} ro,nosuid,nodev`,
      "file /usr/bin/nvidia-smi -> /usr/bin/nvidia-smi ro,nosuid,nodev",
      "file /usr/bin/nvidia-cuda-mps-control -> /usr/bin/nvidia-cuda-mps-control ro,nosuid,nodev",
      `file /usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin -> /lib/firmware/nvidia/${V}/gsp_ga10x.bin ro,nosuid,nodev`,
      "socket /run/nvidia-persistenced/socket -> /run/nvidia-persistenced/socket nosuid,nodev,noexec",
      // The GPU's procfs directory, live and read-only, as the reference binds it.
      "dir /proc/driver/nvidia/gpus/0000:18:00.0 -> /proc/driver/nvidia/gpus/0000:18:00.0 ro,nosuid,nodev,noexec",
      `link ${L}/libnvidia-ml.so.1 -> libnvidia-ml.so.${V}`,
      `link ${L}/libcuda.so.1 -> libcuda.so.${V}`,
      `link ${L}/libcuda.so -> libcuda.so.1`,
      "ldcache libnvidia-ml.so.1:64,libcuda.so.1:64",
    ]);
  });

  test("params are shown with ModifyDeviceFiles: 0; a driver file missing is a warning, not silence", () => {
    const d = facts([gpu(0)], { procfs: ["params", "gpus/0000:18:00.0/information"] });
    const p = plan({ devices: ["0"] }, d);
    const proc = p.ops[0];
    expect(proc.tag).toBe("procfs");
    if (proc.tag !== "procfs") return;
    expect(proc.val.files.find((f) => f.path === "params")?.content).toBe("ResmanDebugLevel: 4294967295\nModifyDeviceFiles: 0\n");
    expect(p.warnings).toEqual(["/proc/driver/nvidia/version not found; skipping", "/proc/driver/nvidia/registry not found; skipping"]);
  });

  test("a GPU's procfs directory: NVML's 32-bit domain form when there, else the driver's 16-bit one; neither is an error", () => {
    const long = facts([gpu(0)], { procfs: ["gpus/00000000:18:00.0/information"] });
    const p = plan({ devices: ["0"] }, long);
    expect(p.ops[0].tag === "procfs" && p.ops[0].val.dirs).toEqual(["gpus/00000000:18:00.0"]);
    expect(summary(p)).toContain("dir /proc/driver/nvidia/gpus/00000000:18:00.0 -> /proc/driver/nvidia/gpus/00000000:18:00.0 ro,nosuid,nodev,noexec");
    expect(failure(() => plan({ devices: ["0"] }, facts([gpu(0)], { procfs: ["params"] })))).toEqual({ code: "procfs-missing", message: "no `/proc/driver/nvidia/gpus/0000:18:00.0` for GPU 0 (00000000:18:00.0)" });
  });

  test("utility only: no uvm, no CUDA, no MPS, firmware still", () => {
    const s = summary(plan({ devices: ["0"], caps: ["utility"] }));
    expect(s.some((l) => l.includes("uvm") || l.includes("cuda"))).toBe(false);
    expect(s).toContain("file /usr/bin/nvidia-smi -> /usr/bin/nvidia-smi ro,nosuid,nodev");
    expect(s).toContain(`file /usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin -> /lib/firmware/nvidia/${V}/gsp_ga10x.bin ro,nosuid,nodev`);
  });

  test("display: the modeset node, graphics libraries, libGLX_indirect.so.0, the application profile; compat32 the 32-bit ones", () => {
    const s = summary(plan({ devices: ["0"], caps: ["compat32", "compute", "display"] }));
    expect(s).toContain("device /dev/nvidia-modeset ro,nosuid,noexec");
    expect(s).toContain(`file ${L}/libnvidia-glcore.so.${V} -> ${L}/libnvidia-glcore.so.${V} ro,nosuid,nodev`);
    expect(s).toContain(`link ${L}/libGLX_indirect.so.0 -> libGLX_nvidia.so.${V}`);
    expect(s).toContain("tmpfs /etc/nvidia/nvidia-application-profiles-rc.d 10-container.conf nosuid,nodev,noexec");
    expect(s).toContain(`file /usr/lib/i386-linux-gnu/libcuda.so.${V} -> /usr/lib/i386-linux-gnu/libcuda.so.${V} ro,nosuid,nodev`);
    expect(s).toContain(`link /usr/lib/i386-linux-gnu/libcuda.so.1 -> libcuda.so.${V}`);
  });

  describe("graphics", () => {
    const BUS = "00000000:18:00.0";
    const GFX = facts([gpu(0), gpu(1, { busId: "00000000:3b:00.0" })], {
      drm: [
        {
          busId: BUS,
          nodes: [{ path: "/dev/dri/card1", major: 226, minor: 1 }, { path: "/dev/dri/renderD128", major: 226, minor: 128 }],
          // The card0 link names a node that is not this GPU's: it is not made.
          links: [{ path: "/dev/dri/by-path/pci-0000:18:00.0-card", target: "../card1" }, { path: "/dev/dri/by-path/pci-0000:18:00.0-render", target: "../renderD128" }, { path: "/dev/dri/by-path/pci-0000:02:00.0-card", target: "../card0" }],
        },
        { busId: "00000000:3b:00.0", nodes: [{ path: "/dev/dri/card2", major: 226, minor: 2 }], links: [] },
      ],
      graphics: [
        { path: "/usr/share/glvnd/egl_vendor.d/10_nvidia.json", resolved: "/usr/share/glvnd/egl_vendor.d/10_nvidia.json" },
        { path: "/usr/share/vulkan/icd.d/nvidia_icd.json", resolved: "/usr/share/vulkan/icd.d/nvidia_icd.json" },
        { path: "/etc/OpenCL/vendors/nvidia.icd", resolved: "/etc/OpenCL/vendors/nvidia.icd" },
        { path: `${L}/nvidia/xorg/libglxserver_nvidia.so.${V}`, resolved: `${L}/nvidia/xorg/libglxserver_nvidia.so.${V}` },
        // A module of another driver version is not this driver's.
        { path: "/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.470.1", resolved: "/usr/lib/xorg/modules/extensions/libglxserver_nvidia.so.470.1" },
      ],
    });

    test("a whole GPU's DRM nodes (allowed by the cgroup) and its by-path links; the files at the toolkit's container paths; the Xorg module where the host has it", () => {
      const p = plan({ devices: ["0"], caps: ["graphics"] }, GFX);
      const s = summary(p);
      expect(s).toContain("device /dev/dri/card1 ro,nosuid,noexec");
      expect(s).toContain("device /dev/dri/renderD128 ro,nosuid,noexec");
      expect(s.some((l) => l.includes("card2"))).toBe(false);
      expect(s.filter((l) => l.startsWith("link /dev/dri"))).toEqual(["link /dev/dri/by-path/pci-0000:18:00.0-card -> ../card1", "link /dev/dri/by-path/pci-0000:18:00.0-render -> ../renderD128"]);
      expect(p.cgroup.rules).toContain("c 226:1 rw");
      expect(s).toContain("file /usr/share/glvnd/egl_vendor.d/10_nvidia.json -> /usr/share/glvnd/egl_vendor.d/10_nvidia.json ro,nosuid,nodev");
      // Vulkan and OpenCL under /etc in the container, wherever the host keeps them.
      expect(s).toContain("file /usr/share/vulkan/icd.d/nvidia_icd.json -> /etc/vulkan/icd.d/nvidia_icd.json ro,nosuid,nodev");
      expect(s).toContain("file /etc/OpenCL/vendors/nvidia.icd -> /etc/OpenCL/vendors/nvidia.icd ro,nosuid,nodev");
      expect(s).toContain(`link ${L}/nvidia/xorg/libglxserver_nvidia.so -> libglxserver_nvidia.so.${V}`);
      expect(s.some((l) => l.includes("470.1"))).toBe(false);
    });

    test("without graphics or display: none of it", () => {
      const s = summary(plan({ devices: ["0"], caps: ["compute", "utility"] }, GFX));
      expect(s.some((l) => l.includes("/dev/dri") || l.includes("vulkan") || l.includes("xorg"))).toBe(false);
    });
  });

  test("video: libnvidia-opticalflow.so", () => {
    expect(summary(plan({ devices: ["0"], caps: ["video"] }))).toContain(`link ${L}/libnvidia-opticalflow.so -> libnvidia-opticalflow.so.1`);
  });

  test("a library not of this driver's version is left out", () => {
    expect(summary(plan({ devices: ["0"], caps: ["utility"] })).some((l) => l.includes("470.1"))).toBe(false);
  });

  test("a non-Debian rootfs: lib64, and lib32 where it has one (else lib)", () => {
    const s = summary(plan({ devices: ["0"], caps: ["compute", "compat32"] }, ONE, { rootfs: { debian: false, lib32: false } }));
    expect(s).toContain(`file ${L}/libcuda.so.${V} -> /usr/lib64/libcuda.so.${V} ro,nosuid,nodev`);
    expect(s).toContain(`file /usr/lib/i386-linux-gnu/libcuda.so.${V} -> /usr/lib/libcuda.so.${V} ro,nosuid,nodev`);
  });

  test("device cgroup: v1 rules; v2 a prologue of 8 instructions a node after 6; none without a cgroup", () => {
    expect(plan({ devices: ["0"] }).cgroup.rules).toEqual(["c 195:255 rw", "c 510:0 rw", "c 510:1 rw", "c 195:0 rw"]);
    const v2 = plan({ devices: ["0"] }, ONE, { cgroup: "v2" }).cgroup;
    expect(v2.rules).toEqual([]);
    expect(v2.prologue.length).toBe(8 * (6 + 8 * 4));
    expect(plan({ devices: ["0"] }, ONE, { cgroup: "none" }).cgroup).toEqual({ rules: [], prologue: new Uint8Array() });
  });

  test("--no-devbind: the nodes are allowed, not bound", () => {
    const p = plan({ devices: ["0"], noDevbind: true });
    expect(summary(p).filter((l) => l.startsWith("device"))).toEqual(["device /dev/nvidiactl (rule only) ro,nosuid,noexec", "device /dev/nvidia-uvm (rule only) ro,nosuid,noexec", "device /dev/nvidia-uvm-tools (rule only) ro,nosuid,noexec", "device /dev/nvidia0 (rule only) ro,nosuid,noexec"]);
    expect(p.cgroup.rules.length).toBe(4);
  });

  const MIG = facts([gpu(0, { migEnabled: true, migs: [{ index: 0, gi: 1, ci: 0, uuid: "MIG-a" }, { index: 1, gi: 2, ci: 0, uuid: "MIG-b" }] })]);
  test("all on a MIG GPU: every MIG device's capability nodes and access files", () => {
    const s = summary(plan({ devices: ["all"] }, MIG));
    expect(s.filter((l) => l.includes("nvidia-cap"))).toEqual(["device /dev/nvidia-caps/nvidia-cap12 ro,nosuid,noexec", "device /dev/nvidia-caps/nvidia-cap13 ro,nosuid,noexec", "device /dev/nvidia-caps/nvidia-cap21 ro,nosuid,noexec", "device /dev/nvidia-caps/nvidia-cap22 ro,nosuid,noexec"]);
    expect(s[0]).toContain("capabilities/gpu0/mig/gi1/access,capabilities/gpu0/mig/gi1/ci0/access,capabilities/gpu0/mig/gi2/access,capabilities/gpu0/mig/gi2/ci0/access");
  });

  test("MIG config all: the capability trees bound, every capability of the GPU allowed", () => {
    const p = plan({ devices: ["all"], migConfig: "all" }, MIG);
    const s = summary(p);
    expect(s).toContain("dir /proc/driver/nvidia/capabilities -> /proc/driver/nvidia/capabilities ro,nosuid,nodev,noexec");
    expect(s).toContain("dir /dev/nvidia-caps -> /dev/nvidia-caps nosuid,noexec");
    expect(s.some((l) => l.includes("/dev/nvidia-caps/nvidia-cap"))).toBe(false);
    expect(p.ops[0].tag === "procfs" && p.ops[0].val.dirs).toEqual(["capabilities", "gpus/0000:18:00.0"]);
    // config (1) and the 135 capabilities of GPU 0.
    expect(p.cgroup.rules.filter((r) => r.startsWith("c 511:"))).toEqual(["c 511:1 rw", ...Array.from({ length: 135 }, (_, i) => `c 511:${3 + i} rw`)]);
  });

  test("IMEX channels: the named ones, or all the driver has", () => {
    const d = facts([gpu(0)], {
      majors: [{ name: "nvidia-uvm", value: 510 }, { name: "nvidia-caps-imex-channels", value: 509 }],
      nodes: [...ONE.nodes, { path: "/dev/nvidia-caps-imex-channels/channel0", major: 509, minor: 0 }, { path: "/dev/nvidia-caps-imex-channels/channel2", major: 509, minor: 2 }],
    });
    expect(summary(plan({ devices: ["0"], imex: ["2"] }, d)).filter((l) => l.includes("imex"))).toEqual(["device /dev/nvidia-caps-imex-channels/channel2 ro,nosuid,noexec"]);
    expect(summary(plan({ devices: ["0"], imex: ["all"] }, d)).filter((l) => l.includes("imex")).length).toBe(2);
    expect(failure(() => plan({ devices: ["0"], imex: ["1"] }, d))).toEqual({ code: "device-missing", message: "`/dev/nvidia-caps-imex-channels/channel1` is missing" });
    expect(failure(() => plan({ devices: ["0"], imex: ["1"] }))).toEqual({ code: "imex-unsupported", message: "IMEX channel `1` requested but the driver has no nvidia-caps-imex-channels" });
  });

  const refusals: [string, () => unknown, string, string][] = [
    ["a GPU node with another rdev", () => plan({ devices: ["0"] }, facts([gpu(0)], { nodes: [{ path: "/dev/nvidiactl", major: 195, minor: 255 }, { path: "/dev/nvidia0", major: 195, minor: 7 }] })), "device-mismatch", "`/dev/nvidia0` is 195:7, expected 195:0"],
    ["a GPU node missing", () => plan({ devices: ["0"] }, facts([gpu(0)], { nodes: [{ path: "/dev/nvidiactl", major: 195, minor: 255 }] })), "device-missing", "`/dev/nvidia0` is missing"],
    ["no nvidiactl", () => plan({ devices: [] }, facts([gpu(0)], { nodes: [] })), "device-missing", "`/dev/nvidiactl` is missing"],
    ["a uvm node of another major", () => plan({ devices: [] }, facts([gpu(0)], { majors: [{ name: "nvidia-uvm", value: 500 }] })), "device-mismatch", "`/dev/nvidia-uvm` is 510:0, but nvidia-uvm is major 500"],
  ];
  test.each(refusals)("refuses %s", (_d, f, code, message) => expect(failure(f)).toEqual({ code, message }));
});

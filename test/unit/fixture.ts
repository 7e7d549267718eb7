// Driver facts as the host would gather them, for the core's unit tables: an inventory, the
// device nodes of each GPU, the driver's files, procfs. Paths under /drv are the driver root's.
import type { DriverFacts, GpuFact, Injection, PlanInput } from "../../src/core";

export const L = "/usr/lib/x86_64-linux-gnu";
export const V = "550.54.14";

export const gpu = (index: number, o: Partial<GpuFact> = {}): GpuFact => ({
  index,
  minor: index,
  uuid: `GPU-${String(index).repeat(4)}`,
  busId: `00000000:${(0x18 + index).toString(16)}:00.0`,
  model: "NVIDIA H100",
  brand: "Tesla",
  arch: "9.0",
  migCapable: true,
  migEnabled: false,
  migs: [],
  ...o,
});

/** Facts of a driver with these GPUs: every node present with its rdev, procfs for each GPU. */
export function facts(gpus: GpuFact[], o: Partial<DriverFacts> = {}): DriverFacts {
  const procBus = (g: GpuFact) => g.busId.slice(4);
  return {
    root: "/",
    devRoot: "/",
    inventory: { driver: V, cuda: "12.4", gpus },
    libraries: [
      { name: "libnvidia-ml.so.1", path: `${L}/libnvidia-ml.so.1`, resolved: `${L}/libnvidia-ml.so.${V}`, bits: 64 },
      { name: "libcuda.so.1", path: `${L}/libcuda.so.1`, resolved: `${L}/libcuda.so.${V}`, bits: 64 },
      { name: "libcuda.so", path: `${L}/libcuda.so`, resolved: `${L}/libcuda.so.${V}`, bits: 64 },
      { name: "libcuda.so.1", path: "/usr/lib/i386-linux-gnu/libcuda.so.1", resolved: `/usr/lib/i386-linux-gnu/libcuda.so.${V}`, bits: 32 },
      { name: `libnvidia-glcore.so.${V}`, path: `${L}/libnvidia-glcore.so.${V}`, resolved: `${L}/libnvidia-glcore.so.${V}`, bits: 64 },
      { name: "libGLX_nvidia.so.0", path: `${L}/libGLX_nvidia.so.0`, resolved: `${L}/libGLX_nvidia.so.${V}`, bits: 64 },
      { name: "libnvidia-opticalflow.so.1", path: `${L}/libnvidia-opticalflow.so.1`, resolved: `${L}/libnvidia-opticalflow.so.${V}`, bits: 64 },
      { name: "libnvidia-old.so.1", path: `${L}/libnvidia-ml-old.so.1`, resolved: `${L}/libnvidia-ml.so.470.1`, bits: 64 },
    ],
    binaries: [
      { path: "/usr/bin/nvidia-smi", resolved: "/usr/bin/nvidia-smi" },
      { path: "/usr/bin/nvidia-cuda-mps-control", resolved: "/usr/bin/nvidia-cuda-mps-control" },
    ],
    firmware: [
      { path: `/lib/firmware/nvidia/${V}/gsp_ga10x.bin`, resolved: `/usr/lib/firmware/nvidia/${V}/gsp_ga10x.bin` },
      { path: `/lib/firmware/nvidia/${V}/README`, resolved: `/usr/lib/firmware/nvidia/${V}/README` },
    ],
    ipcs: [{ path: "/var/run/nvidia-persistenced/socket", resolved: "/run/nvidia-persistenced/socket", dir: false }],
    nodes: [
      { path: "/dev/nvidiactl", major: 195, minor: 255 },
      { path: "/dev/nvidia-uvm", major: 510, minor: 0 },
      { path: "/dev/nvidia-uvm-tools", major: 510, minor: 1 },
      { path: "/dev/nvidia-modeset", major: 195, minor: 254 },
      ...gpus.map((g) => ({ path: `/dev/nvidia${g.minor}`, major: 195, minor: g.minor })),
      { path: "/dev/nvidia-caps/nvidia-cap1", major: 511, minor: 1 },
      { path: "/dev/nvidia-caps/nvidia-cap2", major: 511, minor: 2 },
      ...gpus.flatMap((g) => g.migs.flatMap((m) => [3 + g.minor * 135 + m.gi * 9, 3 + g.minor * 135 + m.gi * 9 + m.ci + 1])).map((n) => ({ path: `/dev/nvidia-caps/nvidia-cap${n}`, major: 511, minor: n })),
    ],
    files: [],
    majors: [{ name: "nvidia-uvm", value: 510 }, { name: "nvidia-caps", value: 511 }],
    migMinors: [
      { name: "config", value: 1 },
      { name: "monitor", value: 2 },
      ...gpus.flatMap((g) => Array.from({ length: 15 }, (_, gi) => [{ name: `gpu${g.minor}/gi${gi}/access`, value: 3 + g.minor * 135 + gi * 9 }, ...Array.from({ length: 8 }, (_, ci) => ({ name: `gpu${g.minor}/gi${gi}/ci${ci}/access`, value: 3 + g.minor * 135 + gi * 9 + ci + 1 }))]).flat()),
    ],
    procfs: [
      "params", "version", "registry",
      ...gpus.flatMap((g) => [`gpus/${procBus(g)}/information`, `gpus/${procBus(g)}/registry`]),
      ...gpus.flatMap((g) => g.migs.flatMap((m) => [`capabilities/gpu${g.minor}/mig/gi${m.gi}/access`, `capabilities/gpu${g.minor}/mig/gi${m.gi}/ci${m.ci}/access`])),
    ],
    params: "ResmanDebugLevel: 4294967295\nModifyDeviceFiles: 1\n",
    graphics: [],
    drm: [],
    ...o,
  };
}

export const injection = (o: Partial<Injection> = {}): Injection => ({
  devices: ["all"],
  caps: ["compute", "utility"],
  requires: [],
  migConfig: "",
  migMonitor: "",
  imex: [],
  noDevbind: false,
  noPersistenced: false,
  noFabricmanager: false,
  mpsPipeDir: "",
  ...o,
});

export const planInput = (inj: Partial<Injection>, driver: DriverFacts, o: Partial<PlanInput> = {}): PlanInput => ({
  injection: injection(inj),
  driver,
  rootfs: { debian: true, lib32: false },
  cgroup: "v1",
  arch: "x64",
  ...o,
});

/** The error a call throws: its code and message. */
export function failure(f: () => unknown): { code: string; message: string } | null {
  try {
    f();
    return null;
  } catch (e: any) {
    return { code: e.code, message: e.message };
  }
}

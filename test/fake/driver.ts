// Builds a fake NVIDIA driver on disk from a scenario: see test/fake/README.md for what each part
// imitates. Used by the tests, the demo and the benchmark; scripts/fakehost.sh lays it over the host.
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildTegraHost, type TegraHost } from "./tegra";

export interface FakeMig {
  gi: number;
  ci: number;
  uuid: string;
}

export interface FakeGpu {
  name: string;
  /** nvmlBrandType_t: 1 Quadro, 2 Tesla, 5 GeForce, 14 Nvidia, ... */
  brand: number;
  cc: [number, number];
  minor: number;
  bus: number;
  domain?: number;
  uuid: string;
  migs?: FakeMig[];
}

export interface Scenario {
  driver: string;
  /** nvmlSystemGetCudaDriverVersion: 12040 = 12.4 */
  cuda: number;
  gpus: FakeGpu[];
  /** IMEX channels the driver exposes (/dev/nvidia-caps-imex-channels/channelN). */
  imexChannels?: number;
  /** NVML function name -> nvmlReturn_t it returns instead of working. */
  fail?: Record<string, number>;
  /** [NVML device function, nvmlReturn_t, GPU position]: that call fails for that GPU only. */
  failGpu?: [string, number, number][];
  /** GPU positions that fell off the bus: NVML answers NVML_ERROR_GPU_IS_LOST for them. */
  lost?: number[];
  /** The IPC sockets the driver's daemons listen on, under /run (default: persistenced and fabricmanager). */
  sockets?: string[];
  /** GPUDirect Storage: /dev/nvidia-fs0 and 1, /etc/cufile.json, /run/udev. */
  gds?: boolean;
  /** Other feature nodes: gdrdrv, an NVSwitch, InfiniBand verbs (MOFED). */
  features?: boolean;
  /**
   * A workstation's graphics stack: each GPU's DRM nodes (card N+1, renderD 128+N; card0 is the
   * board's own VGA) with sysfs entries and /dev/dri/by-path links, the ICD and platform files,
   * the Xorg modules, the EGL platform and Vulkan producer libraries.
   */
  graphics?: boolean;
  /** A Tegra (Jetson) host instead of a discrete GPU's driver: see test/fake/tegra.ts. */
  tegra?: TegraHost;
}

export const DRM_MAJOR = 226;
/** The graphics files a driver installs, under the driver root, as Debian's packages place them. */
export const GRAPHICS_FILES: [string, string][] = [
  ["usr/share/glvnd/egl_vendor.d/10_nvidia.json", '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libEGL_nvidia.so.0" } }\n'],
  ["usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json", '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libnvidia-egl-gbm.so.1" } }\n'],
  ["usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json", '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libnvidia-egl-wayland.so.1" } }\n'],
  ["usr/share/vulkan/icd.d/nvidia_icd.json", '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libGLX_nvidia.so.0", "api_version": "1.3.277" } }\n'],
  ["usr/share/vulkan/implicit_layer.d/nvidia_layers.json", '{ "file_format_version": "1.0.0", "layer": { "name": "VK_LAYER_NV_optimus", "library_path": "libGLX_nvidia.so.0" } }\n'],
  ["etc/OpenCL/vendors/nvidia.icd", "libnvidia-opencl.so.1\n"],
  ["usr/share/nvidia/nvoptix.bin", "fake optix\n"],
  ["usr/share/X11/xorg.conf.d/10-nvidia.conf", 'Section "OutputClass"\n    Identifier "nvidia"\n    MatchDriver "nvidia-drm"\n    Driver "nvidia"\nEndSection\n'],
];
/** The EGL platform libraries keep their own versions; the Vulkan producer has the driver's. */
export const GRAPHICS_LIBRARIES: [string, string][] = [["libnvidia-egl-gbm.so.1", "1.1.1"], ["libnvidia-egl-wayland.so.1", "1.1.13"], ["libnvidia-vulkan-producer.so", ""]];

export const SOCKETS = ["nvidia-persistenced/socket", "nvidia-fabricmanager/socket"];

export const UVM_MAJOR = 510;
export const CAPS_MAJOR = 511;
export const IMEX_MAJOR = 509;
export const FEATURE_MAJOR = 234;
export const DRIVER = "550.54.14";

const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
/** The bus id as NVML reports it: a 32-bit domain. */
export const busId = (g: FakeGpu) => `${hex(g.domain ?? 0, 8)}:${hex(g.bus, 2)}:00.0`;
/** The bus id as the driver names its procfs directories: a 16-bit domain. */
export const procBusId = (g: FakeGpu) => `${hex(g.domain ?? 0, 4)}:${hex(g.bus, 2)}:00.0`;
const uuid = (n: number) => `GPU-${hex(0xa0b1c2d3 + n, 8)}-1111-2222-3333-${hex(0x444455556666 + n, 12)}`;

/** Four identical data-centre GPUs. */
export const FOUR_H100: Scenario = {
  driver: DRIVER,
  cuda: 12040,
  gpus: [0, 1, 2, 3].map((i) => ({ name: "NVIDIA H100 80GB HBM3", brand: 2, cc: [9, 0], minor: i, bus: 0x18 + i * 0x10, uuid: uuid(i) })),
};

/** Three different GPUs whose minor numbers leave a gap (0, 1, 3), as after a GPU fell off the bus. */
export const THREE_MIXED: Scenario = {
  driver: DRIVER,
  cuda: 12040,
  gpus: [
    { name: "NVIDIA A100-SXM4-40GB", brand: 2, cc: [8, 0], minor: 0, bus: 0x07, uuid: uuid(10) },
    { name: "Quadro RTX 6000", brand: 1, cc: [7, 5], minor: 1, bus: 0x3b, uuid: uuid(11) },
    { name: "NVIDIA GeForce RTX 4090", brand: 5, cc: [8, 9], minor: 3, bus: 0x86, domain: 1, uuid: uuid(12) },
  ],
};

/** Two GPUs, MIG enabled on the first with two GPU instances. */
export const MIG_ON_ONE: Scenario = {
  driver: DRIVER,
  cuda: 12040,
  gpus: [
    {
      name: "NVIDIA A100-SXM4-80GB",
      brand: 2,
      cc: [8, 0],
      minor: 0,
      bus: 0x10,
      uuid: uuid(20),
      migs: [
        { gi: 1, ci: 0, uuid: "MIG-5c3b4c2e-8a8f-5b7e-9d1a-000000000001" },
        { gi: 2, ci: 0, uuid: "MIG-5c3b4c2e-8a8f-5b7e-9d1a-000000000002" },
      ],
    },
    { name: "NVIDIA A100-SXM4-80GB", brand: 2, cc: [8, 0], minor: 1, bus: 0x20, uuid: uuid(21) },
  ],
};

/** A Jetson (L4T 35.4.1, CUDA 11.4): Tegra files, CSV mount specs, nvhost nodes, no NVML. */
export const TEGRA: Scenario = { driver: "35.4.1", cuda: 11040, gpus: [], tegra: {} };

/** An Orin with JetPack 6: the same, and an NVML that names its integrated GPU. */
export const TEGRA_ORIN: Scenario = {
  driver: "540.3.0",
  cuda: 12060,
  gpus: [{ name: "Orin (nvgpu)", brand: 0, cc: [8, 7], minor: 0, bus: 0, uuid: "GPU-54d0709b-558d-5a59-9c65-0c5fc14a21a4" }],
  tegra: { nvml: true },
};

export function withGpus(n: number): Scenario {
  return {
    driver: DRIVER,
    cuda: 12040,
    gpus: Array.from({ length: n }, (_, i) => ({ name: "NVIDIA H100 80GB HBM3", brand: 2, cc: [9, 0] as [number, number], minor: i, bus: 0x18 + i, uuid: uuid(30 + i) })),
  };
}

/** Driver libraries: file stem and SONAME suffix ("" = the full driver version, as the real ones). */
export const LIBRARIES: [string, string][] = [
  ["libnvidia-ml", "1"], ["libnvidia-cfg", "1"],
  ["libcuda", "1"], ["libcudadebugger", "1"], ["libnvidia-opencl", "1"], ["libnvidia-gpucomp", ""],
  ["libnvidia-ptxjitcompiler", "1"], ["libnvidia-allocator", "1"], ["libnvidia-pkcs11", ""], ["libnvidia-nvvm", "4"],
  ["libvdpau_nvidia", "1"], ["libnvidia-encode", "1"], ["libnvidia-opticalflow", "1"], ["libnvcuvid", "1"],
  ["libnvidia-eglcore", ""], ["libnvidia-glcore", ""], ["libnvidia-tls", ""], ["libnvidia-glsi", ""], ["libnvidia-fbc", "1"],
  ["libnvidia-rtcore", ""], ["libnvoptix", "1"], ["libGLX_nvidia", "0"], ["libEGL_nvidia", "0"], ["libGLESv2_nvidia", "2"],
  ["libGLESv1_CM_nvidia", "1"], ["libnvidia-glvkspirv", ""], ["libnvidia-ngx", "1"],
];
/** The 32-bit libraries a driver ships (compat32). */
export const LIBRARIES32 = ["libcuda", "libnvidia-ml", "libGLX_nvidia", "libnvidia-glcore"];
export const BINARIES = ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nvidia-cuda-mps-control", "nvidia-cuda-mps-server"];
export const FIRMWARE = ["gsp_ga10x.bin", "gsp_tu10x.bin"];

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
}

function write(path: string, text: string | Buffer, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

const here = import.meta.dir;

export function nvmlConfig(s: Scenario): string {
  const lines = [`driver ${s.driver}`, `cuda ${s.cuda}`];
  for (const [fn, rc] of Object.entries(s.fail ?? {})) lines.push(`fail ${fn} ${rc}`);
  for (const [fn, rc, gpu] of s.failGpu ?? []) lines.push(`fail ${fn} ${rc} ${gpu}`);
  for (const gpu of s.lost ?? []) lines.push(`lost ${gpu}`);
  s.gpus.forEach((g) =>
    lines.push(`gpu ${g.minor} ${g.brand} ${g.cc[0]} ${g.cc[1]} ${hex(g.domain ?? 0, 1)} ${hex(g.bus, 1)} 0 ${g.uuid} ${g.name}`),
  );
  s.gpus.forEach((g, i) => (g.migs ?? []).forEach((m) => lines.push(`mig ${i} ${m.gi} ${m.ci} ${m.uuid}`)));
  return lines.join("\n") + "\n";
}

/**
 * The mig-minors table of the real driver: config 1, monitor 2, then for each of 32 GPU minors,
 * 15 GPU instances of 8 compute instances each, every slot a fixed minor (9 per GPU instance).
 */
export function migMinor(gpuMinor: number, gi: number, ci?: number): number {
  return 3 + gpuMinor * 135 + gi * 9 + (ci === undefined ? 0 : ci + 1);
}

/**
 * Compiles the driver's libraries once per (version, CUDA) into a cache shared by every fake
 * driver of this process; returns the directory holding x86_64-linux-gnu/ and i386-linux-gnu/.
 */
function compiledLibraries(v: string, cuda: number): string {
  const out = join(tmpdir(), `nvct-fake-libs-${process.pid}-${v}-${cuda}`);
  if (existsSync(join(out, "done"))) return join(out, "lib");
  const lib64 = join(out, "lib/x86_64-linux-gnu");
  const lib32 = join(out, "lib/i386-linux-gnu");
  mkdirSync(lib64, { recursive: true });
  mkdirSync(lib32, { recursive: true });
  const src = join(here, "lib.c");
  const cudaDefine = `-DFAKE_CUDA=${cuda}`;
  run("gcc", ["-shared", "-fPIC", "-O2", "-Wl,-soname,libnvidia-ml.so.1", "-o", join(lib64, `libnvidia-ml.so.${v}`), join(here, "nvml.c")]);
  for (const [stem, so] of LIBRARIES) {
    if (stem === "libnvidia-ml") continue;
    const soname = `${stem}.so.${so || v}`;
    const tls = stem === "libnvidia-tls" ? ["-DFAKE_ABI_TAG"] : [];
    run("gcc", ["-shared", "-fPIC", "-O2", cudaDefine, ...tls, `-Wl,-soname,${soname}`, "-o", join(lib64, `${stem}.so.${v}`), src]);
  }
  // No 32-bit libc here: link against a stand-in libc.so.6 so that ldconfig files the 32-bit
  // libraries as libc6 entries, as it does for a real driver's.
  const libc32 = join(out, "libc.so.6");
  run("gcc", ["-m32", "-shared", "-nostdlib", "-fno-pic", "-Wl,-soname,libc.so.6", "-o", libc32, "-x", "c", "/dev/null"]);
  for (const stem of LIBRARIES32) {
    const so = LIBRARIES.find(([n]) => n === stem)?.[1] || v;
    run("gcc", ["-m32", "-shared", "-nostdlib", "-fno-pic", "-O2", cudaDefine, `-Wl,-soname,${stem}.so.${so}`, "-o", join(lib32, `${stem}.so.${v}`), src, "-Wl,--no-as-needed", libc32]);
  }
  writeFileSync(join(out, "done"), "");
  return join(out, "lib");
}

/** Removes the compiled-library cache of this process (call once, after the last fake driver). */
export function cleanCompiledLibraries(): void {
  for (const f of readdirSync(tmpdir())) if (f.startsWith(`nvct-fake-libs-${process.pid}-`)) rmSync(join(tmpdir(), f), { recursive: true, force: true });
}

/**
 * Lays the fake driver for `s` under `dir`: `root/` (the driver's files with their own
 * ld.so.cache, usable as a driver root), `proc-driver/` and `proc-devices` (procfs), `devnodes`
 * (the nodes scripts/fakehost.sh makes). Returns `dir`.
 */
export function buildFakeDriver(dir: string, s: Scenario): string {
  if (s.tegra) return buildTegraHost(dir, { ...s, tegra: s.tegra });
  const root = join(dir, "root");
  const lib64 = join(root, "usr/lib/x86_64-linux-gnu");
  const lib32 = join(root, "usr/lib/i386-linux-gnu");
  mkdirSync(lib64, { recursive: true });
  mkdirSync(lib32, { recursive: true });
  for (const l of ["lib", "bin", "sbin"]) if (!existsSync(join(root, l))) symlinkSync(`usr/${l}`, join(root, l));
  mkdirSync(join(root, "usr/sbin"), { recursive: true });

  const v = s.driver;
  cpSync(compiledLibraries(v, s.cuda), join(root, "usr/lib"), { recursive: true });
  write(join(lib64, "fake-nvml.conf"), nvmlConfig(s));

  const smi = `#!/bin/sh\necho "NVIDIA-SMI ${v}   fake driver, ${s.gpus.length} GPU(s)"\n`;
  for (const b of BINARIES) write(join(root, "usr/bin", b), b === "nvidia-smi" ? smi : `#!/bin/sh\necho ${b}\n`, 0o755);
  for (const f of FIRMWARE) write(join(root, "usr/lib/firmware/nvidia", v, f), `fake firmware ${f}\n`);

  if (s.graphics) {
    for (const [soname, own] of GRAPHICS_LIBRARIES) {
      const file = own ? `${soname.replace(/\.so\.\d+$/, ".so")}.${own}` : `${soname}.${v}`;
      run("gcc", ["-shared", "-fPIC", "-O2", `-DFAKE_CUDA=${s.cuda}`, `-Wl,-soname,${own ? soname : file}`, "-o", join(lib64, file), join(here, "lib.c")]);
    }
    for (const m of ["nvidia_drv.so", `libglxserver_nvidia.so.${v}`]) write(join(lib64, "nvidia/xorg", m), `fake Xorg module ${m}\n`);
    for (const [path, text] of GRAPHICS_FILES) {
      write(join(root, path), text);
      // The host's /etc, laid over by scripts/fakehost.sh (the driver root's is under root/).
      if (path.startsWith("etc/")) write(join(dir, "host-" + path), text);
    }
  }
  write(join(root, "etc/ld.so.conf"), "/usr/lib/x86_64-linux-gnu\n/usr/lib/i386-linux-gnu\n");
  run("ldconfig", ["-r", root]);

  // procfs as the driver shows it.
  const pd = join(dir, "proc-driver");
  write(join(pd, "nvidia/version"), `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${v}  (fake)\nGCC version:  gcc version 12.2.0\n`);
  write(join(pd, "nvidia/params"), "ResmanDebugLevel: 4294967295\nModifyDeviceFiles: 1\nDeviceFileUID: 0\nDeviceFileGID: 0\nDeviceFileMode: 438\n");
  write(join(pd, "nvidia/registry"), "Binary: \"\"\n");
  const migLines = ["config 1", "monitor 2"];
  for (const g of s.gpus) {
    const dir = join(pd, "nvidia/gpus", procBusId(g));
    write(join(dir, "information"), `Model: \t\t ${g.name}\nIRQ:   \t\t 42\nGPU UUID: \t ${g.uuid}\nVideo BIOS: \t 96.00.89.00.01\nBus Type: \t PCIe\nDMA Size: \t 47 bits\nDMA Mask: \t 0x7fffffffffff\nBus Location: \t ${procBusId(g)}\nDevice Minor: \t ${g.minor}\nGPU Excluded:\t No\n`);
    write(join(dir, "registry"), "Binary: \"\"\n");
    write(join(dir, "power"), "Runtime D3 status:          Not supported\nVideo Memory:               Active\n");
  }
  for (let m = 0; m < 32; m++)
    for (let gi = 0; gi < 15; gi++) {
      migLines.push(`gpu${m}/gi${gi}/access ${migMinor(m, gi)}`);
      for (let ci = 0; ci < 8; ci++) migLines.push(`gpu${m}/gi${gi}/ci${ci}/access ${migMinor(m, gi, ci)}`);
    }
  write(join(pd, "nvidia-caps/mig-minors"), migLines.join("\n") + "\n");
  const nodes = [`nvidiactl c 195 255`, `nvidia-modeset c 195 254`, `nvidia-uvm c ${UVM_MAJOR} 0`, `nvidia-uvm-tools c ${UVM_MAJOR} 1`];
  for (const g of s.gpus) {
    nodes.push(`nvidia${g.minor} c 195 ${g.minor}`);
    for (const m of g.migs ?? []) {
      const caps = join(pd, `nvidia/capabilities/gpu${g.minor}/mig`);
      write(join(caps, `gi${m.gi}/access`), `DeviceFileMinor: ${migMinor(g.minor, m.gi)}\nDeviceFileMode: 292\n`);
      write(join(caps, `gi${m.gi}/ci${m.ci}/access`), `DeviceFileMinor: ${migMinor(g.minor, m.gi, m.ci)}\nDeviceFileMode: 292\n`);
      nodes.push(`nvidia-caps/nvidia-cap${migMinor(g.minor, m.gi)} c ${CAPS_MAJOR} ${migMinor(g.minor, m.gi)}`);
      nodes.push(`nvidia-caps/nvidia-cap${migMinor(g.minor, m.gi, m.ci)} c ${CAPS_MAJOR} ${migMinor(g.minor, m.gi, m.ci)}`);
    }
  }
  if (s.gpus.some((g) => g.migs?.length)) {
    for (const [file, minor] of [["config", 1], ["monitor", 2]] as const) {
      write(join(pd, `nvidia/capabilities/mig/${file}`), `DeviceFileMinor: ${minor}\nDeviceFileMode: 256\n`);
      nodes.push(`nvidia-caps/nvidia-cap${minor} c ${CAPS_MAJOR} ${minor}`);
    }
  }
  for (let c = 0; c < (s.imexChannels ?? 0); c++) nodes.push(`nvidia-caps-imex-channels/channel${c} c ${IMEX_MAJOR} ${c}`);
  if (s.gds) {
    nodes.push(`nvidia-fs0 c ${FEATURE_MAJOR} 0`, `nvidia-fs1 c ${FEATURE_MAJOR} 1`);
    write(join(dir, "host-etc/cufile.json"), '{ "logging": { "level": "ERROR" } }\n');
    write(join(dir, "run-dirs"), "udev\n");
  }
  if (s.features) nodes.push(`gdrdrv c ${FEATURE_MAJOR} 10`, `nvidia-nvswitch0 c ${FEATURE_MAJOR} 11`, `nvidia-nvswitchctl c ${FEATURE_MAJOR} 12`, `infiniband/uverbs0 c ${FEATURE_MAJOR} 13`, `infiniband/rdma_cm c ${FEATURE_MAJOR} 14`);
  if (s.graphics) {
    // The board's VGA is card0 at 0000:02:00.0; each GPU's nodes are listed in its sysfs drm directory.
    const links = ["dri/by-path/pci-0000:02:00.0-card ../card0"];
    nodes.push(`dri/card0 c ${DRM_MAJOR} 0`);
    mkdirSync(join(dir, "sys-pci/0000:02:00.0/drm/card0"), { recursive: true });
    s.gpus.forEach((g, i) => {
      const [card, render] = [`card${i + 1}`, `renderD${128 + i}`];
      nodes.push(`dri/${card} c ${DRM_MAJOR} ${i + 1}`, `dri/${render} c ${DRM_MAJOR} ${128 + i}`);
      links.push(`dri/by-path/pci-${procBusId(g)}-card ../${card}`, `dri/by-path/pci-${procBusId(g)}-render ../${render}`);
      for (const n of [card, render]) mkdirSync(join(dir, "sys-pci", procBusId(g), "drm", n), { recursive: true });
    });
    write(join(dir, "devlinks"), links.join("\n") + "\n");
  }
  write(join(dir, "devnodes"), nodes.join("\n") + "\n");
  write(join(dir, "sockets"), (s.sockets ?? SOCKETS).map((x) => x + "\n").join(""));
  run("gcc", ["-O2", "-o", join(dir, "mksock"), join(here, "mksock.c")]);

  const devices = readFileSync("/proc/devices", "utf8").replace(
    "\nBlock devices:",
    `195 nvidia-frontend\n${s.imexChannels ? `${IMEX_MAJOR} nvidia-caps-imex-channels\n` : ""}${UVM_MAJOR} nvidia-uvm\n${CAPS_MAJOR} nvidia-caps\n\nBlock devices:`,
  );
  write(join(dir, "proc-devices"), devices.replace("\n\n\nBlock", "\n\nBlock"));
  return dir;
}

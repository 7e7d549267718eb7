// A fake Tegra (Jetson) host, laid out as L4T lays one out: /etc/nv_tegra_release, the CSV mount
// specs in /etc/nvidia-container-runtime/host-files-for-container.d, the iGPU's device nodes
// (nvhost-*, nvmap), libcuda and the other Tegra libraries in the tegra/ library directory with
// the links L4T's packages and ldconfig leave there, and no NVML (or, for an Orin with JetPack 6,
// a libnvidia-ml that names the `Orin (nvgpu)` GPU). On this x86_64 machine the libraries live in
// x86_64-linux-gnu (where a Jetson has aarch64-linux-gnu), so that containers here can load them.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { nvmlConfig, type Scenario } from "./driver";

export interface TegraHost {
  /** /etc/nv_tegra_release (default true). */
  release?: boolean;
  /** /sys/devices/soc0/family with this content (e.g. "Tegra\n"; default none). */
  family?: string;
  /** A libnvidia-ml (the scenario's GPUs and versions), as JetPack 6 ships on Orin. */
  nvml?: boolean;
}

export const LIB = "/usr/lib/x86_64-linux-gnu";
export const TEGRA_LIB = `${LIB}/tegra`;
export const SPEC_DIR = "/etc/nvidia-container-runtime/host-files-for-container.d";
export const TEGRA_MAJOR = 500;
export const NVMAP_GID = 44;
export const L4T_RELEASE = "# R35 (release), REVISION: 4.1, GCID: 33958178, BOARD: t186ref, EABI: aarch64, DATE: Tue Aug  1 19:57:35 UTC 2023\n";
/** The compute capability the fake libcuda reports for device 0 (Orin's). */
export const TEGRA_CC = "8.7";

/** The iGPU's nodes: name, minor, mode, group. nvmap is its group's only, as on L4T. */
export const TEGRA_NODES: [string, number, number, number][] = [
  ["nvhost-ctrl", 0, 0o666, 0],
  ["nvhost-ctrl-gpu", 1, 0o666, 0],
  ["nvhost-gpu", 2, 0o666, 0],
  ["nvhost-as-gpu", 3, 0o666, 0],
  ["nvhost-dbg-gpu", 4, 0o666, 0],
  ["nvhost-nvdec", 5, 0o666, 0],
  ["nvhost-nvdec1", 6, 0o666, 0],
  ["nvmap", 7, 0o660, NVMAP_GID],
  ["nvhost-extra", 8, 0o666, 0],
];

/** The libraries: file name, SONAME; libcuda's with its L4T links. */
const LIBRARIES: [string, string][] = [
  ["libcuda.so.1.1", "libcuda.so.1"],
  ["libnvrm_gpu.so", "libnvrm_gpu.so"],
  ["libnvrm_mem.so", "libnvrm_mem.so"],
  ["libnvos.so", "libnvos.so"],
  ["libnvidia-ptxjitcompiler.so.35.4.1", "libnvidia-ptxjitcompiler.so.1"],
  ["libnvextra.so", "libnvextra.so"],
];

/** devices.csv, drivers.csv and l4t.csv as L4T writes them (with a few lines no parser takes), and one more file. */
export const CSV_FILES: Record<string, string> = {
  "devices.csv": [
    "dev, /dev/nvhost-ctrl",
    "dev, /dev/nvhost-ctrl-gpu",
    "dev, /dev/nvhost-gpu",
    "dev, /dev/nvhost-as-gpu",
    "dev, nvhost-dbg-gpu",
    "dev, /dev/nvhost-nvdec*",
    "dev, /dev/nvmap",
    "dev, /dev/nvhost-vic",
  ].join("\n") + "\n",
  "drivers.csv": [
    `lib, ${TEGRA_LIB}/libcuda.so.1.1`,
    `sym, ${TEGRA_LIB}/libcuda.so`,
    `sym, ${LIB}/libcuda.so`,
    "# a comment is no syntax: skipped",
    `lib, ${TEGRA_LIB}/libnvrm_gpu.so`,
    `lib ${TEGRA_LIB}/libnvrm_mem.so`,
    `bogus, ${TEGRA_LIB}/libnvrm_mem.so`,
    `lib, ${TEGRA_LIB}/libnvrm_mem.so`,
    `lib, ${TEGRA_LIB}/libnvos.so`,
    `lib, ${TEGRA_LIB}/libnvidia-ptxjitcompiler.so.35.4.1`,
    `sym, ${TEGRA_LIB}/libnvidia-ptxjitcompiler.so.1`,
    `lib, ${TEGRA_LIB}/libmissing.so`,
    "",
  ].join("\n"),
  "l4t.csv": [`dir, ${LIB}/tegra-egl`, `sym, ${LIB}/libEGL_nvidia.so.0`, "sym, /etc/vulkan/icd.d/nvidia_icd.json"].join("\n") + "\n",
  "extra.csv": [`lib, ${TEGRA_LIB}/libnvextra.so`, "dev, /dev/nvhost-extra"].join("\n") + "\n",
};

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed: ${r.stderr || r.error}`);
}

function write(path: string, text: string, mode = 0o644) {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
  chmodSync(path, mode);
}

/** Lays a fake Tegra host for `s` under `dir`, in the layout scripts/fakehost.sh lays over the host. */
export function buildTegraHost(dir: string, s: Scenario & { tegra: TegraHost }): string {
  const t = s.tegra;
  const root = join(dir, "root");
  const tegra = join(root, TEGRA_LIB);
  mkdirSync(tegra, { recursive: true });
  mkdirSync(join(root, "usr/bin"), { recursive: true });
  const src = join(import.meta.dir, "lib.c");
  for (const [file, soname] of LIBRARIES) {
    const cc = file.startsWith("libcuda.") ? [`-DFAKE_CC_MAJOR=${TEGRA_CC.split(".")[0]}`, `-DFAKE_CC_MINOR=${TEGRA_CC.split(".")[1]}`] : [];
    run("gcc", ["-shared", "-fPIC", "-O2", `-DFAKE_CUDA=${s.cuda}`, ...cc, `-Wl,-soname,${soname}`, "-o", join(tegra, file), src]);
  }
  // The links L4T's packages ship, and the SONAME links ldconfig makes (tegra/ is in ld.so.conf.d).
  symlinkSync("libcuda.so.1.1", join(tegra, "libcuda.so"));
  symlinkSync("libcuda.so.1.1", join(tegra, "libcuda.so.1"));
  symlinkSync("libnvidia-ptxjitcompiler.so.35.4.1", join(tegra, "libnvidia-ptxjitcompiler.so.1"));
  symlinkSync("tegra/libcuda.so", join(root, LIB, "libcuda.so"));
  // tegra-egl, a directory entry, with its EGL library; a sym entry that leads into it.
  mkdirSync(join(root, LIB, "tegra-egl"), { recursive: true });
  run("gcc", ["-shared", "-fPIC", "-O2", `-DFAKE_CUDA=${s.cuda}`, "-Wl,-soname,libEGL_nvidia.so.0", "-o", join(root, LIB, "tegra-egl/libEGL_nvidia.so.0"), src]);
  write(join(root, LIB, "tegra-egl/nvidia.json"), '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libEGL_nvidia.so.0" } }\n');
  symlinkSync("tegra-egl/libEGL_nvidia.so.0", join(root, LIB, "libEGL_nvidia.so.0"));
  if (t.nvml) {
    run("gcc", ["-shared", "-fPIC", "-O2", "-Wl,-soname,libnvidia-ml.so.1", "-o", join(root, LIB, `libnvidia-ml.so.${s.driver}`), join(import.meta.dir, "nvml.c")]);
    symlinkSync(`libnvidia-ml.so.${s.driver}`, join(root, LIB, "libnvidia-ml.so.1"));
    write(join(root, LIB, "fake-nvml.conf"), nvmlConfig(s));
  }

  // /etc: the release file, the CSV files, the ld.so.conf.d entry of L4T, the Vulkan ICD.
  const etc = join(dir, "host-etc");
  if (t.release !== false) write(join(etc, "nv_tegra_release"), L4T_RELEASE);
  for (const [name, text] of Object.entries(CSV_FILES)) write(join(etc, SPEC_DIR.slice("/etc/".length), name), text);
  write(join(etc, "ld.so.conf.d/nvidia-tegra.conf"), `${TEGRA_LIB}\n${LIB}/tegra-egl\n`);
  write(join(etc, "vulkan/icd.d/nvidia_icd.json.real"), '{ "file_format_version": "1.0.0", "ICD": { "library_path": "libGLX_nvidia.so.0" } }\n');
  symlinkSync("nvidia_icd.json.real", join(etc, "vulkan/icd.d/nvidia_icd.json"));
  if (t.family !== undefined) write(join(dir, "host-sys/soc0/family"), t.family);

  // No /proc/driver/nvidia on a Tegra; the nodes with their own majors, modes and groups.
  mkdirSync(join(dir, "proc-driver"), { recursive: true });
  write(join(dir, "devnodes"), TEGRA_NODES.map(([n, minor, mode, gid]) => `${n} c ${TEGRA_MAJOR} ${minor} ${mode.toString(8)} ${gid}`).join("\n") + "\n");
  write(join(dir, "sockets"), "");
  write(join(dir, "proc-devices"), readFileSync("/proc/devices", "utf8").replace("\nBlock devices:", `${TEGRA_MAJOR} nvhost\n\nBlock devices:`).replace("\n\n\nBlock", "\n\nBlock"));
  return dir;
}

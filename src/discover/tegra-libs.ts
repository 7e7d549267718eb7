// What NVML and libcuda say on a Tegra host: whether NVML loads and the GPUs' names (platform
// detection, the CUDA compat hook), libcuda's CUDA version and compute capability (a container's
// requirements). Reads only; loaded only where the Tegra files are.
import { dlopen, FFIType } from "bun:ffi";
import { cudaComputeCapability, cudaDriverVersion } from "../sys/cuda";
import { Nvml } from "../sys/nvml";
import { resolveIn, under } from "./paths";
import type { NvmlFacts } from "./tegra";

const NVML = "libnvidia-ml.so.1";
const LIB_DIRS = ["/usr/lib64", "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib64", "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu"];

/** libnvidia-ml.so.1 as the loader is to open it: by name under /, else the first found under the root. */
export function nvmlLibrary(root: string): string {
  if (root === "/" || root === "") return NVML;
  for (const d of LIB_DIRS) {
    const resolved = resolveIn(root, `${d}/${NVML}`);
    if (resolved) return under(root, resolved);
  }
  return NVML;
}

/** What NVML says on this host, if it loads: its CUDA version and the GPUs' names. */
export function nvmlFacts(root: string): NvmlFacts {
  const path = nvmlLibrary(root);
  try {
    dlopen(path, { nvmlInit_v2: { args: [], returns: FFIType.i32 } }).close();
  } catch {
    return { loads: false, cuda: "", names: [] };
  }
  try {
    const n = new Nvml(path);
    try {
      return { loads: true, ...n.names() };
    } finally {
      n.shutdown();
    }
  } catch {
    return { loads: true, cuda: "", names: [] };
  }
}

/**
 * libcuda's facts for the requirements of a container on a Tegra host: the driver's CUDA version
 * (`12.2`) and, when asked, device 0's compute capability (`8.7`); "" for what cannot be read.
 */
export function cudaFacts(withArch: boolean): { cuda: string; arch: string } {
  let cuda = "";
  let arch = "";
  try {
    const v = cudaDriverVersion();
    cuda = `${Math.trunc(v / 1000)}.${Math.trunc((v % 100) / 10)}`;
  } catch {}
  if (withArch) {
    try {
      arch = cudaComputeCapability(0).join(".");
    } catch {}
  }
  return { cuda, arch };
}

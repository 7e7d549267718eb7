// Is this host a Tegra (Jetson) system, as the reference's platform detection tells it: Tegra
// files under the driver root (/etc/nv_tegra_release, or /sys/devices/soc0/family starting with
// `tegra`), and either no NVML or an integrated GPU among NVML's. Reads only; on any other host
// it costs two stats.
import { readFileSync, statSync } from "node:fs";
import { under } from "./paths";

export const TEGRA_RELEASE = "/etc/nv_tegra_release";
export const SOC_FAMILY = "/sys/devices/soc0/family";

/** /etc/nv_tegra_release under the root is there and not a directory, or the SoC family is tegra*. */
export function hasTegraFiles(root: string): boolean {
  // No exception where the files are missing, as on every other host: two stats, nothing more.
  const release = statSync(under(root, TEGRA_RELEASE), { throwIfNoEntry: false });
  if (release && !release.isDirectory()) return true;
  const family = under(root, SOC_FAMILY);
  const st = statSync(family, { throwIfNoEntry: false });
  if (!st || st.isDirectory()) return false;
  try {
    return readFileSync(family, "utf8").toLowerCase().startsWith("tegra");
  } catch {
    return false;
  }
}

/** The host's /etc/nv_tegra_release is a file (the reference mounts the host's, whatever the root). */
export function hasTegraRelease(): boolean {
  const st = statSync(TEGRA_RELEASE, { throwIfNoEntry: false });
  return !!st && !st.isDirectory();
}

/** Orin's and Thor's integrated GPUs, by the names NVML gives them. */
export function isIntegratedGpuName(name: string): boolean {
  return name.includes("(nvgpu)") || name.includes("NVIDIA Thor");
}

export interface NvmlFacts {
  /** libnvidia-ml.so.1 can be opened. */
  loads: boolean;
  /** NVML's CUDA version ("" when NVML does not initialise). */
  cuda: string;
  /** The GPUs' names, as NVML gives them. */
  names: string[];
}

/** With the Tegra files there: NVML absent, or naming an integrated GPU. */
const tegraByNvml = (n: NvmlFacts) => !n.loads || n.names.some(isIntegratedGpuName);

/** A Tegra host: its files, and NVML absent or naming an integrated GPU (NVML asked only where the files are). */
export function isTegraHost(root: string, nvml: (root: string) => NvmlFacts): boolean {
  return hasTegraFiles(root) && tegraByNvml(nvml(root));
}

/**
 * Whether config.toml's runtime mode is csv here: `auto` (or unset) on a Tegra host. Anywhere
 * else two stats; NVML's module is loaded only where the Tegra files are.
 */
export async function autoIsCsv(mode: string, root: string): Promise<boolean> {
  if ((mode !== "auto" && mode !== "") || !hasTegraFiles(root)) return false;
  const { nvmlFacts } = await import("./tegra-libs");
  return tegraByNvml(nvmlFacts(root));
}

// Graphics and display, as the newest toolkit finds and places them: each GPU's DRM nodes and the
// /dev/dri/by-path links that name them; the driver's ICD and platform files (glvnd EGL vendor,
// EGL external platforms, Vulkan, OpenCL), nvoptix.bin, the Xorg configuration and modules; the
// EGL platform and Vulkan producer libraries with gbm's and the Xorg server's links.
import { BindKind, GpuFact, LibFact } from "../build/out/gen/types";
import { Builder, Driver, mountLibrary } from "./plan";
import { basename, dirname, stem, under } from "./text";
import { fileFlags } from "./vocabulary";

/** Configuration files by their name under a config root; see configTarget for where each goes. */
export const GRAPHICS_CONFIGS: string[] = [
  "glvnd/egl_vendor.d/10_nvidia.json",
  "egl/egl_external_platform.d/15_nvidia_gbm.json",
  "egl/egl_external_platform.d/10_nvidia_wayland.json",
  "egl/egl_external_platform.d/09_nvidia_wayland2.json",
  "egl/egl_external_platform.d/20_nvidia_xcb.json",
  "egl/egl_external_platform.d/20_nvidia_xlib.json",
  "nvidia/nvoptix.bin",
  "X11/xorg.conf.d/10-nvidia.conf",
  "X11/xorg.conf.d/nvidia-drm-outputclass.conf",
  "OpenCL/vendors/nvidia.icd",
  "vulkan/icd.d/nvidia_icd.json",
  "vulkan/icd.d/nvidia_icd.x86_64.json",
  "vulkan/icd.d/nvidia_icd.aarch64.json",
  "vulkan/icd.d/nvidia_layers.json",
  "vulkan/implicit_layer.d/nvidia_layers.json",
];

/**
 * Config roots under the driver root, in order: the first holding a file wins. The last, the
 * root itself, is where GKE's driver installer keeps the Vulkan files.
 */
export const CONFIG_ROOTS: string[] = ["/etc", "/usr/local/share", "/usr/share", ""];

/** The Xorg modules; `{version}` is the driver's version. */
export const XORG_MODULES: string[] = ["nvidia_drv.so", "libglxserver_nvidia.so.{version}"];
/** Under each of the driver's library directories, first. */
export const XORG_LIB_SUBDIRS: string[] = ["nvidia/xorg", "xorg/modules/drivers", "xorg/modules/extensions", "xorg/modules/updates/drivers", "xorg/modules/updates/extensions"];

/** Then the X server's own module directories. */
export function xorgDirs(): string[] {
  const out = new Array<string>();
  const prefixes: string[] = ["/usr/lib/xorg", "/usr/lib64/xorg", "/usr/X11R6/lib", "/usr/X11R6/lib64"];
  const subs: string[] = ["modules/drivers", "modules/extensions", "modules/updates/drivers", "modules/updates/extensions"];
  for (let p = 0; p < prefixes.length; p++) for (let s = 0; s < subs.length; s++) out.push(prefixes[p] + "/" + subs[s]);
  return out;
}

/** Libraries the graphics stack loads beside the driver's own (the EGL platforms keep their own versions). */
export const GRAPHICS_LIBS: string[] = [
  "libnvidia-egl-gbm", "libnvidia-egl-wayland", "libnvidia-egl-wayland2", "libnvidia-egl-xcb", "libnvidia-egl-xlib", "libnvidia-vulkan-producer",
];

/** Where a config goes in the container: OpenCL and Vulkan files under /etc, the others under /usr/share. */
function configTarget(name: string): string {
  return name.startsWith("OpenCL/") || name.startsWith("vulkan/") ? "/etc/" + name : "/usr/share/" + name;
}

/** The config name a found path is, or "". */
function configName(path: string): string {
  for (let i = 0; i < GRAPHICS_CONFIGS.length; i++) if (path.endsWith("/" + GRAPHICS_CONFIGS[i])) return GRAPHICS_CONFIGS[i];
  return "";
}

/**
 * The graphics files: each config at its fixed container path wherever the host keeps it, the
 * Xorg modules at their host paths (with libglxserver_nvidia.so), the EGL platform and Vulkan
 * producer libraries in libDir (with libnvidia-vulkan-producer.so), and gbm's
 * nvidia-drm_gbm.so link to libnvidia-allocator.so.1 (the allocator mounted for it).
 */
export function graphicsFiles(d: Driver, b: Builder, libDir: string): void {
  const version = d.f.inventory.driver;
  for (let i = 0; i < d.f.graphics.length; i++) {
    const g = d.f.graphics[i];
    const name = configName(g.path);
    if (name.length > 0) {
      b.bind(BindKind.File, under(d.f.root, g.resolved), configTarget(name), fileFlags());
      continue;
    }
    const file = basename(g.path);
    if (file != "nvidia_drv.so" && file != "libglxserver_nvidia.so." + version) continue;
    b.bind(BindKind.File, under(d.f.root, g.resolved), g.path, fileFlags());
    if (file != "nvidia_drv.so") b.link(dirname(g.path), "libglxserver_nvidia.so", file);
  }
  let allocator: LibFact | null = null;
  for (let i = 0; i < d.f.libraries.length; i++) {
    const l = d.f.libraries[i];
    if (l.bits != 64 || l.resolved.length == 0 || l.name.indexOf(".so.") < 0) continue;
    const st = stem(l.name);
    if (st == "libnvidia-allocator" && l.resolved.endsWith(".so." + version)) allocator = l;
    if (!GRAPHICS_LIBS.includes(st)) continue;
    if (st == "libnvidia-vulkan-producer") {
      if (!l.resolved.endsWith(".so." + version)) continue;
      b.link(libDir, "libnvidia-vulkan-producer.so", mountLibrary(d, b, l, libDir));
    } else mountLibrary(d, b, l, libDir);
  }
  if (allocator !== null) {
    mountLibrary(d, b, changetype<LibFact>(allocator), libDir);
    b.link(libDir + "/gbm", "nvidia-drm_gbm.so", "../libnvidia-allocator.so.1");
  }
}

/** A GPU's DRM nodes (their host rdev) and the by-path links that name one of them. */
export function drmNodes(d: Driver, b: Builder, gpu: GpuFact): void {
  for (let i = 0; i < d.f.drm.length; i++) {
    const f = d.f.drm[i];
    if (f.busId != gpu.busId) continue;
    const names = new Array<string>();
    for (let k = 0; k < f.nodes.length; k++) {
      const n = f.nodes[k];
      b.device(n.path, d.inContainer(n.path), n.major, n.minor);
      names.push(basename(n.path));
    }
    for (let k = 0; k < f.links.length; k++) {
      const l = f.links[k];
      if (!names.includes(basename(l.target))) continue;
      const path = d.inContainer(l.path);
      b.link(dirname(path), basename(path), l.target);
    }
  }
}

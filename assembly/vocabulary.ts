// The vocabularies nvct shares between the core and the host, one table each: what the driver
// provides per capability (as libnvidia-container defines it), where the host looks for it, and
// the mount flags. The host reads them at build time through the `vocabulary` export.
import { MountFlag, MountFlagInfo, Vocabulary } from "../build/out/gen/types";
import { CONFIG_ROOTS, GRAPHICS_CONFIGS, GRAPHICS_LIBS, XORG_LIB_SUBDIRS, XORG_MODULES, xorgDirs } from "./graphics";

/** Variables whose presence may make a container ask for a GPU (swarm-resource aside). */
export const TRIGGER_ENV: string[] = ["NVIDIA_VISIBLE_DEVICES", "CUDA_VERSION"];
/** Mounts from /dev/null under this prefix name devices (accept-...-as-volume-mounts). */
export const VOLUME_PREFIX = "/var/run/nvidia-container-devices/";

/** Library groups, and the stems (name before `.so`) of each, in reporting order. */
export const LIBRARY_GROUPS: string[] = ["utility", "compute", "ngx", "video", "graphics"];
export const LIBRARIES: string[][] = [
  ["libnvidia-ml", "libnvidia-cfg", "libnvidia-nscq"],
  [
    "libcuda", "libcudadebugger", "libnvidia-opencl", "libnvidia-gpucomp", "libnvidia-ptxjitcompiler",
    "libnvidia-fatbinaryloader", "libnvidia-allocator", "libnvidia-compiler", "libnvidia-pkcs11",
    "libnvidia-pkcs11-openssl3", "libnvidia-nvvm",
  ],
  ["libnvidia-ngx"],
  ["libvdpau_nvidia", "libnvidia-encode", "libnvidia-opticalflow", "libnvcuvid"],
  [
    "libnvidia-eglcore", "libnvidia-glcore", "libnvidia-tls", "libnvidia-glsi", "libnvidia-fbc", "libnvidia-ifr",
    "libnvidia-rtcore", "libnvoptix", "libGLX_nvidia", "libEGL_nvidia", "libGLESv2_nvidia", "libGLESv1_CM_nvidia",
    "libnvidia-glvkspirv", "libnvidia-cbl",
  ],
];

/** Binaries by group (utility, compute), in the order libnvidia-container lists them. */
export const BINARY_GROUPS: string[] = ["utility", "compute"];
export const BINARIES: string[][] = [
  ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nv-fabricmanager"],
  ["nvidia-cuda-mps-control", "nvidia-cuda-mps-server"],
];
/** The search path for driver binaries under the driver root. */
export const BIN_PATH: string[] = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export const PERSISTENCED_SOCKET = "/var/run/nvidia-persistenced/socket";
export const FABRICMANAGER_SOCKET = "/var/run/nvidia-fabricmanager/socket";
export const MPS_PIPE_DIR = "/tmp/nvidia-mps";

export const NVIDIA_MAJOR: u32 = 195;
export const CTL = "/dev/nvidiactl";
export const CTL_MINOR: u32 = 255;
export const MODESET = "/dev/nvidia-modeset";
export const MODESET_MINOR: u32 = 254;
export const UVM = "/dev/nvidia-uvm";
export const UVM_TOOLS = "/dev/nvidia-uvm-tools";
export const CAPS_DIR = "/dev/nvidia-caps";
export const IMEX_DIR = "/dev/nvidia-caps-imex-channels";
export const PROC = "/proc/driver/nvidia";
export const APP_PROFILES = "/etc/nvidia/nvidia-application-profiles-rc.d";
export const FIRMWARE_DIR = "/lib/firmware/nvidia/";

/** Host files the features bring (GDS). */
export const CUFILE = "/etc/cufile.json";
export const UDEV = "/run/udev";

/** Mount flags: the MOUNT_ATTR_* bit and the OCI option of each, by MountFlag value. */
export const MOUNT_ATTR: u32[] = [0x1, 0x2, 0x4, 0x8];
export const MOUNT_OPTION: string[] = ["ro", "nosuid", "nodev", "noexec"];

/** Read-only files: libraries, binaries, firmware. */
export function fileFlags(): MountFlag[] {
  return [MountFlag.Ro, MountFlag.Nosuid, MountFlag.Nodev];
}
/** Device nodes: read-only binds that cannot execute. */
export function nodeFlags(): MountFlag[] {
  return [MountFlag.Ro, MountFlag.Nosuid, MountFlag.Noexec];
}
/** Sockets and the MPS directory stay writable. */
export function ipcFlags(): MountFlag[] {
  return [MountFlag.Nosuid, MountFlag.Nodev, MountFlag.Noexec];
}
/** Procfs views: read-only, nothing to execute or open as a device. */
export function procFlags(): MountFlag[] {
  return [MountFlag.Ro, MountFlag.Nosuid, MountFlag.Nodev, MountFlag.Noexec];
}

/** vocabulary(): the tables above, for the host (read at build time). */
export function vocabulary(): Vocabulary {
  const v = new Vocabulary();
  v.triggerEnv = TRIGGER_ENV;
  v.requestEnv = ["NVIDIA_", "CUDA_VERSION"];
  v.volumePrefix = VOLUME_PREFIX;
  for (let i = 0; i < LIBRARIES.length; i++) for (let j = 0; j < LIBRARIES[i].length; j++) v.libraryStems.push(LIBRARIES[i][j]);
  for (let i = 0; i < GRAPHICS_LIBS.length; i++) v.libraryStems.push(GRAPHICS_LIBS[i]);
  for (let i = 0; i < BINARIES.length; i++) for (let j = 0; j < BINARIES[i].length; j++) v.binaries.push(BINARIES[i][j]);
  v.binPath = BIN_PATH;
  v.ipcs = [PERSISTENCED_SOCKET, FABRICMANAGER_SOCKET, MPS_PIPE_DIR];
  v.nodePrefixes = ["nvidia", "gdrdrv"];
  v.nodeDirs = [CAPS_DIR, IMEX_DIR, "/dev/infiniband"];
  v.files = [CUFILE, UDEV];
  v.firmwareDir = FIRMWARE_DIR;
  for (let i = 0; i < MOUNT_ATTR.length; i++) {
    const m = new MountFlagInfo();
    m.flag = <MountFlag>i;
    m.attr = MOUNT_ATTR[i];
    m.ociOption = MOUNT_OPTION[i];
    v.mountFlags.push(m);
  }
  v.graphicsConfigs = GRAPHICS_CONFIGS;
  v.configRoots = CONFIG_ROOTS;
  v.xorgModules = XORG_MODULES;
  v.xorgLibSubdirs = XORG_LIB_SUBDIRS;
  v.xorgDirs = xorgDirs();
  return v;
}

// What the driver provides per capability, as libnvidia-container defines it (BEHAVIOUR.md).

/** Library name prefixes (before `.so`) per capability, in reporting order. */
export const LIBRARIES: Record<string, string[]> = {
  utility: ["libnvidia-ml", "libnvidia-cfg", "libnvidia-nscq"],
  compute: [
    "libcuda", "libcudadebugger", "libnvidia-opencl", "libnvidia-gpucomp", "libnvidia-ptxjitcompiler",
    "libnvidia-fatbinaryloader", "libnvidia-allocator", "libnvidia-compiler", "libnvidia-pkcs11",
    "libnvidia-pkcs11-openssl3", "libnvidia-nvvm",
  ],
  video: ["libvdpau_nvidia", "libnvidia-encode", "libnvidia-opticalflow", "libnvcuvid"],
  graphics: [
    "libnvidia-eglcore", "libnvidia-glcore", "libnvidia-tls", "libnvidia-glsi", "libnvidia-fbc", "libnvidia-ifr",
    "libnvidia-rtcore", "libnvoptix", "libGLX_nvidia", "libEGL_nvidia", "libGLESv2_nvidia", "libGLESv1_CM_nvidia",
    "libnvidia-glvkspirv", "libnvidia-cbl",
  ],
  ngx: ["libnvidia-ngx"],
};

/** Which library groups a capability brings (video implies compute; display implies graphics). */
export const LIBRARY_GROUPS: Record<string, string[]> = {
  utility: ["utility"],
  compute: ["compute"],
  video: ["compute", "video"],
  graphics: ["graphics"],
  display: ["graphics"],
  ngx: ["ngx"],
  compat32: [],
};

export const BINARIES: Record<string, string[]> = {
  utility: ["nvidia-smi", "nvidia-debugdump", "nvidia-persistenced", "nv-fabricmanager"],
  compute: ["nvidia-cuda-mps-control", "nvidia-cuda-mps-server"],
};

export const IPCS: Record<string, string[]> = {
  utility: ["/var/run/nvidia-persistenced/socket", "/var/run/nvidia-fabricmanager/socket"],
  compute: ["/tmp/nvidia-mps"],
};

/** The search path for driver binaries under the driver root. */
export const BIN_PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

export const NVIDIA_MAJOR = 195;
export const CTL_MINOR = 255;
export const MODESET_MINOR = 254;

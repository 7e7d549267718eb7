// Graphics and display on a workstation-like fake host (test/fake/README.md, `graphics`): each
// GPU's DRM nodes and by-path links, the ICD, platform and Xorg files, the EGL platform libraries;
// through the hook, the runtime's jit-cdi mode and `nvidia-ctk cdi generate`.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { BIN, FAKEHOST, inFakeHost, scene } from "../setup";
import { validate } from "../schema";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";

const S = scene("e2e-graphics", { gfx: { ...THREE_MIXED, graphics: true }, plain: THREE_MIXED });
const V = "550.54.14";
const L = "/usr/lib/x86_64-linux-gnu";

/** What a graphics program would look for, one line each. */
const SCRIPT = `
echo "dri: $(ls /dev/dri 2>/dev/null | sort | tr '\\n' ' ')"
for l in /dev/dri/by-path/*; do [ -L "$l" ] && echo "bypath: $(basename $l) -> $(readlink $l)"; done
probe open /dev/dri/card* /dev/dri/renderD* 2>/dev/null | sed 's/^/opens: /'
for f in /usr/share/glvnd/egl_vendor.d/10_nvidia.json /usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json /usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json /etc/vulkan/icd.d/nvidia_icd.json /etc/vulkan/implicit_layer.d/nvidia_layers.json /etc/OpenCL/vendors/nvidia.icd /usr/share/nvidia/nvoptix.bin /usr/share/X11/xorg.conf.d/10-nvidia.conf ${L}/nvidia/xorg/nvidia_drv.so ${L}/nvidia/xorg/libglxserver_nvidia.so.${V}; do [ -f $f ] && echo "file: $f"; done
for l in ${L}/nvidia/xorg/libglxserver_nvidia.so ${L}/gbm/nvidia-drm_gbm.so ${L}/libnvidia-vulkan-producer.so; do [ -L $l ] && echo "link: $l -> $(readlink $l)"; done
probe dlopen libnvidia-egl-gbm.so.1 libnvidia-egl-wayland.so.1 ${L}/gbm/nvidia-drm_gbm.so | sed 's/^/dl: /'
echo "icd: $(cat /etc/OpenCL/vendors/nvidia.icd 2>/dev/null)"
`;

function lines(out: string, key: string): string[] {
  return out.split("\n").filter((l) => l.startsWith(key + ": ")).map((l) => l.slice(key.length + 2));
}

const FILES = [
  "/usr/share/glvnd/egl_vendor.d/10_nvidia.json",
  "/usr/share/egl/egl_external_platform.d/15_nvidia_gbm.json",
  "/usr/share/egl/egl_external_platform.d/10_nvidia_wayland.json",
  "/etc/vulkan/icd.d/nvidia_icd.json",
  "/etc/vulkan/implicit_layer.d/nvidia_layers.json",
  "/etc/OpenCL/vendors/nvidia.icd",
  "/usr/share/nvidia/nvoptix.bin",
  "/usr/share/X11/xorg.conf.d/10-nvidia.conf",
  `${L}/nvidia/xorg/nvidia_drv.so`,
  `${L}/nvidia/xorg/libglxserver_nvidia.so.${V}`,
];

describe("graphics through the hook", () => {
  test("graphics, GPU 1: its card and render nodes (allowed by the cgroup), their by-path links, the files where graphics looks, the EGL libraries", () => {
    const r = S.container({ fake: "gfx", env: ["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=graphics"], script: SCRIPT });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout, "dri")).toEqual(["by-path card2 renderD129 "]);
    expect(lines(r.stdout, "bypath")).toEqual(["pci-0000:3b:00.0-card -> ../card2", "pci-0000:3b:00.0-render -> ../renderD129"]);
    // ENXIO: the cgroup let the open through to a node no driver backs; EPERM would be the cgroup.
    expect(lines(r.stdout, "opens")).toEqual(["open /dev/dri/card2: ENXIO", "open /dev/dri/renderD129: ENXIO"]);
    expect(lines(r.stdout, "file")).toEqual(FILES);
    expect(lines(r.stdout, "link")).toEqual([`${L}/nvidia/xorg/libglxserver_nvidia.so -> libglxserver_nvidia.so.${V}`, `${L}/gbm/nvidia-drm_gbm.so -> ../libnvidia-allocator.so.1`, `${L}/libnvidia-vulkan-producer.so -> libnvidia-vulkan-producer.so.${V}`]);
    expect(lines(r.stdout, "dl")).toEqual(["dlopen libnvidia-egl-gbm.so.1: OK", "dlopen libnvidia-egl-wayland.so.1: OK", `dlopen ${L}/gbm/nvidia-drm_gbm.so: OK`]);
    expect(lines(r.stdout, "icd")).toEqual(["libnvidia-opencl.so.1"]);
  });

  test("display, all GPUs: every GPU's nodes, never the board's own card0", () => {
    const r = S.container({ fake: "gfx", env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=display"], script: SCRIPT });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout, "dri")).toEqual(["by-path card1 card2 card3 renderD128 renderD129 renderD130 "]);
    expect(lines(r.stdout, "bypath").length).toBe(6);
  });

  test("compute and utility: no DRM node, no graphics file", () => {
    const r = S.container({ fake: "gfx", env: ["NVIDIA_VISIBLE_DEVICES=1"], script: SCRIPT });
    expect(r.stderr).toBe("");
    expect(lines(r.stdout, "dri")).toEqual([""]);
    expect(lines(r.stdout, "file")).toEqual([]);
  });

  test("graphics on a host without the graphics stack: the libraries it has, no error", () => {
    const r = S.container({ fake: "plain", env: ["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=graphics"], script: SCRIPT });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(lines(r.stdout, "dri")).toEqual([""]);
  });
});

describe("graphics through the runtime and CDI", () => {
  test("jit-cdi: the spec carries the DRM nodes, the by-path hook and the files; the container sees them", () => {
    const dir = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=graphics,utility"], script: SCRIPT, hook: null });
    const cfg = S.file("jit.toml", '[nvidia-container-runtime]\nmode = "jit-cdi"\n');
    const r = spawnSync(FAKEHOST, [S.driver("gfx"), "--", join(import.meta.dir, "runtime.sh"), join(BIN, "nvidia-container-runtime"), join(dir, "state"), dir, `nvct-gfx-${process.pid}`], {
      encoding: "utf8",
      env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: cfg, PATH: `${BIN}:${process.env.PATH}` },
      timeout: 60_000,
    });
    expect(r.stdout).toContain("shim-exit: 0");
    const spec = JSON.parse(readFileSync(join(dir, "config.json"), "utf8"));
    expect(spec.linux.devices.filter((d: { path: string }) => d.path.startsWith("/dev/dri/")).map((d: { path: string; major: number }) => `${d.path} ${d.major}`)).toEqual(["/dev/dri/card2 226", "/dev/dri/renderD129 226"]);
    expect(lines(r.stdout, "bypath")).toEqual(["pci-0000:3b:00.0-card -> ../card2", "pci-0000:3b:00.0-render -> ../renderD129"]);
    expect(lines(r.stdout, "file")).toEqual(FILES);
  });

  test("cdi generate: each GPU's DRM nodes and by-path hook in its device, the files in the common edits; schema-valid", () => {
    const g = inFakeHost(S.driver("gfx"), [join(BIN, "nvidia-ctk"), "cdi", "generate", "--format", "json", "--nvidia-cdi-hook-path", "/usr/bin/nvidia-cdi-hook"]);
    expect(g.status).toBe(0);
    const spec = JSON.parse(g.stdout);
    expect(validate(spec, "cdi/schema.json")).toEqual([]);
    const one = spec.devices.find((d: { name: string }) => d.name === "1");
    expect(one.containerEdits.deviceNodes.map((n: { path: string }) => n.path)).toEqual(["/dev/nvidia1", "/dev/dri/card2", "/dev/dri/renderD129"]);
    expect(one.containerEdits.hooks).toEqual([
      { hookName: "createContainer", path: "/usr/bin/nvidia-cdi-hook", args: ["nvidia-cdi-hook", "create-symlinks", "--link", "../card2::/dev/dri/by-path/pci-0000:3b:00.0-card", "--link", "../renderD129::/dev/dri/by-path/pci-0000:3b:00.0-render"], env: ["NVIDIA_CTK_DEBUG=false"] },
    ]);
    const all = spec.devices.find((d: { name: string }) => d.name === "all");
    expect(all.containerEdits.deviceNodes.filter((n: { path: string }) => n.path.startsWith("/dev/dri/")).length).toBe(6);
    expect(all.containerEdits.hooks[0].args.filter((a: string) => a === "--link").length).toBe(6);
    const mounts = spec.containerEdits.mounts.map((m: { containerPath: string }) => m.containerPath);
    for (const f of FILES) expect(mounts).toContain(f);
    const links = spec.containerEdits.hooks.find((h: { args: string[] }) => h.args[1] === "create-symlinks").args;
    expect(links).toContain(`../libnvidia-allocator.so.1::${L}/gbm/nvidia-drm_gbm.so`);
    expect(links).toContain(`libglxserver_nvidia.so.${V}::${L}/nvidia/xorg/libglxserver_nvidia.so`);
  });

  test("explain names the DRM nodes with their rdev", () => {
    const b = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=graphics"] });
    const r = inFakeHost(S.driver("gfx"), [join(BIN, "nvidia-container-runtime-hook"), "explain", "--bundle", b]);
    expect(r.stdout).toContain("plan     node     /dev/dri/card1 (226:1) from /dev/dri/card1 ro,nosuid,noexec");
    expect(r.stdout).toContain("plan     link     /dev/dri/by-path/pci-0000:07:00.0-card -> ../card1");
  });
});

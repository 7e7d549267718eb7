// The core's `request`: what a container asks for, for the hook and for the runtime.
import { describe, expect, test } from "bun:test";
import { core, type ContainerSpec, type Policy } from "../../src/core";
import { failure } from "./fixture";

const POLICY: Policy = { acceptEnvvarUnprivileged: true, acceptVolumeMounts: false, disableRequire: false, swarmResource: [], supportedCapabilities: "", mode: "auto", annotationPrefixes: ["cdi.k8s.io/"], defaultKind: "nvidia.com/gpu", tegra: false, autoMode: "legacy" };
/** The runtime's policy: its `auto` resolves to jit-cdi (the hook's, above, to legacy). */
const RUNTIME: Partial<Policy> = { autoMode: "jit-cdi" };
type Facts = { spec: ContainerSpec; policy: Policy };
const facts = (env: string[], more: Partial<ContainerSpec> & { policy?: Partial<Policy> } = {}): Facts => {
  const { policy, ...spec } = more;
  return { spec: { env, mounts: [], privileged: false, annotations: [], ...spec }, policy: { ...POLICY, ...policy } };
};
const interpretRequest = (f: Facts) => core().request(f.spec, f.policy);
const VOL = "/var/run/nvidia-container-devices/";

describe("request: is it a GPU container, and what does it want", () => {
  const cases: [string, Facts, Record<string, unknown>][] = [
    ["no variable", facts(["PATH=/bin"]), { gpu: false }],
    ["empty", facts(["NVIDIA_VISIBLE_DEVICES="]), { gpu: false }],
    ["void", facts(["NVIDIA_VISIBLE_DEVICES=void"]), { gpu: false }],
    ["all with defaults", facts(["NVIDIA_VISIBLE_DEVICES=all"]), { gpu: true, devices: ["all"], caps: ["compute", "utility"], requires: [], legacyImage: false }],
    ["the last of a repeated variable wins", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_VISIBLE_DEVICES=1"]), { devices: ["1"] }],
    ["legacy image: all GPUs, all caps, cuda requirement", facts(["CUDA_VERSION=11.8.0"]), {
      gpu: true, devices: ["all"], source: "CUDA_VERSION", legacyImage: true,
      caps: ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"], requires: ["cuda>=11.8"],
    }],
    ["legacy with its own NVIDIA_REQUIRE_CUDA", facts(["CUDA_VERSION=11.8.0", "NVIDIA_REQUIRE_CUDA=cuda>=11.0"]), { requires: ["cuda>=11.0"] }],
    ["legacy with an explicit empty device list", facts(["CUDA_VERSION=11.8.0", "NVIDIA_VISIBLE_DEVICES="]), { gpu: false }],
    ["requirements sorted by name, JETPACK and empty ones skipped", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_Z=arch>=8", "NVIDIA_REQUIRE_JETPACK_X=cuda>=1", "NVIDIA_REQUIRE_A=driver>=500", "NVIDIA_REQUIRE_E="]), { requires: ["driver>=500", "arch>=8"] }],
    ["NVIDIA_DISABLE_REQUIRE=1", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=1"]), { requires: [] }],
    ["NVIDIA_DISABLE_REQUIRE=false keeps them", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=false"]), { requires: ["cuda>=99"] }],
    ["disable-require policy", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99"], { policy: { disableRequire: true } }), { requires: [] }],
    ["capabilities trimmed", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute, video"]), { caps: ["compute", "video"] }],
    ["unprivileged refused by policy", facts(["NVIDIA_VISIBLE_DEVICES=all"], { policy: { acceptEnvvarUnprivileged: false } }), { gpu: false }],
    ["privileged accepted despite the policy", facts(["NVIDIA_VISIBLE_DEVICES=all"], { privileged: true, policy: { acceptEnvvarUnprivileged: false } }), { gpu: true }],
    ["swarm resource first", facts(["DOCKER_RESOURCE_GPU=GPU-1", "NVIDIA_VISIBLE_DEVICES=all"], { policy: { swarmResource: ["DOCKER_RESOURCE_X", "DOCKER_RESOURCE_GPU"] } }), { devices: ["GPU-1"], source: "DOCKER_RESOURCE_GPU" }],
    ["volume mounts when accepted", facts(["NVIDIA_VISIBLE_DEVICES=all"], { mounts: [{ destination: VOL + "0", source: "/dev/null" }, { destination: VOL + "GPU-2", source: "/dev/null" }], policy: { acceptVolumeMounts: true } }), { devices: ["0", "GPU-2"], source: "volume-mounts" }],
    ["volume mounts ignored unless accepted", facts(["NVIDIA_VISIBLE_DEVICES=1"], { mounts: [{ destination: VOL + "0", source: "/dev/null" }] }), { devices: ["1"] }],
    ["a volume mount not from /dev/null is no request", facts(["NVIDIA_VISIBLE_DEVICES=1"], { mounts: [{ destination: VOL + "0", source: "/tmp" }], policy: { ...POLICY, acceptVolumeMounts: true } }), { devices: ["1"] }],
    ["IMEX channels from a volume mount and the env", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=3"], { mounts: [{ destination: VOL + "imex/1", source: "/dev/null" }, { destination: VOL + "0", source: "/dev/null" }], policy: { acceptVolumeMounts: true } }), { devices: ["0"], imex: ["1", "3"] }],
    ["MIG config when privileged", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MIG_CONFIG_DEVICES=all"], { privileged: true }), { migConfig: "all" }],
    ["supported-driver-capabilities limits all", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"], { policy: { supportedCapabilities: "utility" } }), { caps: ["utility"] }],
    ["none: no GPU, the driver", facts(["NVIDIA_VISIBLE_DEVICES=none"]), { gpu: true, devices: [] }],
    ["first of all/none wins: none", facts(["NVIDIA_VISIBLE_DEVICES=none,all"]), { gpu: true, devices: [] }],
    ["first of all/none wins: all", facts(["NVIDIA_VISIBLE_DEVICES=1,all,none"]), { gpu: true, devices: ["all"] }],
    ["void anywhere: nothing", facts(["NVIDIA_VISIBLE_DEVICES=0,void"]), { gpu: false }],
    ["IMEX channels: all", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=all"]), { imex: ["all"] }],
    ["the hook, auto: legacy for ids", facts(["NVIDIA_VISIBLE_DEVICES=0,1"]), { mode: "legacy", cdiDevices: [], jitDevices: [] }],
    ["the runtime, auto: jit-cdi for ids, generated in memory", facts(["NVIDIA_VISIBLE_DEVICES=0,1"], { policy: RUNTIME }), { mode: "jit-cdi", cdiDevices: [], jitDevices: ["0", "1"], devices: ["0", "1"] }],
    ["the runtime, auto: jit-cdi for a CUDA image without the variable: all", facts(["CUDA_VERSION=12.4.1"], { policy: RUNTIME }), { mode: "jit-cdi", jitDevices: ["all"], devices: ["all"] }],
    ["the runtime, jit-cdi: none is the driver without GPUs", facts(["NVIDIA_VISIBLE_DEVICES=none"], { policy: RUNTIME }), { mode: "jit-cdi", gpu: true, jitDevices: ["none"], devices: [] }],
    ["the runtime, jit-cdi: runtime.nvidia.com/gpu names, once", facts(["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=1,1,runtime.nvidia.com/gpu=GPU-abc"], { policy: { mode: "jit-cdi" } }), { mode: "jit-cdi", jitDevices: ["1", "GPU-abc"], devices: ["1", "GPU-abc"] }],
    ["the runtime, auto: qualified runtime.nvidia.com names are cdi mode, still generated in memory", facts(["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=all"], { policy: RUNTIME }), { mode: "cdi", cdiDevices: [], jitDevices: ["all"], devices: ["all"] }],
    ["the runtime, jit-cdi: annotations are cdi mode's only", facts(["NVIDIA_VISIBLE_DEVICES=1"], { annotations: [{ key: "cdi.k8s.io/a", value: "nvidia.com/gpu=0" }], policy: { mode: "jit-cdi" } }), { mode: "jit-cdi", jitDevices: ["1"] }],
    ["the runtime, jit-cdi: a volume-mounted CDI name goes to the spec dirs", facts([], { mounts: [{ destination: VOL + "cdi/nvidia.com/gpu/0", source: "/dev/null" }], policy: { mode: "jit-cdi", acceptVolumeMounts: true } }), { mode: "jit-cdi", cdiDevices: ["nvidia.com/gpu=0"], jitDevices: [] }],
    ["the runtime, jit-cdi: feature devices with generated devices", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_GDS=enabled"], { policy: RUNTIME }), { features: ["gds"] }],
    ["the runtime, cdi: no feature devices with spec-file devices alone", facts(["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0", "NVIDIA_GDS=enabled"], { policy: RUNTIME }), { mode: "cdi", features: [] }],
    ["the runtime, auto: cdi for qualified names", facts(["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0"]), { mode: "cdi", cdiDevices: ["nvidia.com/gpu=0"] }],
    ["the runtime, annotations before the env", facts(["NVIDIA_VISIBLE_DEVICES=all"], { annotations: [{ key: "cdi.k8s.io/a", value: "nvidia.com/gpu=0, nvidia.com/gpu=1" }] }), { mode: "cdi", cdiDevices: ["nvidia.com/gpu=0", "nvidia.com/gpu=1"] }],
    ["the runtime, other annotations ignored", facts(["NVIDIA_VISIBLE_DEVICES=0,1"], { annotations: [{ key: "other/a", value: "x=y" }], policy: RUNTIME }), { mode: "jit-cdi" }],
    ["the runtime, cdi mode: bare names get the default kind", facts(["NVIDIA_VISIBLE_DEVICES=0,example.com/x=1"], { policy: { mode: "cdi" } }), { mode: "cdi", cdiDevices: ["nvidia.com/gpu=0", "example.com/x=1"] }],
    ["the runtime, auto on Tegra: csv", facts(["NVIDIA_VISIBLE_DEVICES=0"], { policy: { tegra: true } }), { mode: "csv" }],
    ["the runtime, jit-cdi", facts(["NVIDIA_VISIBLE_DEVICES=0"], { policy: { mode: "jit-cdi" } }), { mode: "jit-cdi" }],
    ["feature devices when devices are asked for", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_GDS=enabled", "NVIDIA_MOFED=enabled", "NVIDIA_NVSWITCH=yes"]), { features: ["gds", "mofed"] }],
    ["no feature devices without devices", facts(["NVIDIA_VISIBLE_DEVICES=void", "NVIDIA_GDS=enabled"]), { features: [] }],
    ["capability defaults", facts(["NVIDIA_VISIBLE_DEVICES=0"]), { caps: ["compute", "utility"] }],
    ["capabilities: one", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=utility"]), { caps: ["utility"] }],
    ["capabilities in a fixed order, duplicates dropped", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=video,compute,graphics,video"]), { caps: ["compute", "graphics", "video"] }],
    ["capabilities: all", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"]), { caps: ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"] }],
    ["capabilities: all limited by supported", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"], { policy: { supportedCapabilities: "utility,compute" } }), { caps: ["compute", "utility"] }],
    ["capabilities: empty items ignored", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=,utility,"]), { caps: ["utility"] }],
  ];
  test.each(cases)("%s", (_d, f, want) => expect(interpretRequest(f) as any).toMatchObject(want));

  const bad: [string, Facts, string, string][] = [
    ["unknown capability", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,magic"]), "bad-capability", "unknown driver capability `magic`"],
    ["malformed CUDA_VERSION on a legacy image", facts(["CUDA_VERSION=latest"]), "bad-cuda-version", "invalid CUDA_VERSION `latest`"],
    ["MIG monitor unprivileged", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MIG_MONITOR_DEVICES=all"]), "mig-unprivileged", "cannot set NVIDIA_MIG_MONITOR_DEVICES"],
    ["bad IMEX channel", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=one"]), "bad-imex-channel", "invalid IMEX channel `one`"],
    ["a CDI device through a volume mount, in legacy mode", facts([], { mounts: [{ destination: VOL + "cdi/nvidia.com/gpu/0", source: "/dev/null" }], policy: { acceptVolumeMounts: true, mode: "legacy" } }), "cdi-in-legacy", "CDI device `nvidia.com/gpu/0`"],
    ["generated and spec-file CDI devices together", facts(["NVIDIA_VISIBLE_DEVICES=runtime.nvidia.com/gpu=0,nvidia.com/gpu=1"], { policy: RUNTIME }), "mixed-cdi-devices", "requesting a CDI device with vendor 'runtime.nvidia.com' is not supported when requesting other CDI devices (`nvidia.com/gpu=1`)"],
    ["case matters in capabilities", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=Compute"]), "bad-capability", "unknown driver capability `Compute`"],
    ["a capability not supported by config", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=video"], { policy: { supportedCapabilities: "utility,compute" } }), "bad-capability", "unsupported driver capability `video`"],
    ["a bad supported list", facts(["NVIDIA_VISIBLE_DEVICES=0"], { policy: { supportedCapabilities: "utility,warp" } }), "bad-capability", "unknown supported capability `warp`"],
    ["MIG config other than all", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MIG_CONFIG_DEVICES=0"], { privileged: true }), "bad-mig-devices", "invalid NVIDIA_MIG_CONFIG_DEVICES `0`: only `all` is supported"],
    ["an unqualified CDI annotation", facts([], { annotations: [{ key: "cdi.k8s.io/x", value: "gpu0" }] }), "bad-cdi-name", "invalid CDI device name `gpu0` in annotation `cdi.k8s.io/x`"],
    ["an unknown mode", facts(["NVIDIA_VISIBLE_DEVICES=0"], { policy: { mode: "magic" } }), "bad-mode", "unsupported mode `magic`"],
    ["thousands of ids", facts([`NVIDIA_VISIBLE_DEVICES=${Array.from({ length: 5000 }, (_, i) => i).join(",")}`]), "too-many-devices", "too many devices requested"],
  ];
  test.each(bad)("rejects %s", (_d, f, code, msg) => {
    const err = failure(() => interpretRequest(f));
    expect(err?.code).toBe(code);
    expect(err!.message).toContain(msg);
  });
});

import { describe, expect, test } from "bun:test";
import { interpretRequest, type RequestFacts } from "../../src/core";

const POLICY = { acceptEnvvarUnprivileged: true, acceptVolumeMounts: false, disableRequire: false, swarmResource: "", supportedCapabilities: "" };
const facts = (env: string[], more: Partial<RequestFacts> = {}): RequestFacts => ({ env, mounts: [], privileged: false, ...more, policy: { ...POLICY, ...more.policy } });
const VOL = "/var/run/nvidia-container-devices/";

describe("request: is it a GPU container, and what does it want", () => {
  const cases: [string, RequestFacts, Record<string, unknown>][] = [
    ["no variable", facts(["PATH=/bin"]), { gpu: false }],
    ["empty", facts(["NVIDIA_VISIBLE_DEVICES="]), { gpu: false }],
    ["void", facts(["NVIDIA_VISIBLE_DEVICES=void"]), { gpu: false }],
    ["all with defaults", facts(["NVIDIA_VISIBLE_DEVICES=all"]), { gpu: true, devices: "all", caps: ["compute", "utility"], requires: [], legacy: false }],
    ["the last of a repeated variable wins", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_VISIBLE_DEVICES=1"]), { devices: "1" }],
    ["legacy image: all GPUs, all caps, cuda requirement", facts(["CUDA_VERSION=11.8.0"]), {
      gpu: true, devices: "all", source: "CUDA_VERSION", legacy: true,
      caps: ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"], requires: ["cuda>=11.8"],
    }],
    ["legacy with its own NVIDIA_REQUIRE_CUDA", facts(["CUDA_VERSION=11.8.0", "NVIDIA_REQUIRE_CUDA=cuda>=11.0"]), { requires: ["cuda>=11.0"] }],
    ["legacy with an explicit empty device list", facts(["CUDA_VERSION=11.8.0", "NVIDIA_VISIBLE_DEVICES="]), { gpu: false }],
    ["requirements sorted by name, JETPACK and empty ones skipped", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_Z=arch>=8", "NVIDIA_REQUIRE_JETPACK_X=cuda>=1", "NVIDIA_REQUIRE_A=driver>=500", "NVIDIA_REQUIRE_E="]), { requires: ["driver>=500", "arch>=8"] }],
    ["NVIDIA_DISABLE_REQUIRE=1", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=1"]), { requires: [] }],
    ["NVIDIA_DISABLE_REQUIRE=false keeps them", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=false"]), { requires: ["cuda>=99"] }],
    ["disable-require policy", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>=99"], { policy: { ...POLICY, disableRequire: true } }), { requires: [] }],
    ["capabilities trimmed", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute, video"]), { caps: ["compute", "video"] }],
    ["unprivileged refused by policy", facts(["NVIDIA_VISIBLE_DEVICES=all"], { policy: { ...POLICY, acceptEnvvarUnprivileged: false } }), { gpu: false }],
    ["privileged accepted despite the policy", facts(["NVIDIA_VISIBLE_DEVICES=all"], { privileged: true, policy: { ...POLICY, acceptEnvvarUnprivileged: false } }), { gpu: true }],
    ["swarm resource first", facts(["DOCKER_RESOURCE_GPU=GPU-1", "NVIDIA_VISIBLE_DEVICES=all"], { policy: { ...POLICY, swarmResource: "DOCKER_RESOURCE_X,DOCKER_RESOURCE_GPU" } }), { devices: "GPU-1", source: "DOCKER_RESOURCE_GPU" }],
    ["volume mounts when accepted", facts(["NVIDIA_VISIBLE_DEVICES=all"], { mounts: [{ destination: VOL + "0", source: "/dev/null" }, { destination: VOL + "GPU-2", source: "/dev/null" }], policy: { ...POLICY, acceptVolumeMounts: true } }), { devices: "0,GPU-2", source: "volume-mounts" }],
    ["volume mounts ignored unless accepted", facts(["NVIDIA_VISIBLE_DEVICES=1"], { mounts: [{ destination: VOL + "0", source: "/dev/null" }] }), { devices: "1" }],
    ["a volume mount not from /dev/null is no request", facts(["NVIDIA_VISIBLE_DEVICES=1"], { mounts: [{ destination: VOL + "0", source: "/tmp" }], policy: { ...POLICY, acceptVolumeMounts: true } }), { devices: "1" }],
    ["IMEX channels from a volume mount and the env", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=3"], { mounts: [{ destination: VOL + "imex/1", source: "/dev/null" }, { destination: VOL + "0", source: "/dev/null" }], policy: { ...POLICY, acceptVolumeMounts: true } }), { devices: "0", imex: ["1", "3"] }],
    ["MIG config when privileged", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MIG_CONFIG_DEVICES=all"], { privileged: true }), { migConfig: "all" }],
    ["supported-driver-capabilities limits all", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=all"], { policy: { ...POLICY, supportedCapabilities: "utility" } }), { caps: ["utility"] }],
  ];
  test.each(cases)("%s", (_d, f, want) => expect(interpretRequest(f) as any).toMatchObject(want));

  const bad: [string, RequestFacts, string, string][] = [
    ["unknown capability", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,magic"]), "bad-capability", "unknown driver capability `magic`"],
    ["malformed CUDA_VERSION on a legacy image", facts(["CUDA_VERSION=latest"]), "bad-cuda-version", "invalid CUDA_VERSION `latest`"],
    ["MIG monitor unprivileged", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_MIG_MONITOR_DEVICES=all"]), "mig-unprivileged", "cannot set NVIDIA_MIG_MONITOR_DEVICES"],
    ["bad IMEX channel", facts(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_IMEX_CHANNELS=one"]), "bad-imex-channel", "invalid IMEX channel `one`"],
    ["a CDI device through a volume mount", facts([], { mounts: [{ destination: VOL + "cdi/nvidia.com/gpu/0", source: "/dev/null" }], policy: { ...POLICY, acceptVolumeMounts: true } }), "cdi-in-legacy", "CDI device `nvidia.com/gpu/0`"],
  ];
  test.each(bad)("rejects %s", (_d, f, code, msg) => {
    let err: any;
    try {
      interpretRequest(f);
    } catch (e) {
      err = e;
    }
    expect(err?.code).toBe(code);
    expect(err.message).toContain(msg);
  });
});

// Kubernetes as kubelet drives it: Debian's containerd 1.6 with its CRI plugin, configured by
// `nvidia-ctk runtime configure --runtime=containerd`, in the fake host; this test makes the CRI
// calls kubelet makes for a pod with `runtimeClassName: nvidia` (runtime handler `nvidia`, host
// networking) over containerd's socket with gRPC (test/cri/client.ts), the GPU asked for as the
// NVIDIA device plugin asks: NVIDIA_VISIBLE_DEVICES (its envvar strategy) with the runtime in
// legacy mode, or a CDI annotation (its cdi-annotations strategy) with the runtime in cdi mode.
// One containerd per mode; images imported from tarballs made here.
import { beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { CriClient, criLogLines } from "../cri/client";
import { dockerArchive, pauseImage } from "../cri/images";
import { THREE_MIXED } from "../fake/driver";
import { BIN, FAKEHOST, scene } from "../setup";
import { makeRootfs, parseReport, REPORT, type Report } from "./bundle";

const S = scene("cri", { mixed: THREE_MIXED });
const CRI_SH = join(import.meta.dir, "cri.sh");
const IMAGE = "nvct.local/gpu-report:1";
const GPU1 = ["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"];
/** A CDI spec's common edits carry the modeset node too, as the reference's do (podman's test sees the same). */
const GPU1_CDI = ["nvidia-modeset", ...GPU1];
let pauseTar = "";
let imageTar = "";

beforeAll(() => {
  const d = S.dir("images");
  pauseTar = pauseImage(d, "nvct.local/pause:1");
  const img = S.dir("image");
  imageTar = dockerArchive(join(d, "gpu-report.tar"), makeRootfs(img, { debian: true }), IMAGE, { Cmd: ["/bin/sh"] });
});

type Mode = "legacy" | "cdi";

/** What one container of the pod did, as kubelet sees it. */
interface ContainerResult {
  created?: string;
  started?: string;
  state?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  log: string;
  report?: Report;
  /** The OCI spec containerd gave the runtime (ContainerStatus verbose info). */
  spec?: any;
}

interface NodeRun {
  version: Record<string, string>;
  v1alpha2: Record<string, string> | string;
  imageStatus: Record<string, any>;
  sandbox: Record<string, any>;
  sandboxSpec: any;
  gpu: ContainerResult;
  /** A sidecar of the same pod that asked for no GPU. */
  sidecar: ContainerResult;
  unknown: ContainerResult;
  after: { containers: unknown[]; sandboxes: unknown[] };
  /** cri.sh's report once containerd stopped: mounts and processes left. */
  left: { tasks: string[]; containers: string[]; mounts: string[]; procs: string[] };
  seconds: { up: number; pod: number; total: number };
  logs: string;
}

const DEVICE_PLUGIN = "cdi.k8s.io/nvidia-device-plugin_3f1c8e2a-5b7d-4c9e-a1f0-6d2b8e4c7a90";

/** A container asking for one GPU the way the device plugin's Allocate answer makes kubelet ask. */
function gpuRequest(mode: Mode, id: string | null): { envs: { key: string; value: string }[]; annotations: Record<string, string> } {
  if (id === null) return { envs: [], annotations: {} };
  return mode === "legacy" ? { envs: [{ key: "NVIDIA_VISIBLE_DEVICES", value: id }], annotations: {} } : { envs: [], annotations: { [DEVICE_PLUGIN]: `nvidia.com/gpu=${id}` } };
}

async function waitExited(cri: CriClient, id: string): Promise<Record<string, any>> {
  for (let i = 0; i < 300; i++) {
    const { status } = await cri.runtime("ContainerStatus", { container_id: id });
    if (status.state === "CONTAINER_EXITED") return status;
    await Bun.sleep(50);
  }
  throw new Error(`container ${id} did not exit`);
}

/** Create, start, wait for, stop and remove one container of the sandbox, as kubelet does. */
async function runContainer(cri: CriClient, sandboxId: string, sandboxConfig: Record<string, any>, logDir: string, name: string, ask: ReturnType<typeof gpuRequest>): Promise<ContainerResult> {
  const r: ContainerResult = { log: "" };
  const hostNs = { network: "NODE", pid: "CONTAINER", ipc: "POD" };
  const { container_id: id } = await cri.runtime("CreateContainer", {
    pod_sandbox_id: sandboxId,
    sandbox_config: sandboxConfig,
    config: {
      metadata: { name, attempt: 0 },
      image: { image: IMAGE },
      command: ["/bin/sh", "-c", REPORT],
      envs: [{ key: "PATH", value: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" }, ...ask.envs],
      labels: { "io.kubernetes.container.name": name, "io.kubernetes.pod.name": "cuda-report", "io.kubernetes.pod.namespace": "default" },
      annotations: { "io.kubernetes.container.restartCount": "0", "io.kubernetes.container.terminationMessagePath": "/dev/termination-log", ...ask.annotations },
      log_path: `${name}/0.log`,
      linux: { security_context: { namespace_options: hostNs } },
    },
  });
  r.created = id;
  try {
    try {
      await cri.runtime("StartContainer", { container_id: id });
      r.started = id;
    } catch (e) {
      r.message = (e as Error).message;
    }
    const status = r.started ? await waitExited(cri, id) : (await cri.runtime("ContainerStatus", { container_id: id })).status;
    const verbose = await cri.runtime("ContainerStatus", { container_id: id, verbose: true });
    r.spec = verbose.info?.info ? JSON.parse(verbose.info.info).runtimeSpec : undefined;
    r.state = status.state;
    r.exitCode = status.exit_code;
    r.reason = status.reason;
    r.message ??= status.message;
    const logFile = status.log_path || join(logDir, `${name}/0.log`);
    if (existsSync(logFile)) r.log = criLogLines(readFileSync(logFile, "utf8")).map((l) => l.line).join("\n");
    if (r.started) r.report = parseReport(r.log);
  } finally {
    await cri.runtime("StopContainer", { container_id: id, timeout: 30 });
    await cri.runtime("RemoveContainer", { container_id: id });
  }
  return r;
}

/** One GPU node: containerd up in the fake host, one pod through the CRI, containerd down. */
async function node(mode: Mode): Promise<NodeRun> {
  const t0 = performance.now();
  const dir = S.dir(`node-${mode}-`);
  const proc = Bun.spawn([FAKEHOST, S.driver(), "--", CRI_SH, dir, mode, pauseTar, imageTar], {
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, NVCT_BIN: BIN },
  });
  const logs = () =>
    ["configure.log", "containerd.log", "nvidia-container-runtime.log", "cdi-generate.log"]
      .filter((f) => existsSync(join(dir, f)))
      .map((f) => `--- ${f}\n${readFileSync(join(dir, f), "utf8").slice(-4000)}`)
      .join("\n");
  let cri: CriClient | undefined;
  const run: Partial<NodeRun> = {};
  let failure: unknown;
  try {
    for (let i = 0; !existsSync(join(dir, "ready")); i++) {
      if (proc.exitCode !== null || i > 600) throw new Error(`cri.sh did not start containerd (${proc.exitCode}): ${await new Response(proc.stderr).text()}\n${logs()}`);
      await Bun.sleep(50);
    }
    const t1 = performance.now();
    run.seconds = { up: (t1 - t0) / 1000, pod: 0, total: 0 };
    cri = new CriClient(join(dir, "containerd.sock"));
    run.version = await cri.runtime("Version", { version: "v1" });
    run.v1alpha2 = await cri.v1alpha2("Version", { version: "v1alpha2" }).catch((e: Error) => e.message);
    // kubelet asks for the image first (imagePullPolicy IfNotPresent: present, so no pull).
    run.imageStatus = await cri.image("ImageStatus", { image: { image: IMAGE } });
    const uid = "8d0c9a56-2f7e-4b1a-9c3d-5e6f7a8b9c0d";
    const logDir = join(dir, "pods", `default_cuda-report_${uid}`);
    mkdirSync(logDir, { recursive: true });
    const sandboxConfig = {
      metadata: { name: "cuda-report", uid, namespace: "default", attempt: 0 },
      hostname: "",
      log_directory: logDir,
      labels: { "io.kubernetes.pod.name": "cuda-report", "io.kubernetes.pod.namespace": "default", "io.kubernetes.pod.uid": uid },
      annotations: { "kubernetes.io/config.source": "api" },
      linux: { security_context: { namespace_options: { network: "NODE", pid: "CONTAINER", ipc: "POD" } } },
    };
    const { pod_sandbox_id: sandboxId } = await cri.runtime("RunPodSandbox", { config: sandboxConfig, runtime_handler: "nvidia" });
    try {
      run.sandbox = (await cri.runtime("PodSandboxStatus", { pod_sandbox_id: sandboxId })).status;
      const verbose = await cri.runtime("PodSandboxStatus", { pod_sandbox_id: sandboxId, verbose: true });
      run.sandboxSpec = verbose.info?.info ? JSON.parse(verbose.info.info).runtimeSpec : undefined;
      run.gpu = await runContainer(cri, sandboxId, sandboxConfig, logDir, "cuda", gpuRequest(mode, "1"));
      run.sidecar = await runContainer(cri, sandboxId, sandboxConfig, logDir, "sidecar", gpuRequest(mode, null));
      run.unknown = await runContainer(cri, sandboxId, sandboxConfig, logDir, "bad-gpu", gpuRequest(mode, "7"));
    } finally {
      await cri.runtime("StopPodSandbox", { pod_sandbox_id: sandboxId });
      await cri.runtime("RemovePodSandbox", { pod_sandbox_id: sandboxId });
    }
    run.after = { containers: (await cri.runtime("ListContainers")).containers, sandboxes: (await cri.runtime("ListPodSandbox")).items };
    run.seconds.pod = (performance.now() - t1) / 1000;
  } catch (e) {
    failure = e;
  } finally {
    cri?.close();
    proc.stdin.end();
    await proc.exited;
  }
  const out = await new Response(proc.stdout).text();
  run.logs = logs();
  if (failure) throw new Error(`${(failure as Error).message}\n${run.logs}`);
  if (proc.exitCode !== 0) throw new Error(`cri.sh failed (${proc.exitCode}): ${await new Response(proc.stderr).text()}\n${run.logs}`);
  // A line cri.sh did not print is an error, never an empty list (which the tests read as "nothing left").
  const field = (name: string) => {
    const m = new RegExp(`^${name}:(.*)$`, "m").exec(out);
    if (!m) throw new Error(`cri.sh printed no \`${name}:\` line:\n${out}\n${run.logs}`);
    return m[1].split(" ").filter(Boolean);
  };
  run.left = { tasks: field("left-tasks"), containers: field("left-containers"), mounts: field("left-mounts"), procs: field("left-procs") };
  run.seconds!.total = (performance.now() - t0) / 1000;
  const s = run.seconds!;
  console.log(`cri ${mode}: containerd up and images imported in ${s.up.toFixed(1)} s, the pod's CRI calls ${s.pod.toFixed(1)} s, all ${s.total.toFixed(1)} s`);
  return run as NodeRun;
}

describe.each(["legacy", "cdi"] as Mode[])("a pod with runtimeClassName nvidia, %s mode (containerd 1.6 CRI)", (mode) => {
  let n: NodeRun;
  beforeAll(async () => {
    n = await node(mode);
  }, 180_000);

  test("containerd serves the CRI runtime.v1 and runtime.v1alpha2", () => {
    expect(n.version.runtime_name).toBe("containerd");
    expect(n.version.runtime_api_version).toBe("v1");
    expect(n.v1alpha2).toMatchObject({ runtime_name: "containerd", runtime_api_version: "v1alpha2" });
  });

  test("the image is there, imported from the test's tarball", () => {
    expect(n.imageStatus.image?.repo_tags).toContain(IMAGE);
  });

  test("the sandbox runs under the runtime handler nvidia, in the node's network namespace", () => {
    expect(n.sandbox.state).toBe("SANDBOX_READY");
    expect(n.sandbox.runtime_handler).toBe("nvidia");
    const namespaces = (n.sandboxSpec?.linux?.namespaces ?? []).map((x: { type: string }) => x.type);
    expect(namespaces).not.toContain("network");
  });

  test("the pod's container sees exactly GPU 1 and loads libcuda", () => {
    const c = n.gpu;
    expect(c.message ?? "").toBe("");
    expect(c.state).toBe("CONTAINER_EXITED");
    expect(c.exitCode).toBe(0);
    expect(c.report!.nodes).toEqual(mode === "legacy" ? GPU1 : GPU1_CDI);
    expect(c.report!.opens).toContain("open /dev/nvidia1: ENXIO");
    expect(c.report!.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
    // The driver's procfs directories are the legacy hook's; CDI edits carry nodes and files only.
    expect(c.report!.gpus).toEqual(mode === "legacy" ? ["0000:3b:00.0"] : []);
  });

  test("containerd handed the runtime the device plugin's request", () => {
    if (mode === "legacy") expect(n.gpu.spec.process.env).toContain("NVIDIA_VISIBLE_DEVICES=1");
    // containerd 1.6 passes a CRI annotation into the OCI spec only when the runtime lists it.
    else expect(n.gpu.spec.annotations[DEVICE_PLUGIN]).toBe("nvidia.com/gpu=1");
  });

  test("a sidecar in the same pod that asked for no GPU gets none", () => {
    const c = n.sidecar;
    expect(c.exitCode).toBe(0);
    expect(c.report!.nodes).toEqual([]);
    expect(c.report!.gpus).toEqual([]);
    expect(c.report!.dl.map((l) => l.split(": ")[1].slice(0, 4))).toEqual(["FAIL", "FAIL"]);
  });

  test("an unknown GPU: the container does not start, and kubelet gets nvct's message", () => {
    const c = n.unknown;
    expect(c.started).toBeUndefined();
    expect(c.message).toContain(mode === "legacy" ? "unknown device `7`" : "nvidia.com/gpu=7");
    expect(c.report).toBeUndefined();
  });

  test("stop and remove leave nothing: no container, no sandbox, no mount, no shim", () => {
    expect(n.after).toEqual({ containers: [], sandboxes: [] });
    expect(n.left).toEqual({ tasks: [], containers: [], mounts: [], procs: [] });
  });
});

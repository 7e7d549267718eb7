// NVML failing: initialisation, one call for one GPU, a GPU lost (NVML_ERROR_GPU_IS_LOST). The
// hook's message names NVML's own error (nvmlErrorString's words), the failure is never kept in
// the decision cache (the next start, NVML healthy again, gets its GPUs, the failed GPU included),
// and a GPU NVML cannot read stops only the containers that ask for it (`all` does).
// libnvidia-container reads every GPU for every container and fails them all; nvct reads every GPU
// too (indices are NVML's), leaves out the ones it cannot read, and refuses a request that may
// name one of them.
import { beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { FOUR_H100, nvmlConfig, type Scenario } from "../fake/driver";
import { inFakeHost, NVCT, scene } from "../setup";
import { caseBundle, readCase, reportOf, runCases } from "./faultkit";

const S = scene("nvml", { h100: FOUR_H100 });
const UUID3 = FOUR_H100.gpus[3].uuid;
const DRIVER_NOT_LOADED = 9;
const UNKNOWN = 999;

/** The device nodes of a container given these GPUs (minors), as `ls /dev | sort` lists them. */
const nodes = (...minors: number[]) => ["nvidia-uvm", "nvidia-uvm-tools", ...minors.map((m) => `nvidia${m}`), "nvidiactl"].sort();

interface NvmlCase {
  name: string;
  /** What the failing NVML is. */
  nvml: Partial<Scenario>;
  /** NVIDIA_VISIBLE_DEVICES of the start with the failing NVML, and of the next (healthy) one. */
  ask: string;
  next: string;
  /** null: the container starts with these nodes; a string: it does not, and the hook says so. */
  starts: string[] | null;
  error?: string;
  nextNodes: string[];
}

const CASES: NvmlCase[] = [
  { name: "NVML cannot be initialised (Driver Not Loaded)", nvml: { fail: { nvmlInit_v2: DRIVER_NOT_LOADED } }, ask: "1", next: "1", starts: null, error: "initialization error: nvml error: nvmlInit_v2: Driver Not Loaded", nextNodes: nodes(1) },
  { name: "the GPU count cannot be read (Unknown Error)", nvml: { fail: { nvmlDeviceGetCount_v2: UNKNOWN } }, ask: "0", next: "0", starts: null, error: "initialization error: nvml error: nvmlDeviceGetCount_v2: Unknown Error", nextNodes: nodes(0) },
  { name: "GPU 3 lost, the container asks for GPU 1: it starts; the next asks for GPU 3, NVML healthy: it gets it", nvml: { lost: [3] }, ask: "1", next: "3", starts: nodes(1), nextNodes: nodes(3) },
  { name: "GPU 3 lost, the container asks for no GPU (none): it starts", nvml: { lost: [3] }, ask: "none", next: "all", starts: nodes(), nextNodes: nodes(0, 1, 2, 3) },
  { name: "GPU 3 lost, the container asks for GPU 3", nvml: { lost: [3] }, ask: "3", next: "3", starts: null, error: "initialization error: nvml error: GPU 3: nvmlDeviceGetHandleByIndex_v2: GPU is lost", nextNodes: nodes(3) },
  { name: "GPU 3 lost, the container asks for all", nvml: { lost: [3] }, ask: "all", next: "all", starts: null, error: "initialization error: nvml error: GPU 3: nvmlDeviceGetHandleByIndex_v2: GPU is lost", nextNodes: nodes(0, 1, 2, 3) },
  { name: "GPU 3 lost, the container asks for it by UUID", nvml: { lost: [3] }, ask: UUID3, next: UUID3, starts: null, error: `initialization error: nvml error: GPU 3: nvmlDeviceGetHandleByIndex_v2: GPU is lost (\`${UUID3}\` is none of the GPUs NVML could read)`, nextNodes: nodes(3) },
  { name: "GPU 2's UUID cannot be read (Unknown Error), the container asks for GPUs 0 and 1: it starts", nvml: { failGpu: [["nvmlDeviceGetUUID", UNKNOWN, 2]] }, ask: "0,1", next: "2", starts: nodes(0, 1), nextNodes: nodes(2) },
  { name: "GPU 2's UUID cannot be read (Unknown Error), the container asks for GPU 2", nvml: { failGpu: [["nvmlDeviceGetUUID", UNKNOWN, 2]] }, ask: "2", next: "2", starts: null, error: "initialization error: nvml error: GPU 2: nvmlDeviceGetUUID: Unknown Error", nextNodes: nodes(2) },
];

const dirs = new Map<string, string>();

beforeAll(() => {
  for (const c of CASES) {
    const dir = S.dir("n");
    const conf = join(dir, "fake-nvml.conf");
    writeFileSync(conf, nvmlConfig({ ...FOUR_H100, ...c.nvml }));
    caseBundle(dir, { cache: join(dir, "cache"), env: [`NVIDIA_VISIBLE_DEVICES=${c.ask}`], nextEnv: [`NVIDIA_VISIBLE_DEVICES=${c.next}`], hookEnv: [`NVCT_FAKE_NVML_CONFIG=${conf}`], id: `nvct-nvml-${process.pid}-${dir.split("/").pop()}` });
    dirs.set(c.name, dir);
  }
  console.log(`nvml: ${dirs.size} cases in ${runCases(S, [...dirs.values()]).toFixed(1)} s`);
}, 600_000);

describe("NVML errors", () => {
  test.each(CASES.map((c) => [c.name, c] as const))("%s", (_n, c) => {
    const dir = dirs.get(c.name)!;
    const why = `${dir}\n${readCase(dir, "fail.err")}`;
    const r = reportOf(dir, "fail");
    if (c.starts) {
      expect(readCase(dir, "fail.rc").trim(), why).toBe("0");
      expect(r.nodes, why).toEqual(c.starts);
    } else {
      expect(readCase(dir, "fail.rc").trim(), why).not.toBe("0");
      expect(readCase(dir, "fail.err"), why).toContain(`nvidia-container-runtime-hook: ${c.error}\\n`);
    }
    // Nothing of what NVML answered then is kept: no inventory, facts or index entry.
    expect(readCase(dir, "cache.after").split("\n").filter((l) => /^(inventory|facts|index)-/.test(l)), why).toEqual([]);
    expect(readCase(dir, "host.after"), why).toBe(readCase(dir, "host.before"));
    expect(readCase(dir, "left") + readCase(dir, "temps.after"), why).toBe("");
    // The next start, NVML healthy: NVML is asked again, the GPU that had failed is there.
    expect(readCase(dir, "next.rc").trim(), `${why}\n${readCase(dir, "next.err")}`).toBe("0");
    expect(reportOf(dir, "next").nodes).toEqual(c.nextNodes);
  });

  test("nvidia-container-cli info, which reports every GPU, names the one NVML cannot read", () => {
    const conf = join(S.dir("info"), "fake-nvml.conf");
    writeFileSync(conf, nvmlConfig({ ...FOUR_H100, lost: [3] }));
    const r = inFakeHost(S.driver(), [NVCT, "nvidia-container-cli", "info"], { env: { NVCT_FAKE_NVML_CONFIG: conf } });
    expect(r.stderr).toBe("nvidia-container-cli: initialization error: nvml error: GPU 3: nvmlDeviceGetHandleByIndex_v2: GPU is lost\n");
    expect(r.status).toBe(1);
  });
});

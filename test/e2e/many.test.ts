// 64 containers at once: real runc containers started at the same moment on an 8-GPU fake host,
// with a cold decision cache (a fresh directory in the fake host's /run) and mixed selections.
// Each must start within its hook's timeout and see exactly its GPUs; afterwards no runc state
// and no mount is left, and the cache holds whole, valid entries only (no temporary file). All 64
// run in one fake host session; the round's wall time is printed.
import { beforeAll, describe, expect, test } from "bun:test";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { withGpus } from "../fake/driver";
import { inFakeHost, scene } from "../setup";
import { parseReport, type Report } from "./bundle";

const EIGHT = withGpus(8);
const S = scene("e2e-many", { eight: EIGHT });
const N = 64;
const CACHE = `/run/nvct-many-${process.pid}`;
/** runc kills a hook that runs longer (seconds); the whole round must fit well inside it. */
const HOOK_TIMEOUT = 60;

/** A light report: the container's NVIDIA nodes, which of them open (ENXIO: allowed), its GPUs, libraries. */
const SCRIPT = `
echo "nodes:" $(ls /dev | grep -E '^nvidia' | sort)
probe open $(ls -d /dev/nvidia[0-9]* /dev/nvidiactl /dev/nvidia-uvm 2>/dev/null) | sed 's/^/opens: /'
echo "gpus:" $(ls /proc/driver/nvidia/gpus 2>/dev/null)
echo "libs:" $(ls /usr/lib/x86_64-linux-gnu 2>/dev/null | grep -E '\\.so\\.550' | sort)
`;

interface Want {
  label: string;
  env: string[];
  /** GPU minors the container must see. */
  gpus: number[];
  /** Control nodes: ctl and uvm (compute), ctl only (utility), none (not a GPU container). */
  control: "compute" | "utility" | "none";
}

const bus = (m: number) => `0000:${(0x18 + m).toString(16)}:00.0`;

/** The i-th container's selection: eight kinds in turn, over the eight GPUs. */
function want(i: number): Want {
  const k = Math.floor(i / 8) % 8;
  switch (i % 8) {
    case 0:
      return { label: "all", env: ["NVIDIA_VISIBLE_DEVICES=all"], gpus: [0, 1, 2, 3, 4, 5, 6, 7], control: "compute" };
    case 1:
      return { label: `index ${k}`, env: [`NVIDIA_VISIBLE_DEVICES=${k}`], gpus: [k], control: "compute" };
    case 2:
      return { label: `UUID of ${k}`, env: [`NVIDIA_VISIBLE_DEVICES=${EIGHT.gpus[k].uuid}`], gpus: [k], control: "compute" };
    case 3: {
      const several = [...new Set([k, (k + 3) % 8, (k + 5) % 8])].sort();
      return { label: `several ${several}`, env: [`NVIDIA_VISIBLE_DEVICES=${several.join(",")}`], gpus: several, control: "compute" };
    }
    case 4:
      return { label: `utility only, ${k}`, env: [`NVIDIA_VISIBLE_DEVICES=${k}`, "NVIDIA_DRIVER_CAPABILITIES=utility"], gpus: [k], control: "utility" };
    case 5:
      return { label: "none", env: ["NVIDIA_VISIBLE_DEVICES=none"], gpus: [], control: "compute" };
    case 6:
      return { label: "void", env: ["NVIDIA_VISIBLE_DEVICES=void"], gpus: [], control: "none" };
    default:
      return { label: "no variable", env: [], gpus: [], control: "none" };
  }
}

let results: { rc: number; report: Report; err: string }[] = [];
let summary = "";
let cacheDir = "";
let roundMs = 0;

beforeAll(() => {
  const config = `[nvct]\ncache-dir = "${CACHE}"\n`;
  const bundles = Array.from({ length: N }, (_, i) => {
    const b = S.bundle({ env: want(i).env, script: SCRIPT, config });
    const f = join(b, "config.json");
    const spec = JSON.parse(readFileSync(f, "utf8"));
    spec.hooks.prestart[0].timeout = HOOK_TIMEOUT;
    writeFileSync(f, JSON.stringify(spec));
    return b;
  });
  const w = S.dir("round");
  cacheDir = join(w, "cache");
  const state = join(w, "runc-state");
  const prefix = `nvct-many-${process.pid}`;
  // Each container waits on a FIFO; opening it for writing releases all 64 at the same moment.
  const script = `
    set -u
    mounts() { awk '{print $4, $5, $9, $10}' /proc/self/mountinfo | sort; }
    before=$(mounts)
    [ -e ${CACHE} ] && { echo "the cache is not cold"; exit 1; }
    mkfifo ${w}/go
    bundles=(${bundles.join(" ")})
    for i in $(seq 0 ${N - 1}); do
      b=\${bundles[$i]}
      ( read -r _ < ${w}/go; timeout -k 5 ${HOOK_TIMEOUT * 2} runc --root ${state} run --bundle $b ${prefix}-$i >$b/out 2>$b/err; echo $? >$b/rc ) &
    done
    sleep 0.2
    start=$(date +%s%N)
    exec 3>${w}/go
    exec 3>&-
    wait
    echo "round: $((($(date +%s%N) - start) / 1000000)) ms"
    echo "runc: $(runc --root ${state} list -q 2>/dev/null | wc -l)"
    [ "$(mounts)" = "$before" ] && echo "mounts: same" || { echo "mounts: changed"; diff <(echo "$before") <(mounts); }
    cp -a ${CACHE} ${cacheDir}
  `;
  const t = performance.now();
  const r = inFakeHost(S.driver(), ["bash", "-c", script], { timeout: 300_000 });
  roundMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`the round failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  summary = r.stdout;
  results = bundles.map((b) => ({ rc: Number(readFileSync(join(b, "rc"), "utf8")), report: parseReport(readFileSync(join(b, "out"), "utf8")), err: readFileSync(join(b, "err"), "utf8") }));
  console.log(`64 at once: ${/^round: (\d+ ms)$/m.exec(summary)?.[1]} for the round (start to last exit), ${(roundMs / 1000).toFixed(1)} s with the fake host`);
}, 330_000);

describe("64 containers at once, 8 GPUs, a cold cache, mixed selections", () => {
  test.each(Array.from({ length: N }, (_, i) => [i, want(i).label] as const))("container %d (%s) sees exactly its GPUs", (i) => {
    const w = want(i);
    const r = results[i];
    expect(r.err).toBe("");
    expect(r.rc).toBe(0);
    const control = w.control === "compute" ? ["nvidia-uvm", "nvidia-uvm-tools", "nvidiactl"] : w.control === "utility" ? ["nvidiactl"] : [];
    expect(r.report.nodes).toEqual([...control, ...w.gpus.map((m) => `nvidia${m}`)].sort());
    expect(r.report.gpus).toEqual(w.gpus.map(bus).sort());
    // Each injected node is allowed by the device cgroup (ENXIO: no driver behind it).
    expect(r.report.opens.sort()).toEqual([...w.gpus.map((m) => `/dev/nvidia${m}`), ...(w.control === "none" ? [] : ["/dev/nvidiactl"]), ...(w.control === "compute" ? ["/dev/nvidia-uvm"] : [])].sort().map((p) => `open ${p}: ENXIO`));
    expect(r.report.libs.length).toBe(w.control === "compute" ? 10 : w.control === "utility" ? 2 : 0);
  });

  test("nothing is left: no runc state, the mount table as before", () => {
    expect(summary).toContain("runc: 0\n");
    expect(summary).toContain("mounts: same\n");
  });

  test("the cache ends valid: whole entries of known kinds, each parsing, no temporary file", () => {
    const names = readdirSync(cacheDir);
    expect(names.length).toBeGreaterThan(0);
    expect(names.filter((n) => !/^(inventory|index|facts|request|plan|jit|ldcache)-[0-9a-f]{16}$/.test(n))).toEqual([]);
    for (const n of names) {
      const bytes = readFileSync(join(cacheDir, n));
      if (n.startsWith("ldcache-")) {
        expect(bytes.includes(Buffer.from("glibc-ld.so.cache1.1"))).toBe(true);
        continue;
      }
      // A JSON entry: its key lines, then the value on the last line.
      const text = bytes.toString();
      const value = text.slice(text.lastIndexOf("\n") + 1);
      expect(() => JSON.parse(value), n).not.toThrow();
    }
    // Every kind a container's decision goes through was written once the round was over.
    for (const kind of ["inventory", "request", "plan", "ldcache"]) expect(names.some((n) => n.startsWith(`${kind}-`))).toBe(true);
  });
});

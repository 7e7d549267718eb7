// cgroup v2 under real runc: the fake host mounts the unified hierarchy on /sys/fs/cgroup
// (scripts/fakehost.sh --cgroup2), so runc puts each container in a v2 cgroup with its eBPF device
// program, while the kernel still lists the v1 hierarchies (a devices one among them) in
// /proc/PID/cgroup. The hook must decide as runc does, from the filesystem on /sys/fs/cgroup, and
// put its GPUs in front of runc's program: a selected GPU's node then opens with ENXIO (allowed,
// no driver behind it), an unselected one with EPERM (denied), and runc's own rules still hold.
// The containers are given CAP_MKNOD to make nodes of every GPU and probe them.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIG_ON_ONE, migMinor, THREE_MIXED, UVM_MAJOR } from "../fake/driver";
import { inFakeHost, scene } from "../setup";
import { REPORT } from "./bundle";

const S = scene("e2e-cgroup2", { mixed: THREE_MIXED, mig: MIG_ON_ONE });

/** Nodes the container makes itself and opens: ENXIO where the device cgroup allows, EPERM where it denies. */
const PROBE = (nodes: [string, "c" | "b", number, number][]) => `
echo "cgroup: $(grep '^0::' /proc/self/cgroup)"
${nodes.map(([n, t, maj, min]) => `mknod /dev/probe-${n} ${t} ${maj} ${min}`).join("\n")}
probe open ${nodes.map(([n]) => `/dev/probe-${n}`).join(" ")} /dev/null /dev/zero /dev/full | sed 's/^open \\/dev\\//probe: /'
`;
/** Every GPU node of THREE_MIXED (minors 0, 1, 3), the control node, uvm, and a disk runc denies. */
const MIXED_NODES: [string, "c" | "b", number, number][] = [["gpu0", "c", 195, 0], ["gpu1", "c", 195, 1], ["gpu3", "c", 195, 3], ["ctl", "c", 195, 255], ["uvm", "c", UVM_MAJOR, 0], ["sda", "b", 8, 0]];

/** What the container's probe saw, by node name. */
function probes(stdout: string): Record<string, string> {
  return Object.fromEntries([...stdout.matchAll(/^probe: (\S+): (\S+)$/gm)].map((m) => [m[1].replace(/^probe-/, ""), m[2]]));
}

/** Adds capabilities to a bundle's process (runc's defaults lack CAP_MKNOD). */
function withCaps(bundle: string, caps: string[]): void {
  const f = join(bundle, "config.json");
  const spec = JSON.parse(readFileSync(f, "utf8"));
  for (const set of ["bounding", "effective", "permitted"]) spec.process.capabilities[set].push(...caps);
  writeFileSync(f, JSON.stringify(spec));
}

function v2(env: string[], nodes = MIXED_NODES, fake = "mixed") {
  const b = S.bundle({ env, script: REPORT + PROBE(nodes) });
  withCaps(b, ["CAP_MKNOD"]);
  const r = S.run(b, { fake, cgroup2: true, watch: ["/dev", "/usr/lib/x86_64-linux-gnu"] });
  return { ...r, probes: probes(r.stdout), cgroup: /^cgroup: (.*)$/m.exec(r.stdout)?.[1] ?? "" };
}

/** runc's own rules: the standard nodes open, a disk stays denied. */
const RUNC_OWN = { null: "OK", zero: "OK", full: "OK", sda: "EPERM" };

describe("cgroup v2 under runc: the hook decides as runc does and allows exactly the selected GPUs", () => {
  const cases: [string, string[], Record<string, string>][] = [
    ["all", ["NVIDIA_VISIBLE_DEVICES=all"], { gpu0: "ENXIO", gpu1: "ENXIO", gpu3: "ENXIO", ctl: "ENXIO", uvm: "ENXIO" }],
    ["0,2 (minors 0 and 3)", ["NVIDIA_VISIBLE_DEVICES=0,2"], { gpu0: "ENXIO", gpu1: "EPERM", gpu3: "ENXIO", ctl: "ENXIO", uvm: "ENXIO" }],
    ["a UUID (GPU 1)", [`NVIDIA_VISIBLE_DEVICES=${THREE_MIXED.gpus[1].uuid}`], { gpu0: "EPERM", gpu1: "ENXIO", gpu3: "EPERM", ctl: "ENXIO", uvm: "ENXIO" }],
    ["none: the driver's control nodes only", ["NVIDIA_VISIBLE_DEVICES=none"], { gpu0: "EPERM", gpu1: "EPERM", gpu3: "EPERM", ctl: "ENXIO", uvm: "ENXIO" }],
    ["utility only: no uvm", ["NVIDIA_VISIBLE_DEVICES=1", "NVIDIA_DRIVER_CAPABILITIES=utility"], { gpu0: "EPERM", gpu1: "ENXIO", gpu3: "EPERM", ctl: "ENXIO", uvm: "EPERM" }],
    ["no GPU asked: runc's program alone", [], { gpu0: "EPERM", gpu1: "EPERM", gpu3: "EPERM", ctl: "EPERM", uvm: "EPERM" }],
  ];
  test.each(cases)("%s", (_d, env, want) => {
    const r = v2(env);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    // In a v2 cgroup of its own (a container left in the root's would show `0::/`).
    expect(r.cgroup).toMatch(/^0::\/nvct-e2e-\d+-\d+$/);
    expect(r.probes).toEqual({ ...want, ...RUNC_OWN });
    // The injected nodes: allowed where selected.
    for (const [node, minor] of [["nvidia0", "gpu0"], ["nvidia1", "gpu1"], ["nvidia3", "gpu3"]]) {
      if (want[minor] === "ENXIO") expect(r.report.opens).toContain(`open /dev/${node}: ENXIO`);
      else expect(r.report.nodes).not.toContain(node);
    }
    expect(r.host!.after).toBe(r.host!.before);
  });

  test("a MIG device: its GPU and its own capability nodes allowed, another instance's denied", () => {
    const caps = (gi: number, ci?: number) => migMinor(0, gi, ci);
    const nodes: [string, "c" | "b", number, number][] = [["gpu0", "c", 195, 0], ["gpu1", "c", 195, 1], ["gi2", "c", 511, caps(2)], ["gi2ci0", "c", 511, caps(2, 0)], ["gi1", "c", 511, caps(1)], ["gi1ci0", "c", 511, caps(1, 0)], ["sda", "b", 8, 0]];
    const r = v2([`NVIDIA_VISIBLE_DEVICES=${MIG_ON_ONE.gpus[0].migs![1].uuid}`], nodes, "mig");
    expect(r.stderr).toBe("");
    expect(r.probes).toEqual({ gpu0: "ENXIO", gpu1: "EPERM", gi2: "ENXIO", gi2ci0: "ENXIO", gi1: "EPERM", gi1ci0: "EPERM", ...RUNC_OWN });
  });

  test("an unknown device: the container does not start, the error names it", () => {
    const r = v2(["NVIDIA_VISIBLE_DEVICES=7"]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("device error: unknown device `7`");
    expect(r.host!.after).toBe(r.host!.before);
  });
});

describe("cgroup v2 under runc: 20 containers in a row", () => {
  let out = "";
  beforeAll(() => {
    const w = S.dir("row");
    const bpfprogs = join(w, "bpfprogs");
    const cc = spawnSync("gcc", ["-O2", "-o", bpfprogs, join(import.meta.dir, "bpfprogs.c")], { encoding: "utf8" });
    if (cc.status !== 0) throw new Error(cc.stderr);
    // A prestart hook before nvct's and one after: the device programs on the container's cgroup.
    const record = join(w, "record.sh");
    writeFileSync(record, `#!/bin/sh\nid=$(sed -n 's/.*"id": *"\\([^"]*\\)".*/\\1/p')\necho "$2 $id $(${bpfprogs} query /sys/fs/cgroup/$id | tr '\\n' ' ')" >> "$1"\n`);
    chmodSync(record, 0o755);
    const log = join(w, "programs");
    const bundles = [["NVIDIA_VISIBLE_DEVICES=0"], ["NVIDIA_VISIBLE_DEVICES=7"], ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=utility"], []].map((env) => {
      const b = S.bundle({ env, script: "true" });
      const f = join(b, "config.json");
      const spec = JSON.parse(readFileSync(f, "utf8"));
      const nvct = spec.hooks.prestart[0];
      spec.hooks.prestart = [{ path: record, args: [record, log, "before"] }, nvct, { path: record, args: [record, log, "after"] }];
      writeFileSync(f, JSON.stringify(spec));
      return b;
    });
    const prefix = `nvct-row-${process.pid}`;
    const state = join(w, "runc-state");
    const script = `
      set -u
      mounts() { awk '{print $4, $5, $9, $10}' /proc/self/mountinfo | sort; }
      before=$(mounts)
      bundles=(${bundles.join(" ")})
      for i in $(seq 1 20); do
        b=\${bundles[$(( (i - 1) % ${bundles.length} ))]}
        runc --root ${state} run --bundle $b ${prefix}-$i >/dev/null 2>&1
        echo "run $i $?"
      done
      echo "cgroups: $(ls /sys/fs/cgroup | grep -c '^${prefix}-' || true)"
      echo "runc: $(runc --root ${state} list -q | wc -l)"
      ids=$(awk '{for (i = 3; i <= NF; i++) print $i}' ${log} | sort -u)
      echo "programs seen: $(echo $ids | wc -w)"
      # The kernel frees a removed cgroup's programs from a work queue: a moment after.
      for t in $(seq 1 50); do alive=$(${bpfprogs} alive $ids); [ -z "$alive" ] && break; sleep 0.1; done
      echo "alive: $(echo $alive)"
      [ "$(mounts)" = "$before" ] && echo "mounts: same" || echo "mounts: changed"
      cat ${log}
    `;
    const r = inFakeHost(S.driver(), ["bash", "-c", script], { cgroup2: true, timeout: 180_000 });
    if (r.status !== 0) throw new Error(`the row failed (${r.status}): ${r.stderr}`);
    out = r.stdout;
  }, 240_000);

  test("each started or failed as its selection says, and nvct replaced runc's program on each that started", () => {
    const runs = [...out.matchAll(/^run (\d+) (\d+)$/gm)].map((m) => Number(m[2]));
    expect(runs.length).toBe(20);
    // Bundles in turn: GPU 0, an unknown device (refused), utility on all, no GPU.
    expect(runs.map((s) => (s === 0 ? "ok" : "failed"))).toEqual(Array.from({ length: 20 }, (_, i) => (i % 4 === 1 ? "failed" : "ok")));
    const lines = [...out.matchAll(/^(before|after) (\S+) (.*)$/gm)].map((m) => ({ when: m[1], id: m[2], progs: m[3].trim().split(/\s+/).filter(Boolean) }));
    for (let i = 1; i <= 20; i++) {
      const id = `nvct-row-${process.pid}-${i}`;
      const before = lines.find((l) => l.when === "before" && l.id === id);
      const after = lines.find((l) => l.when === "after" && l.id === id);
      // runc attached one device program before any hook ran.
      expect(before?.progs.length).toBe(1);
      if (i % 4 === 1 || i % 4 === 3) {
        // A GPU container: nvct's program replaced runc's, one program still.
        expect(after?.progs.length).toBe(1);
        expect(after!.progs[0]).not.toBe(before!.progs[0]);
      } else if (i % 4 === 0) expect(after?.progs).toEqual(before!.progs);
      else expect(after).toBeUndefined();
    }
  });

  test("nothing is left: no cgroup, no runc state, no device program, the mount table as before", () => {
    expect(out).toContain("cgroups: 0\n");
    expect(out).toContain("runc: 0\n");
    expect(Number(/^programs seen: (\d+)$/m.exec(out)?.[1])).toBeGreaterThanOrEqual(20);
    expect(out).toContain("alive: \n");
    expect(out).toContain("mounts: same\n");
  });
});

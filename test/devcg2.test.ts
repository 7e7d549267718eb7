// cgroup v2 device programs against the real kernel: a cgroup on this machine's cgroup2 mount
// gets a runc-like deny-all program; nvct's replacement must allow exactly its nodes, keep every
// other decision of the original, and undo back to it.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { core, type DeviceRule } from "../src/core";
import { allowDevicesV2 } from "../src/inject/cgroup";
import { attachDeviceProgram, loadDeviceProgram } from "../src/sys/bpf";
import { O_DIRECTORY, O_RDONLY, sys } from "../src/sys/libc";

type Rule = { type: "c" | "b"; major: number; minor: number; access: string };
const rules = (rs: Rule[]): DeviceRule[] => rs.map((r) => ({ kind: r.type, major: r.major, minor: r.minor, access: r.access }));
/** The core's prologue for these rules. */
const prologue = (rs: Rule[]) => core().deviceprogram(rules(rs));
/** A program that allows only the rules and denies the rest: "runc's", for the tests. */
const denyAllBut = (rs: Rule[]) => new Uint8Array([...prologue(rs), 0xb7, 0, 0, 0, 0, 0, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);

const cgroup2 = readFileSync("/proc/self/mountinfo", "utf8").split("\n").map((l) => l.split(" ")).find((f) => f[f.indexOf("-") + 1] === "cgroup2")?.[4];
let work: string;
let cg: string;
let probe: string;

beforeAll(() => {
  if (!cgroup2) throw new Error("no cgroup2 mount on this machine: the v2 device tests need one");
  work = mkdtempSync(join(tmpdir(), "nvct-devcg2-"));
  probe = join(work, "probe");
  const r = spawnSync("gcc", ["-O2", "-o", probe, join(import.meta.dir, "e2e/probe.c"), "-ldl"], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  // Device nodes with no driver behind them: ENXIO when allowed, EPERM when the program denies.
  for (const [name, maj, min] of [["nvidia0", 195, 0], ["nvidia1", 195, 1], ["nvidiactl", 195, 255]] as const) {
    spawnSync("mknod", [join(work, name), "c", String(maj), String(min)]);
  }
  cg = join(cgroup2, `nvct-test-${process.pid}`);
  mkdirSync(cg);
}, 60_000);
afterAll(() => {
  if (cg && existsSync(cg)) rmdirSync(cg);
  rmSync(work, { recursive: true, force: true });
});

/** Opens each path from a process inside the test cgroup. */
function opens(...paths: string[]): string[] {
  const r = spawnSync("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && exec ${probe} open "$@"`, "sh", ...paths], { encoding: "utf8" });
  return r.stdout.trim().split("\n");
}

describe("cgroup v2 device program", () => {
  test("allow nvct's nodes in front of a runc-like program, then undo", () => {
    const fd = sys.open(cg, O_RDONLY | O_DIRECTORY);
    // "runc": /dev/null and /dev/zero only, attached with BPF_F_ALLOW_MULTI as runc does.
    const runc = loadDeviceProgram(sys, denyAllBut([{ type: "c", major: 1, minor: 3, access: "rwm" }, { type: "c", major: 1, minor: 5, access: "rwm" }]));
    attachDeviceProgram(sys, fd, runc, 2);
    const n = (x: string) => join(work, x);
    expect(opens("/dev/null", "/dev/full", n("nvidia0"))).toEqual(["open /dev/null: OK", "open /dev/full: EPERM", `open ${n("nvidia0")}: EPERM`]);

    const undo = allowDevicesV2(sys, cg, prologue([
      { type: "c", major: 195, minor: 0, access: "rw" },
      { type: "c", major: 195, minor: 255, access: "rw" },
    ]));
    expect(opens("/dev/null", "/dev/full", n("nvidia0"), n("nvidiactl"), n("nvidia1"))).toEqual([
      "open /dev/null: OK",
      "open /dev/full: EPERM",
      `open ${n("nvidia0")}: ENXIO`,
      `open ${n("nvidiactl")}: ENXIO`,
      `open ${n("nvidia1")}: EPERM`,
    ]);
    // Only rw was granted: creating the node (mknod access) stays denied.
    const mk = spawnSync("sh", ["-c", `echo $$ > ${cg}/cgroup.procs && exec mknod ${n("again")} c 195 0`], { encoding: "utf8" });
    expect(mk.status).not.toBe(0);

    undo();
    expect(opens(n("nvidia0"), "/dev/null")).toEqual([`open ${n("nvidia0")}: EPERM`, "open /dev/null: OK"]);
    sys.close(fd);
  });

  test("a program on an ancestor cgroup is reported, not touched", () => {
    const parent = join(cgroup2!, `nvct-test-parent-${process.pid}`);
    const child = join(parent, "child");
    mkdirSync(child, { recursive: true });
    try {
      const pfd = sys.open(parent, O_RDONLY | O_DIRECTORY);
      attachDeviceProgram(sys, pfd, loadDeviceProgram(sys, denyAllBut([{ type: "c", major: 1, minor: 3, access: "rwm" }])), 2);
      const warnings: string[] = [];
      allowDevicesV2(sys, child, prologue([{ type: "c", major: 195, minor: 0, access: "rw" }]), (m) => warnings.push(m))();
      expect(warnings).toEqual([`1 device program(s) on ancestors of \`${child}\` also apply and may deny the GPUs`]);
      sys.close(pfd);
    } finally {
      rmdirSync(child);
      rmdirSync(parent);
    }
  });

  test("a cgroup without a device program is left alone", () => {
    const free = join(cgroup2!, `nvct-test-free-${process.pid}`);
    mkdirSync(free);
    try {
      const undo = allowDevicesV2(sys, free, prologue([{ type: "c", major: 195, minor: 0, access: "rw" }]));
      // Nothing was attached: a process there still opens any node (an attached prologue alone
      // would deny /dev/full).
      const r = spawnSync("sh", ["-c", `echo $$ > ${free}/cgroup.procs && exec ${probe} open /dev/full`], { encoding: "utf8" });
      expect(r.stdout).toBe("open /dev/full: OK\n");
      undo();
    } finally {
      rmdirSync(free);
    }
  });

  test("a bad access letter is an error naming the rule", () => {
    expect(() => denyAllBut([{ type: "c", major: 1, minor: 3, access: "rx" }])).toThrow("invalid device rule `c 1:3 rx`");
  });
});

// `explain`: what the hook would do for a bundle, read from the same engine as prestart and
// changing nothing; the answer names where the request came from and every step with its flags.
import { describe, expect, test } from "bun:test";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { BIN } from "../paths";
import { inFakeHost, scene } from "../setup";

const S = scene("e2e-explain", { mixed: THREE_MIXED });
const HOOK = join(BIN, "nvidia-container-runtime-hook");

/** Every path under a directory, for before/after comparisons. */
function tree(dir: string): string[] {
  return readdirSync(dir, { recursive: true }).map(String).sort();
}

function explain(env: string[], extra: string[] = [], o: { privileged?: boolean; config?: string } = {}) {
  const b = S.bundle({ env, privileged: o.privileged, config: o.config });
  const config = join(b, "nvct-config.toml");
  const before = tree(b);
  const r = inFakeHost(S.driver("mixed"), [HOOK, "-config", config, "explain", "--bundle", b, ...extra]);
  expect(tree(b)).toEqual(before);
  return { ...r, bundle: b };
}

describe("hook explain", () => {
  test("a GPU by index: the request and its variable, the GPU, the cgroup rules, each step with its flags", () => {
    const r = explain(["NVIDIA_VISIBLE_DEVICES=1"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines).toContain("request  devices 1, from NVIDIA_VISIBLE_DEVICES");
    expect(lines).toContain("         capabilities compute, utility");
    expect(lines.find((l) => l.startsWith("gpu "))).toMatch(/^gpu {6}1 {2}GPU-[0-9a-f-]+ {2}00000000:3b:00\.0 {2}.+ {2}\/dev\/nvidia1$/);
    expect(lines.find((l) => l.startsWith("cgroup "))).toContain("c 195:1 rw");
    expect(lines).toContain("plan     node     /dev/nvidia1 (195:1) from /dev/nvidia1 ro,nosuid,noexec");
    expect(lines.some((l) => /^plan {5}file {5}\/usr\/lib\/x86_64-linux-gnu\/libcuda\.so\.550\.54\.14 ro,nosuid,nodev$/.test(l))).toBe(true);
    expect(lines).toContain("plan     link     /usr/lib/x86_64-linux-gnu/libcuda.so.1 -> libcuda.so.550.54.14");
    expect(lines.at(-2)).toBe("result   the hook would give this container GPU 1");
  });

  test("the same bundle started: the container gets exactly the nodes explain named", () => {
    const r = explain(["NVIDIA_VISIBLE_DEVICES=0,2"]);
    const named = r.stdout.split("\n").filter((l) => l.startsWith("plan     node")).map((l) => l.split(/\s+/)[2].replace("/dev/", "")).sort();
    const run = S.run(r.bundle);
    expect(run.status).toBe(0);
    expect(run.report.nodes).toEqual(named);
  });

  test("an unknown device: the error prestart would give, and exit 1", () => {
    const r = explain(["NVIDIA_VISIBLE_DEVICES=7"]);
    expect(r.status).toBe(1);
    expect(r.stdout.split("\n").at(-2)).toBe("result   the hook would fail: device error: unknown device `7`");
  });

  test("no variable, or an unprivileged container when the config refuses its variable: not a GPU container, and why", () => {
    expect(explain([]).stdout).toContain("result   not a GPU container: no device requested; the hook does nothing");
    const r = explain(["NVIDIA_VISIBLE_DEVICES=all"], [], { config: "accept-nvidia-visible-devices-envvar-when-unprivileged = false\n" });
    expect(r.stdout).toContain("not a GPU container: devices from NVIDIA_VISIBLE_DEVICES ignored in an unprivileged container");
    expect(r.status).toBe(0);
  });

  test("--json: the request, the GPUs and the plan as data", () => {
    const r = explain(["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_DRIVER_CAPABILITIES=utility"], ["--json"]);
    const x = JSON.parse(r.stdout);
    expect(x.request.source).toBe("NVIDIA_VISIBLE_DEVICES");
    expect(x.request.caps).toEqual(["utility"]);
    expect(x.gpus.map((g: { index: number }) => g.index)).toEqual([0, 1, 2]);
    expect(x.plan.ops.some((o: { tag: string; val: { path: string } }) => o.tag === "device" && o.val.path === "/dev/nvidia-uvm")).toBe(false);
    expect(x.failure).toBeNull();
  });

  test("a missing bundle: one line naming its config.json, exit 1", () => {
    const r = inFakeHost(S.driver("mixed"), [HOOK, "explain", "--bundle", "/nonexistent"]);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("nvidia-container-runtime-hook: failed to read `/nonexistent/config.json`: ENOENT\n");
  });
});

describe("runtime explain", () => {
  const SHIM = join(BIN, "nvidia-container-runtime");
  function runtimeExplain(env: string[], config: string, extra: string[] = [], annotations?: Record<string, string>) {
    const b = S.bundle({ env, hook: null });
    if (annotations) {
      const f = join(b, "config.json");
      const spec = JSON.parse(require("node:fs").readFileSync(f, "utf8"));
      spec.annotations = annotations;
      require("node:fs").writeFileSync(f, JSON.stringify(spec));
    }
    const cfg = S.file(`rt-${Math.random().toString(36).slice(2)}.toml`, config);
    const before = tree(b);
    const spec = require("node:fs").readFileSync(join(b, "config.json"), "utf8");
    const r = inFakeHost(S.driver("mixed"), [SHIM, "explain", "--bundle", b, ...extra], { env: { NVIDIA_CTK_CONFIG_FILE_PATH: cfg, PATH: `${BIN}:${process.env.PATH}` } });
    expect(tree(b)).toEqual(before);
    expect(require("node:fs").readFileSync(join(b, "config.json"), "utf8")).toBe(spec);
    return r;
  }

  test("legacy: the prestart hook it adds, then what that hook would do", () => {
    const r = runtimeExplain(["NVIDIA_VISIBLE_DEVICES=2"], '[nvidia-container-runtime]\nmode = "legacy"\n');
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[1]).toBe("mode     legacy");
    expect(lines).toContain(`spec     + hook prestart ${join(BIN, "nvidia-container-runtime-hook")} prestart`);
    expect(lines).toContain("then, in the prestart hook:");
    expect(lines).toContain("result   the hook would give this container GPU 2");
  });

  test("auto with only unqualified ids: jit-cdi, said so with the configured mode", () => {
    const r = runtimeExplain(["NVIDIA_VISIBLE_DEVICES=0"], "");
    expect(r.stdout.split("\n")[1]).toBe("mode     jit-cdi (nvidia-container-runtime.mode = auto)");
  });

  test("jit-cdi: the nodes, mounts and hooks it writes into the spec, and the variable it voids; --json", () => {
    const r = runtimeExplain(["NVIDIA_VISIBLE_DEVICES=1"], '[nvidia-container-runtime]\nmode = "jit-cdi"\n');
    const lines = r.stdout.split("\n");
    expect(lines).toContain("spec     + env NVIDIA_VISIBLE_DEVICES=void");
    expect(lines).toContain("spec     + device /dev/nvidia1 (c 195:1)");
    expect(lines.some((l) => l.startsWith("spec     + mount /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14 from /usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14 ("))).toBe(true);
    expect(lines.some((l) => l.startsWith(`spec     + hook createContainer ${join(BIN, "nvidia-cdi-hook")} update-ldcache`))).toBe(true);
    const j = JSON.parse(runtimeExplain(["NVIDIA_VISIBLE_DEVICES=1"], '[nvidia-container-runtime]\nmode = "jit-cdi"\n', ["--json"]).stdout);
    expect(j.mode).toBe("jit-cdi");
    expect(j.changes).toContain("+ device /dev/nvidia1 (c 195:1)");
  });

  test("nothing asked for: legacy still adds the hook (as the reference does), which does nothing; cdi leaves the spec unchanged", () => {
    const legacy = runtimeExplain([], '[nvidia-container-runtime]\nmode = "legacy"\n').stdout;
    expect(legacy).toContain("spec     + hook prestart");
    expect(legacy).toContain("result   not a GPU container: no device requested; the hook does nothing");
    expect(runtimeExplain([], '[nvidia-container-runtime]\nmode = "cdi"\n').stdout).toContain("spec     unchanged: the runtime passes the container to runc as it is");
  });
});

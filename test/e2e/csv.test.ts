// Jetson / Tegra end to end: nvidia-container-runtime in csv mode (and auto, which picks csv on a
// Tegra host) under runc in a fake Tegra host (test/fake/tegra.ts), and `nvidia-ctk cdi generate
// --mode=csv` whose spec, in cdi mode, gives a container the same.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TEGRA, TEGRA_ORIN, type Scenario } from "../fake/driver";
import { L4T_RELEASE, LIB, NVMAP_GID, SPEC_DIR, TEGRA_LIB } from "../fake/tegra";
import { BIN, FAKEHOST, inFakeHost, scene } from "../setup";
import { validate } from "../schema";

const SHIM = join(BIN, "nvidia-container-runtime");
const HOOK = join(BIN, "nvidia-cdi-hook");
const S = scene("csv", {
  tegra: TEGRA,
  family: { ...TEGRA, tegra: { release: false, family: "Tegra\n" } } as Scenario,
  orin: TEGRA_ORIN,
  dgpuFiles: { ...TEGRA_ORIN, gpus: [{ ...TEGRA_ORIN.gpus[0], name: "NVIDIA A2" }] } as Scenario,
});

/** What the container reports: nodes, libraries, links, directories, the loader's view, the env. */
const REPORT = [
  "echo nodes: $(ls /dev | grep -E '^nv' | sort)",
  "probe open /dev/nvhost-ctrl /dev/nvmap /dev/nvhost-gpu | sed 's/^/opens: /'",
  `echo tegra: $(ls ${TEGRA_LIB} 2>/dev/null | sort)`,
  `echo links: $(for l in ${TEGRA_LIB}/libcuda.so ${TEGRA_LIB}/libcuda.so.1 ${LIB}/libcuda.so ${TEGRA_LIB}/libnvidia-ptxjitcompiler.so.1 ${LIB}/libEGL_nvidia.so.0 /etc/vulkan/icd.d/nvidia_icd.json; do [ -L $l ] && echo "$l->$(readlink $l)"; done)`,
  `echo egl: $(ls ${LIB}/tegra-egl 2>/dev/null | sort)`,
  'echo "release: $(cat /etc/nv_tegra_release 2>/dev/null)"',
  "probe dlopen libcuda.so.1 libnvrm_gpu.so libnvidia-ptxjitcompiler.so.1 libEGL_nvidia.so.0 | sed 's/^/dl: /'",
  "probe cuda | sed 's/^/dl: /'",
  `probe write ${TEGRA_LIB}/libcuda.so.1.1 | sed 's/^/ro: /'`,
  "echo env: $(env | grep ^NVIDIA_VISIBLE_DEVICES=)",
  "echo groups: $(id -G)",
].join("\n");

interface CsvReport {
  nodes: string[];
  opens: string[];
  tegra: string[];
  links: string[];
  egl: string[];
  release: string;
  dl: string[];
  ro: string[];
  env: string;
  groups: string[];
}

function parse(out: string): CsvReport {
  const r: any = { nodes: [], opens: [], tegra: [], links: [], egl: [], release: "", dl: [], ro: [], env: "", groups: [] };
  for (const line of out.split("\n")) {
    const m = /^(\w+): ?(.*)$/.exec(line);
    if (!m || !(m[1] in r)) continue;
    if (["opens", "dl", "ro"].includes(m[1])) r[m[1]].push(m[2]);
    else if (["release", "env"].includes(m[1])) r[m[1]] = m[2];
    else r[m[1]] = m[2].split(" ").filter(Boolean);
  }
  return r;
}

let seq = 0;
/** A container created through the runtime shim (as docker does), then started, in a fake host. */
function viaShim(o: { env?: string[]; mode: string; tables?: string; fake?: string; script?: string }) {
  const dir = S.bundle({ env: o.env, script: o.script ?? REPORT, hook: null, debian: ++seq % 2 === 0 });
  const cfg = join(dir, "config.toml");
  const log = join(dir, "runtime.log");
  writeFileSync(cfg, `[nvidia-container-runtime]\nmode = "${o.mode}"\ndebug = "${log}"\nlog-level = "debug"\n${o.tables ?? ""}\n`);
  const before = readFileSync(join(dir, "config.json"), "utf8");
  const r = spawnSync(FAKEHOST, [S.driver(o.fake ?? "tegra"), "--", join(import.meta.dir, "runtime.sh"), SHIM, join(dir, "state"), dir, `nvct-csv-${process.pid}-${seq}`], {
    encoding: "utf8",
    env: { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: cfg, PATH: `${BIN}:${process.env.PATH}` },
    timeout: 60_000,
  });
  const after = readFileSync(join(dir, "config.json"), "utf8");
  let log_ = "";
  try {
    log_ = readFileSync(log, "utf8");
  } catch {}
  return { ...r, report: parse(r.stdout), before, after, spec: JSON.parse(after), log: log_, dir };
}

const BASE_NODES = ["nvhost-as-gpu", "nvhost-ctrl", "nvhost-ctrl-gpu", "nvhost-dbg-gpu", "nvhost-gpu", "nvhost-nvdec", "nvhost-nvdec1", "nvmap"];
const BASE_TEGRA = ["libcuda.so", "libcuda.so.1", "libcuda.so.1.1", "libnvidia-ptxjitcompiler.so.1", "libnvidia-ptxjitcompiler.so.35.4.1", "libnvos.so", "libnvrm_gpu.so", "libnvrm_mem.so"];
const LINKS = [
  `${TEGRA_LIB}/libcuda.so->libcuda.so.1.1`,
  `${TEGRA_LIB}/libcuda.so.1->libcuda.so.1.1`,
  `${LIB}/libcuda.so->tegra/libcuda.so`,
  `${TEGRA_LIB}/libnvidia-ptxjitcompiler.so.1->libnvidia-ptxjitcompiler.so.35.4.1`,
  `${LIB}/libEGL_nvidia.so.0->tegra-egl/libEGL_nvidia.so.0`,
  "/etc/vulkan/icd.d/nvidia_icd.json->nvidia_icd.json.real",
];
const DL_OK = ["dlopen libcuda.so.1: OK", "dlopen libnvrm_gpu.so: OK", "dlopen libnvidia-ptxjitcompiler.so.1: OK", "dlopen libEGL_nvidia.so.0: OK", "cuda: 11040"];

/** Everything the base CSV files give a container. */
function expectBase(r: ReturnType<typeof viaShim>) {
  expect(r.stdout).toContain("shim-exit: 0");
  expect(r.report.nodes).toEqual(BASE_NODES);
  // Allowed by the device cgroup, no driver behind them: ENXIO.
  expect(r.report.opens).toEqual(["open /dev/nvhost-ctrl: ENXIO", "open /dev/nvmap: ENXIO", "open /dev/nvhost-gpu: ENXIO"]);
  expect(r.report.tegra).toEqual(BASE_TEGRA);
  expect(r.report.links).toEqual(LINKS);
  expect(r.report.egl).toEqual(["libEGL_nvidia.so.0", "nvidia.json"]);
  expect(r.report.release).toBe(L4T_RELEASE.trim());
  expect(r.report.dl).toEqual(DL_OK);
  expect(r.report.ro).toEqual([`write ${TEGRA_LIB}/libcuda.so.1.1: EROFS`]);
  expect(r.report.env).toBe("NVIDIA_VISIBLE_DEVICES=void");
  // nvmap is its group's only: the container's user joins the group.
  expect(r.report.groups).toContain(String(NVMAP_GID));
  expect(validate(r.spec, "oci/config-schema.json")).toEqual([]);
}

describe("nvidia-container-runtime, csv mode", () => {
  test("mode csv: the nodes, libraries (loadable through the ld cache), links, directories and release file of devices.csv, drivers.csv, l4t.csv", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "csv" });
    expect(r.stderr).toBe("");
    expectBase(r);
    // The spec: device nodes with their rdev and cgroup rules, no prestart hook, hooks with their own env.
    const nvmap = r.spec.linux.devices.find((d: any) => d.path === "/dev/nvmap");
    expect(nvmap).toMatchObject({ type: "c", major: 500, minor: 7, fileMode: 0o660, gid: NVMAP_GID });
    expect(r.spec.linux.resources.devices).toContainEqual({ allow: true, type: "c", major: 500, minor: 7, access: "rwm" });
    expect(r.spec.hooks.prestart).toBeUndefined();
    expect(r.spec.hooks.createContainer.map((h: any) => h.args[1])).toEqual(["create-symlinks", "update-ldcache"]);
    for (const h of r.spec.hooks.createContainer) expect(h.env).toEqual(["NVIDIA_CTK_DEBUG=false"]);
    expect(r.spec.hooks.createContainer[1].args.slice(2)).toEqual(["--folder", TEGRA_LIB, "--folder", `${LIB}/tegra-egl`]);
    // The broken lines were skipped, and said so in the debug log; a missing file is just not there.
    expect(r.log).toContain("Skipping invalid mount spec 'bogus, /usr/lib/x86_64-linux-gnu/tegra/libnvrm_mem.so'");
    expect(r.log).toContain("Skipping invalid mount spec '# a comment is no syntax: skipped'");
    expect(r.log).toContain("level=info msg=\"Using csv mode for bundle");
  });

  test("mode auto on a Tegra host (/etc/nv_tegra_release, no NVML): csv", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=0"], mode: "auto" });
    expect(r.stderr).toBe("");
    expectBase(r);
    expect(r.log).toContain("Using csv mode");
  });

  test("mode auto with only /sys/devices/soc0/family = Tegra: csv (no release file to mount)", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "auto", fake: "family" });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(BASE_NODES);
    expect(r.report.dl).toEqual(DL_OK);
    expect(r.report.release).toBe("");
  });

  test("mode auto on an Orin whose NVML names its iGPU `Orin (nvgpu)`: csv, with the CUDA compat hook", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "auto", fake: "orin" });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual(BASE_NODES);
    expect(r.spec.hooks.createContainer.map((h: any) => h.args.slice(1, 4))).toEqual([
      ["create-symlinks", "--link", `libcuda.so.1.1::${TEGRA_LIB}/libcuda.so.1`],
      ["enable-cuda-compat", "--host-cuda-version=12.6", "--cuda-compat-container-root=/usr/local/cuda/compat_orin"],
      ["update-ldcache", "--folder", TEGRA_LIB],
    ]);
  });

  test("mode auto with Tegra files but an NVML of a discrete GPU: not csv (jit-cdi, the runtime's auto)", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "auto", fake: "dgpuFiles", script: "true" });
    expect(r.log).toContain("Using jit-cdi mode");
    expect(r.spec.hooks.prestart ?? []).toEqual([]);
  });

  const none: [string, string[]][] = [
    ["NVIDIA_VISIBLE_DEVICES unset", []],
    ["NVIDIA_VISIBLE_DEVICES=void", ["NVIDIA_VISIBLE_DEVICES=void"]],
    ["NVIDIA_VISIBLE_DEVICES empty", ["NVIDIA_VISIBLE_DEVICES="]],
  ];
  test.each(none)("no devices requested (%s): the spec is left as it was", (_d, env) => {
    const r = viaShim({ env, mode: "csv", script: `ls /dev | grep -c nv; test -e ${TEGRA_LIB} && echo tegra || echo none` });
    expect(r.after).toBe(r.before);
    expect(r.stdout).toBe("0\nnone\nshim-exit: 0\n");
  });

  test("a legacy CUDA image (CUDA_VERSION, no NVIDIA_VISIBLE_DEVICES) gets everything, its cuda>= requirement checked", () => {
    const r = viaShim({ env: ["CUDA_VERSION=11.4.1"], mode: "csv" });
    expectBase(r);
    expect(r.log).toContain("Requirements cuda>=11.4 against cuda 11.4");
  });

  test("NVIDIA_REQUIRE_JETPACK=csv-mounts=all reads every CSV file of the directory", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_JETPACK=csv-mounts=all"], mode: "csv" });
    expect(r.stdout).toContain("shim-exit: 0");
    expect(r.report.nodes).toEqual([...BASE_NODES.slice(0, 4), "nvhost-extra", ...BASE_NODES.slice(4)]);
    expect(r.report.tegra).toEqual([...BASE_TEGRA.slice(0, 3), "libnvextra.so", ...BASE_TEGRA.slice(3)]);
    // Without it, extra.csv is not read.
    const base = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_JETPACK=csv-mounts=base"], mode: "csv" });
    expect(base.report.nodes).toEqual(BASE_NODES);
  });

  test("mount-spec-path: another directory; one without devices.csv, drivers.csv, l4t.csv falls back to the default files", () => {
    const own = join(S.work, "own-csv");
    require("node:fs").mkdirSync(own, { recursive: true });
    writeFileSync(join(own, "devices.csv"), "dev, /dev/nvhost-gpu\n");
    writeFileSync(join(own, "drivers.csv"), `lib, ${TEGRA_LIB}/libnvos.so\n`);
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "csv", tables: `[nvidia-container-runtime.modes.csv]\nmount-spec-path = "${own}"` });
    expect(r.report.nodes).toEqual(["nvhost-gpu"]);
    expect(r.report.tegra).toEqual(["libnvos.so"]);
    const other = join(S.work, "other-csv");
    require("node:fs").mkdirSync(other, { recursive: true });
    writeFileSync(join(other, "mine.csv"), "dev, /dev/nvhost-gpu\n");
    const d = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all"], mode: "csv", tables: `[nvidia-container-runtime.modes.csv]\nmount-spec-path = "${other}"` });
    expect(d.report.nodes).toEqual(BASE_NODES);
  });

  const reqs: [string, string[], string][] = [
    ["cuda not met", ["NVIDIA_REQUIRE_CUDA=cuda>=12.0"], "unsatisfied condition: cuda>=12.0, please update your driver to a newer version, or use an earlier cuda container"],
    ["arch not met (device 0 is 8.7)", ["NVIDIA_REQUIRE_ARCH=arch>=9.0"], "unsatisfied condition: arch>=9.0"],
    ["an id other than 0 or all", ["NVIDIA_VISIBLE_DEVICES=1"], "unsupported device id `1` in csv mode: want 0 or all"],
  ];
  test.each(reqs)("refused: %s; config.json left as it was", (_d, env, message) => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all", ...env], mode: "csv" });
    expect(r.stderr).toBe(`nvidia-container-runtime: ${message}\n`);
    expect(r.stdout).toContain("shim-exit: 1");
    expect(r.after).toBe(r.before);
  });

  test("requirements met, driver and brand terms skipped (not known on Tegra), NVIDIA_DISABLE_REQUIRE honoured", () => {
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_CUDA=cuda>=11.4 brand=tesla", "NVIDIA_REQUIRE_ARCH=arch>=8.7,driver>=999", "NVIDIA_REQUIRE_JETPACK=cuda>=99"], mode: "csv", script: "ls /dev | grep -c nvhost" });
    expect(r.stdout).toBe("7\nshim-exit: 0\n");
    const d = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=all", "NVIDIA_REQUIRE_CUDA=cuda>=99", "NVIDIA_DISABLE_REQUIRE=true"], mode: "csv", script: "ls /dev | grep -c nvhost" });
    expect(d.stdout).toBe("7\nshim-exit: 0\n");
  });

  test("the prestart hook, invoked directly in auto mode on a Tegra host, refuses as the reference does", () => {
    const hook = join(BIN, "nvidia-container-runtime-hook");
    const dir = S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=all"], script: "true" });
    const r = inFakeHost(S.driver("tegra"), [hook, "prestart"], { input: JSON.stringify({ pid: 1, bundle: dir }), env: { NVIDIA_CTK_CONFIG_FILE_PATH: join(dir, "nvct-config.toml") } });
    expect(r.stderr).toContain("invoking the NVIDIA Container Runtime Hook directly (e.g. specifying the docker --gpus flag) is not supported");
    expect(r.status).not.toBe(0);
    // skip-mode-detection lets it through (to nvct's legacy injection, which finds no NVIDIA driver here).
    writeFileSync(join(dir, "skip.toml"), "[nvidia-container-runtime-hook]\nskip-mode-detection = true\n");
    const skip = inFakeHost(S.driver("tegra"), [hook, "prestart"], { input: JSON.stringify({ pid: 1, bundle: dir }), env: { NVIDIA_CTK_CONFIG_FILE_PATH: join(dir, "skip.toml") } });
    expect(skip.stderr).not.toContain("invoking the NVIDIA Container Runtime Hook directly");
    // It got to the injection: the one error is the driver it cannot find.
    expect(skip.stderr).toContain("initialization error: load library failed: libnvidia-ml.so.1");
    expect(skip.status).not.toBe(0);
  });
});

describe("nvidia-ctk cdi generate --mode=csv", () => {
  const generate = (args: string[], fake = "tegra") => inFakeHost(S.driver(fake), [join(BIN, "nvidia-ctk"), "cdi", "generate", "--nvidia-cdi-hook-path", HOOK, ...args]);

  test("device 0 and all, common edits; validates against the CDI schema; 0.7.0 for nvmap's group; broken lines skipped", () => {
    const g = generate(["--mode=csv", "--format=json"]);
    expect(g.status).toBe(0);
    const spec = JSON.parse(g.stdout);
    expect(validate(spec, "cdi/schema.json")).toEqual([]);
    expect(spec.cdiVersion).toBe("0.7.0");
    expect(spec.kind).toBe("nvidia.com/gpu");
    expect(spec.devices.map((d: any) => d.name)).toEqual(["0", "all"]);
    expect(spec.devices[0].containerEdits.deviceNodes.map((n: any) => n.path)).toEqual(BASE_NODES.map((n) => `/dev/${n}`));
    expect(spec.devices[0].containerEdits.additionalGids).toEqual([NVMAP_GID]);
    expect(spec.containerEdits.env).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]);
    expect(spec.containerEdits.mounts.map((m: any) => m.containerPath)).toEqual([
      "/etc/nv_tegra_release",
      "/etc/vulkan/icd.d/nvidia_icd.json.real",
      `${LIB}/tegra-egl`,
      `${LIB}/tegra-egl/libEGL_nvidia.so.0`,
      `${TEGRA_LIB}/libcuda.so.1.1`,
      `${TEGRA_LIB}/libnvidia-ptxjitcompiler.so.35.4.1`,
      `${TEGRA_LIB}/libnvos.so`,
      `${TEGRA_LIB}/libnvrm_gpu.so`,
      `${TEGRA_LIB}/libnvrm_mem.so`,
    ]);
    // Lines no parser takes are skipped at debug level, as the reference does: nothing on stderr.
    expect(g.stderr).toBe("");
  });

  test("--mode=auto on a Tegra host is csv; --csv.file, --csv.ignore-pattern, --device-name-strategy, --csv.compat-container-root", () => {
    const auto = generate(["--format=json"]);
    expect(JSON.parse(auto.stdout).devices.map((d: any) => d.name)).toEqual(["0", "all"]);
    const g = generate(["--format=json", `--csv.file=${SPEC_DIR}/l4t.csv`, "--csv.file", `${SPEC_DIR}/extra.csv`, "--csv.ignore-pattern", "**/*.json", "--device-name-strategy=type-index", "--csv.compat-container-root=/opt/compat"]);
    expect(g.status).toBe(0);
    const spec = JSON.parse(g.stdout);
    expect(spec.devices.map((d: any) => d.name)).toEqual(["all", "gpu0"]);
    expect(spec.devices[0].containerEdits.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvhost-extra"]);
    expect(spec.cdiVersion).toBe("0.3.0");
    expect(spec.containerEdits.mounts.map((m: any) => m.containerPath)).toEqual(["/etc/nv_tegra_release", `${LIB}/tegra-egl`, `${LIB}/tegra-egl/libEGL_nvidia.so.0`, `${TEGRA_LIB}/libnvextra.so`]);
    expect(validate(spec, "cdi/schema.json")).toEqual([]);
    // On the Orin the compat hook takes the given root.
    const orin = JSON.parse(generate(["--format=json", "--csv.compat-container-root=/opt/compat"], "orin").stdout);
    expect(orin.containerEdits.hooks[1].args).toEqual(["nvidia-cdi-hook", "enable-cuda-compat", "--host-cuda-version=12.6", "--cuda-compat-container-root=/opt/compat"]);
  });

  test("--device-id other than 0 or all fails", () => {
    const g = generate(["--mode=csv", "--device-id=1"]);
    expect(g.status).not.toBe(0);
    expect(g.stderr).toContain("unsupported device id `1` in csv mode: want 0 or all");
  });

  test("a container started with the generated spec, in cdi mode, gets the same", () => {
    const specDir = join(S.work, "cdi");
    const g = generate(["--mode=csv", "--output", join(specDir, "nvidia.yaml")]);
    expect(g.status).toBe(0);
    const r = viaShim({ env: ["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0"], mode: "cdi", tables: `[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["${specDir}"]` });
    expect(r.stderr).toBe("");
    expectBase(r);
    expect(r.log).toContain("Using cdi mode");
  });
});

// The core's csv mode (Jetson / Tegra): which CSV files are read and their lines, and what the
// host's files for the entries become (the runtime's edits, `cdi generate --mode=csv`'s spec).
import { describe, expect, test } from "bun:test";
import { core, type CdiOptions, type CsvEntry, type CsvFile, type CsvHost, type CsvMatch } from "../../src/core";
import { validate } from "../schema";
import { toFile } from "../../src/cdi/spec";

const DIR = "/etc/nvidia-container-runtime/host-files-for-container.d";
const file = (name: string, text?: string): CsvFile => ({ path: `${DIR}/${name}`, text });
const parse = (files: CsvFile[], o: { listed?: boolean; env?: string[]; ignore?: string[] } = {}) =>
  core().csvparse({ files, listed: o.listed ?? false, env: o.env ?? [], ignorePatterns: o.ignore ?? [] });
const e = (kind: CsvEntry["kind"], path: string): CsvEntry => ({ kind, path });

describe("csvparse: the lines of a CSV file", () => {
  // The skipped lines, then the warnings.
  const cases: [string, string, CsvEntry[], string[]][] = [
    ["each kind", "dev, /dev/nvmap\nlib, /usr/lib/libcuda.so.1.1\nsym, /usr/lib/libcuda.so\ndir, /usr/share/x\n", [e("dev", "/dev/nvmap"), e("lib", "/usr/lib/libcuda.so.1.1"), e("sym", "/usr/lib/libcuda.so"), e("dir", "/usr/share/x")], []],
    ["spaces around kind and path are trimmed, none needed", "  dev ,  /dev/a  \ndev,/dev/b", [e("dev", "/dev/a"), e("dev", "/dev/b")], []],
    ["CRLF line ends", "dev, /dev/a\r\nlib, /l\r\n", [e("dev", "/dev/a"), e("lib", "/l")], []],
    ["the path keeps its commas", "lib, /usr/lib/a,b, c", [e("lib", "/usr/lib/a,b, c")], []],
    ["a bare name and a glob are paths too", "dev, nvmap\ndev, /dev/nvhost-*", [e("dev", "nvmap"), e("dev", "/dev/nvhost-*")], []],
    ["an unknown kind is skipped, naming it", "dev, /dev/a\nfoo, /x\nlib, /l", [e("dev", "/dev/a"), e("lib", "/l")], ["Skipping invalid mount spec 'foo, /x' (F line 2): unexpected mount type: foo"]],
    ["kinds are case-sensitive", "DEV, /dev/a\nlib, /l", [e("lib", "/l")], ["Skipping invalid mount spec 'DEV, /dev/a' (F line 1): unexpected mount type: DEV"]],
    ["a line without a comma is skipped", "dev /dev/a\nlib, /l", [e("lib", "/l")], ["Skipping invalid mount spec 'dev /dev/a' (F line 1): expected KIND, PATH"]],
    ["an empty path is skipped", "dev,   \nlib, /l", [e("lib", "/l")], ["Skipping invalid mount spec 'dev,' (F line 1): invalid path: "]],
    ["comments are not a syntax: skipped as invalid", "# devices\ndev, /dev/a", [e("dev", "/dev/a")], ["Skipping invalid mount spec '# devices' (F line 1): expected KIND, PATH"]],
    ["blank lines are skipped silently", "\n\n  \ndev, /dev/a\n\n", [e("dev", "/dev/a")], []],
    ["no valid line: the file is skipped as empty", "# nothing\n\n", [], ["Skipping invalid mount spec '# nothing' (F line 1): expected KIND, PATH", "Skipping CSV file F: CSV file is empty"]],
    ["an empty file", "", [], ["Skipping CSV file F: CSV file is empty"]],
  ];
  for (const [what, text, entries, warnings] of cases) {
    test(what, () => {
      const r = parse([{ path: "F", text }]);
      expect(r.entries).toEqual(entries);
      expect([...r.skipped, ...r.warnings]).toEqual(warnings);
      expect(r.files).toEqual(["F"]);
    });
  }
});

describe("csvparse: which files", () => {
  const all = [file("devices.csv", "dev, /dev/a"), file("drivers.csv", "lib, /l"), file("extra.csv", "dir, /x"), file("l4t.csv", "sym, /s"), file("UPPER.CSV", "dev, /dev/u")];
  const cases: [string, CsvFile[], { listed?: boolean; env?: string[] }, string[], boolean][] = [
    ["a listed directory: only devices.csv, drivers.csv, l4t.csv, in its order", all, { listed: true }, ["devices.csv", "drivers.csv", "l4t.csv"], false],
    ["NVIDIA_REQUIRE_JETPACK=csv-mounts=all: every *.csv (any case)", all, { listed: true, env: ["NVIDIA_REQUIRE_JETPACK=csv-mounts=all"] }, ["devices.csv", "drivers.csv", "extra.csv", "l4t.csv", "UPPER.CSV"], false],
    ["the last NVIDIA_REQUIRE_JETPACK wins", all, { listed: true, env: ["NVIDIA_REQUIRE_JETPACK=csv-mounts=all", "NVIDIA_REQUIRE_JETPACK=x"] }, ["devices.csv", "drivers.csv", "l4t.csv"], false],
    ["another NVIDIA_REQUIRE_JETPACK value reads the base files", all, { listed: true, env: ["NVIDIA_REQUIRE_JETPACK=csv-mounts=some"] }, ["devices.csv", "drivers.csv", "l4t.csv"], false],
    ["a file named .csv is never read", [file(".csv", "dev, /dev/z"), file("x.csv", "dev, /dev/x")], { listed: true, env: ["NVIDIA_REQUIRE_JETPACK=csv-mounts=all"] }, ["x.csv"], false],
    ["no base file in a listed directory: the defaults are to be read", [file("extra.csv", "dir, /x")], { listed: true }, [], true],
    ["given files (--csv.file): all of them, whatever their names", [file("extra.csv", "dir, /x"), file("mine.txt", "dev, /dev/m")], {}, ["extra.csv", "mine.txt"], false],
  ];
  for (const [what, files, o, read, useDefaults] of cases) {
    test(what, () => {
      const r = parse(files, o);
      expect(r.files.map((f) => f.slice(DIR.length + 1))).toEqual(read);
      expect(r.useDefaults).toBe(useDefaults);
    });
  }
  test("entries follow the files' order, then their lines'", () => {
    expect(parse([file("devices.csv", "dev, /dev/b\ndev, /dev/a"), file("drivers.csv", "dev, /dev/c")], { listed: true }).entries.map((x) => x.path)).toEqual(["/dev/b", "/dev/a", "/dev/c"]);
  });
  test("an unreadable file is skipped with a warning", () => {
    const r = parse([file("devices.csv"), file("drivers.csv", "lib, /l")], { listed: true });
    expect(r.entries).toEqual([e("lib", "/l")]);
    expect(r.warnings).toEqual([`Skipping CSV file ${DIR}/devices.csv: failed to open it for reading`]);
  });
});

describe("csvparse: --csv.ignore-pattern (sym entries only, filepath.Match)", () => {
  const text = "sym, /usr/lib/libcuda.so\nsym, /usr/lib/libnvidia-egl.so.1\nsym, /etc/vulkan/icd.d/nvidia_icd.json\nlib, /usr/lib/libcuda.so.1.1\nsym, /usr/lib/a[b].so";
  const cases: [string, string[], string[]][] = [
    ["none", [], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["a whole path", ["/usr/lib/libcuda.so"], ["/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["* stays within a component", ["/usr/*"], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["* in the last component; a lib entry is never dropped", ["/usr/lib/libcuda*"], ["/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["**/ matches the base name", ["**/*.json"], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["? and a class", ["**/libnvidia-eg?.so.[0-9]"], ["/usr/lib/libcuda.so", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["a negated class", ["**/libcuda.so[^.]*", "**/libcuda.s[^o]"], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
    ["an escaped bracket", ["**/a\\[b\\].so"], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1"]],
    ["a malformed pattern matches nothing", ["**/[abc", "\\"], ["/usr/lib/libcuda.so", "/usr/lib/libnvidia-egl.so.1", "/etc/vulkan/icd.d/nvidia_icd.json", "/usr/lib/libcuda.so.1.1", "/usr/lib/a[b].so"]],
  ];
  for (const [what, ignore, kept] of cases) test(what, () => expect(parse([{ path: "F", text }], { ignore }).entries.map((x) => x.path)).toEqual(kept));
});

// ---- edits ----

const match = (path: string, o: Partial<CsvMatch> = {}): CsvMatch => ({
  path, kind: "file", resolved: path, resolvedKind: "file", major: 0, minor: 0, mode: 0, gid: 0, chain: [], beside: [], ...o,
});
const dev = (path: string, major: number, minor: number, mode = 0o666, gid = 0) => match(path, { kind: "chardev", resolvedKind: "chardev", major, minor, mode, gid });
const T = "/usr/lib/aarch64-linux-gnu/tegra";
const HOST: CsvHost = {
  root: "/",
  devRoot: "/",
  tegraRelease: true,
  nvmlCuda: "",
  orin: false,
  compatRoot: "",
  found: [
    { entry: e("dev", "/dev/nvhost-ctrl"), matches: [dev("/dev/nvhost-ctrl", 507, 0)] },
    { entry: e("dev", "nvmap"), matches: [dev("/dev/nvmap", 10, 120, 0o660, 44)] },
    { entry: e("dev", "/dev/nvhost-*"), matches: [dev("/dev/nvhost-ctrl", 507, 0), dev("/dev/nvhost-gpu", 507, 1)] },
    { entry: e("dev", "/dev/link-to-node"), matches: [match("/dev/link-to-node", { kind: "symlink", resolved: "/dev/nvmap", resolvedKind: "chardev" })] },
    { entry: e("dev", "/dev/missing"), matches: [] },
    {
      entry: e("lib", `${T}/libcuda.so.1.1`),
      matches: [match(`${T}/libcuda.so.1.1`, { beside: [{ path: `${T}/libcuda.so`, target: "libcuda.so.1.1" }, { path: `${T}/libcuda.so.1`, target: "libcuda.so.1.1" }, { path: `${T}/libcuda.so.2`, target: "libcuda.so.9" }] })],
    },
    { entry: e("lib", `${T}/libnvrm_gpu.so`), matches: [match(`${T}/libnvrm_gpu.so`)] },
    { entry: e("lib", `${T}/libnvos.so`), matches: [match(`${T}/libnvos.so`, { kind: "symlink", resolved: `${T}/libnvos.so.1.0`, beside: [] })] },
    { entry: e("lib", `${T}/a-dir`), matches: [match(`${T}/a-dir`, { kind: "dir", resolvedKind: "dir" })] },
    {
      entry: e("sym", "/usr/lib/aarch64-linux-gnu/libcuda.so"),
      matches: [match("/usr/lib/aarch64-linux-gnu/libcuda.so", { kind: "symlink", resolved: `${T}/libcuda.so.1.1`, chain: [{ path: "/usr/lib/aarch64-linux-gnu/libcuda.so", target: "tegra/libcuda.so" }, { path: `${T}/libcuda.so`, target: "libcuda.so.1.1" }] })],
    },
    { entry: e("sym", "/usr/lib/dangling.so"), matches: [match("/usr/lib/dangling.so", { kind: "symlink", resolved: "", resolvedKind: "missing", chain: [{ path: "/usr/lib/dangling.so", target: "nowhere" }] })] },
    { entry: e("dir", "/usr/lib/aarch64-linux-gnu/tegra-egl"), matches: [match("/usr/lib/aarch64-linux-gnu/tegra-egl", { kind: "dir", resolvedKind: "dir" })] },
    { entry: e("dir", "/usr/share/not-a-dir"), matches: [match("/usr/share/not-a-dir")] },
  ],
};
const HOOK = "/usr/bin/nvidia-cdi-hook";
const OPTS: CdiOptions = { mode: "nvml", vendor: "nvidia.com", class: "gpu", strategies: ["index", "uuid"], hookPath: HOOK, ldconfigPath: "", enabledHooks: [], disabledHooks: [], noAllDevice: false, deviceIds: [] };
const request = (o: Partial<{ devices: string[]; requires: string[]; cuda: string; arch: string; host: CsvHost }> = {}) =>
  core().csvedits({ host: HOST, hookPath: HOOK, devices: ["all"], requires: [], cuda: "", arch: "", ...o });
const RO = ["ro", "nosuid", "nodev", "rbind", "rprivate"];
const defined = (o: object) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));

describe("csvedits: what the runtime writes into a container's spec", () => {
  const r = request();
  test("dev matches that are character devices (not links), each once, sorted, with rdev, mode, rwm and group", () => {
    expect(r.deviceNodes.map(defined)).toEqual([
      { path: "/dev/nvhost-ctrl", major: 507, minor: 0, fileMode: 0o666, permissions: "rwm" },
      { path: "/dev/nvhost-gpu", major: 507, minor: 1, fileMode: 0o666, permissions: "rwm" },
      { path: "/dev/nvmap", major: 10, minor: 120, fileMode: 0o660, permissions: "rwm", gid: 44 },
    ]);
  });
  test("a node only its group may use brings the group", () => expect(r.additionalGids).toEqual([44]));
  test("mounts: libraries where they resolve, sym targets, directories, /etc/nv_tegra_release; by depth, then name", () => {
    expect(r.mounts.map((m) => [m.hostPath, m.containerPath])).toEqual([
      ["/etc/nv_tegra_release", "/etc/nv_tegra_release"],
      ["/usr/lib/aarch64-linux-gnu/tegra-egl", "/usr/lib/aarch64-linux-gnu/tegra-egl"],
      [`${T}/libcuda.so.1.1`, `${T}/libcuda.so.1.1`],
      [`${T}/libnvos.so.1.0`, `${T}/libnvos.so.1.0`],
      [`${T}/libnvrm_gpu.so`, `${T}/libnvrm_gpu.so`],
    ]);
    for (const m of r.mounts) expect(m.options).toEqual(RO);
  });
  test("hooks: one create-symlinks (library links, then the sym chains; one per link), then update-ldcache", () => {
    expect(r.hooks).toEqual([
      {
        hookName: "createContainer",
        path: HOOK,
        args: ["nvidia-cdi-hook", "create-symlinks", "--link", `libcuda.so.1.1::${T}/libcuda.so.1`, "--link", "tegra/libcuda.so::/usr/lib/aarch64-linux-gnu/libcuda.so", "--link", `libcuda.so.1.1::${T}/libcuda.so`],
        env: ["NVIDIA_CTK_DEBUG=false"],
      },
      { hookName: "createContainer", path: HOOK, args: ["nvidia-cdi-hook", "update-ldcache", "--folder", T], env: ["NVIDIA_CTK_DEBUG=false"] },
    ] as any);
  });
  test("the devices are in the spec: NVIDIA_VISIBLE_DEVICES=void", () => expect(r.env).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]));
  test("`0`, `all` and none name the one device", () => {
    for (const devices of [["0"], ["all"], [], ["0", "all"]]) expect(request({ devices }).deviceNodes.length).toBe(3);
  });
  const failures: [string, Parameters<typeof request>[0], string, string][] = [
    ["another index", { devices: ["1"] }, "unknown-device", "unsupported device id `1` in csv mode: want 0 or all"],
    ["a UUID", { devices: ["0", "GPU-1234"] }, "unknown-device", "unsupported device id `GPU-1234` in csv mode: want 0 or all"],
    ["a requirement on cuda not met", { requires: ["cuda>=12.4"], cuda: "11.4" }, "unsatisfied", "unsatisfied condition: cuda>=12.4, please update your driver to a newer version, or use an earlier cuda container"],
    ["a requirement on arch not met", { requires: ["arch>=9.0"], cuda: "11.4", arch: "8.7" }, "unsatisfied", "unsatisfied condition: arch>=9.0"],
    ["a requirement that does not parse", { requires: ["cuda>>1"] }, "bad-requirement", "invalid requirement `cuda>>1`: value must be a version such as 12.4"],
  ];
  for (const [what, o, code, message] of failures) {
    test(`fails: ${what}`, () => {
      let err: any;
      try {
        request(o);
      } catch (x) {
        err = x;
      }
      expect({ code: err?.code, message: err?.message }).toEqual({ code, message });
    });
  }
  const passes: [string, Parameters<typeof request>[0]][] = [
    ["cuda met", { requires: ["cuda>=11.4"], cuda: "11.4" }],
    ["one alternative met", { requires: ["cuda>=12.0 arch>=8.7"], cuda: "11.4", arch: "8.7" }],
    ["driver and brand terms are not known on Tegra: skipped", { requires: ["driver>=999", "brand=tesla"], cuda: "11.4", arch: "8.7" }],
    ["an unknown cuda version skips the term", { requires: ["cuda>=99"] }],
    ["an alternative of unknown terms only is skipped", { requires: ["driver>=999 cuda>=11"], cuda: "11.4" }],
    ["the known terms of an alternative decide it", { requires: ["cuda>=11,driver>=999"], cuda: "11.4" }],
  ];
  for (const [what, o] of passes) test(`passes: ${what}`, () => expect(request(o).mounts.length).toBe(5));
  test("NVML on an Orin: enable-cuda-compat with its CUDA version and the Orin compat root, before update-ldcache", () => {
    const hooks = request({ host: { ...HOST, nvmlCuda: "12.6", orin: true } }).hooks.map((h) => h.args[1]);
    expect(hooks).toEqual(["create-symlinks", "enable-cuda-compat", "update-ldcache"]);
    expect(request({ host: { ...HOST, nvmlCuda: "12.6", orin: true } }).hooks[1].args).toEqual(["nvidia-cdi-hook", "enable-cuda-compat", "--host-cuda-version=12.6", "--cuda-compat-container-root=/usr/local/cuda/compat_orin"]);
    expect(request({ host: { ...HOST, nvmlCuda: "12.6", orin: true, compatRoot: "/c" } }).hooks[1].args[3]).toBe("--cuda-compat-container-root=/c");
    expect(request({ host: { ...HOST, nvmlCuda: "12.6" } }).hooks[1].args).toEqual(["nvidia-cdi-hook", "enable-cuda-compat", "--host-cuda-version=12.6"]);
  });
  test("a driver root: host paths under it, container paths without it; a dev root: nodes' hostPath", () => {
    const host: CsvHost = { ...HOST, root: "/run/nvidia/driver", devRoot: "/host", tegraRelease: false };
    const x = request({ host });
    expect(x.mounts.map((m) => m.hostPath)).toEqual(["/run/nvidia/driver/usr/lib/aarch64-linux-gnu/tegra-egl", `/run/nvidia/driver${T}/libcuda.so.1.1`, `/run/nvidia/driver${T}/libnvos.so.1.0`, `/run/nvidia/driver${T}/libnvrm_gpu.so`]);
    expect(x.deviceNodes.map((n) => [n.path, n.hostPath])).toEqual([["/dev/nvhost-ctrl", "/host/dev/nvhost-ctrl"], ["/dev/nvhost-gpu", "/host/dev/nvhost-gpu"], ["/dev/nvmap", "/host/dev/nvmap"]]);
  });
  test("libcuda.so.X.Y gets libcuda.so -> libcuda.so.1; libGLX_nvidia and libnvidia-opticalflow theirs", () => {
    const libs = ["libcuda.so.1.1", "libGLX_nvidia.so.0.1", "libnvidia-opticalflow.so.2.3"].map((n) => ({ entry: e("lib", `/l/${n}`), matches: [match(`/l/${n}`)] }));
    const x = request({ host: { ...HOST, tegraRelease: false, found: libs } });
    expect(x.hooks[0].args.slice(2)).toEqual(["--link", "libcuda.so.1::/l/libcuda.so", "--link", "libGLX_nvidia.so.0.1::/l/libGLX_indirect.so.0", "--link", "libnvidia-opticalflow.so.1::/l/libnvidia-opticalflow.so"]);
  });
  test("links beside a library: only those named for it that lead to it (through each other)", () => {
    const m = match("/l/libfoo.so.1.2.3", {
      beside: [
        { path: "/l/libfoo.so", target: "libfoo.so.1" },
        { path: "/l/libfoo.so.1", target: "/l/libfoo.so.1.2.3" },
        { path: "/l/libfoo.so.2", target: "libother.so.2" },
        { path: "/l/libfoobar.so.1", target: "libfoo.so.1.2.3" },
      ],
    });
    const x = request({ host: { ...HOST, tegraRelease: false, found: [{ entry: e("lib", "/l/libfoo.so.1.2.3"), matches: [m] }] } });
    expect(x.hooks[0].args.slice(2)).toEqual(["--link", "libfoo.so.1::/l/libfoo.so", "--link", "/l/libfoo.so.1.2.3::/l/libfoo.so.1"]);
  });
  test("nothing found: no hooks, no nodes, the env only", () => {
    const x = request({ host: { ...HOST, tegraRelease: false, found: [] } });
    expect(x).toEqual({ env: ["NVIDIA_VISIBLE_DEVICES=void"], deviceNodes: [], mounts: [], hooks: [], additionalGids: [] });
  });
});

describe("csvspec: cdi generate --mode=csv", () => {
  const spec = (o: Partial<CdiOptions> = {}, host = HOST) => core().csvspec({ host, options: { ...OPTS, ...o } });
  test("device 0 and all, the nodes in each, common edits the rest; validates; 0.7.0 for the group", () => {
    const s = spec();
    expect(s.kind).toBe("nvidia.com/gpu");
    expect(s.devices.map((d) => d.name)).toEqual(["0", "all"]);
    for (const d of s.devices) expect(d.edits.deviceNodes.map((n) => n.path)).toEqual(["/dev/nvhost-ctrl", "/dev/nvhost-gpu", "/dev/nvmap"]);
    expect(s.edits.deviceNodes).toEqual([]);
    expect(s.edits.mounts.length).toBe(5);
    expect(s.edits.env).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]);
    expect(s.version).toBe("0.7.0");
    expect(validate(toFile(s), "cdi/schema.json")).toEqual([]);
  });
  test("without a group-only node: 0.5.0 (a name starting with a digit)", () => {
    const host = { ...HOST, found: HOST.found.filter((f) => f.entry.path !== "nvmap") };
    const s = spec({}, host);
    expect(s.version).toBe("0.5.0");
    expect(s.devices[0].edits.additionalGids).toEqual([]);
    expect(validate(toFile(s), "cdi/schema.json")).toEqual([]);
  });
  const names: [string, Partial<CdiOptions>, string[]][] = [
    ["uuid names nothing", { strategies: ["uuid"] }, ["all"]],
    ["type-index: gpu0", { strategies: ["type-index", "index"] }, ["0", "all", "gpu0"]],
    ["--no-all-device", { noAllDevice: true }, ["0"]],
    ["--device-id 0", { deviceIds: ["0"] }, ["0", "all"]],
    ["another vendor and class", { vendor: "example.com", class: "igpu" }, ["0", "all"]],
  ];
  for (const [what, o, want] of names) test(what, () => expect(spec(o).devices.map((d) => d.name)).toEqual(want));
  test("--device-id 1 fails", () => expect(() => spec({ deviceIds: ["1"] })).toThrow("unsupported device id `1` in csv mode: want 0 or all"));
  test("--disable-hook create-symlinks, --ldconfig-path", () => {
    const s = spec({ disabledHooks: ["create-symlinks"], ldconfigPath: "/sbin/ldconfig.real" });
    expect(s.edits.hooks.map((h) => h.args)).toEqual([["nvidia-cdi-hook", "update-ldcache", "--ldconfig-path", "/sbin/ldconfig.real", "--folder", T]]);
  });
  test("--disable-hook all", () => expect(spec({ disabledHooks: ["all"] }).edits.hooks).toEqual([]));
  test("nvidia-ctk as the hook: `nvidia-ctk hook NAME`", () => expect(spec({ hookPath: "/usr/bin/nvidia-ctk" }).edits.hooks[1].args.slice(0, 3)).toEqual(["nvidia-ctk", "hook", "update-ldcache"]));
});

// `nvidia-ctk runtime configure` on operators' own files (test/fixtures/operator: comments
// everywhere, odd spacing, tabs, other tables and keys): the diff of each file is nvct's lines and
// nothing else, a second configure changes nothing, daemon.json keeps its key order. The whole
// results are golden files (test/golden/configure/; a missing one fails, UPDATE_GOLDEN=1 rewrites).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { recordingIo } from "../../src/io";
import { main } from "../../src/main";
import { expectGolden } from "../golden-file";
import { BIN } from "../paths";

const OP = join(import.meta.dir, "../fixtures/operator");
const GOLDEN = join(import.meta.dir, "../golden/configure");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nvct-operator-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Compares with test/golden/configure/<name> ($DIR for the test's directory; test/golden-file.ts). */
const golden = (name: string, got: string) => expectGolden(join(GOLDEN, name), got.replaceAll(dir, "$DIR"), `configure/${name}`);

/** A line diff (longest common subsequence): the lines only in a, and those only in b, in order. */
function lineDiff(a: string, b: string): { removed: string[]; added: string[] } {
  const x = a.split("\n");
  const y = b.split("\n");
  const t: number[][] = Array.from({ length: x.length + 1 }, () => new Array(y.length + 1).fill(0));
  for (let i = x.length - 1; i >= 0; i--) for (let j = y.length - 1; j >= 0; j--) t[i][j] = x[i] === y[j] ? t[i + 1][j + 1] + 1 : Math.max(t[i + 1][j], t[i][j + 1]);
  const removed: string[] = [];
  const added: string[] = [];
  let i = 0;
  let j = 0;
  while (i < x.length || j < y.length) {
    if (i < x.length && j < y.length && x[i] === y[j]) {
      i++;
      j++;
    } else if (j < y.length && (i === x.length || t[i][j + 1] >= t[i + 1][j])) added.push(y[j++]);
    else removed.push(x[i++]);
  }
  return { removed, added };
}

/**
 * The diff of before -> after is exactly `removed` and `added`. Blank lines are compared by count:
 * where an added block meets a blank line, either blank is as good a match as the other.
 */
function expectDiff(before: string, after: string, removed: string[], added: string[]) {
  const d = lineDiff(before, after);
  const blanks = (l: string[]) => l.filter((x) => x.trim() === "").length;
  const lines = (l: string[]) => l.filter((x) => x.trim() !== "");
  expect({ removed: lines(d.removed), added: lines(d.added) }).toEqual({ removed: lines(removed), added: lines(added) });
  expect({ removedBlank: blanks(d.removed), addedBlank: blanks(d.added) }).toEqual({ removedBlank: blanks(removed), addedBlank: blanks(added) });
}

async function ctk(...argv: string[]) {
  const io = recordingIo();
  const status = await main(["nvidia-ctk", ...argv], {}, io);
  return { status, out: io.out, err: io.err };
}

let n = 0;
/** A fresh copy of an operator fixture (optionally transformed) in its own directory. */
function copy(name: string, f: (s: string) => string = (s) => s): { file: string; text: string; dir: string } {
  const d = join(dir, `case${n++}`);
  mkdirSync(d);
  const text = f(readFileSync(join(OP, name), "utf8"));
  writeFileSync(join(d, name), text);
  return { file: join(d, name), text, dir: d };
}

const read = (f: string) => readFileSync(f, "utf8");

// The lines nvct adds to test/fixtures/operator/containerd.toml, indented as that file indents.
const NVIDIA_RUNTIME = [
  "",
  '        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia]',
  '          runtime_type = "io.containerd.runc.v2"',
  '          pod_annotations = ["io.kubernetes.cri.*"]',
  "",
  '          [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]',
  "            SystemdCgroup = true",
  '            BinaryName = "/usr/bin/nvidia-container-runtime"',
];
const DEFAULT_RUNC = '      default_runtime_name = "runc"    # keep runc unless a pod asks';
const DEFAULT_NVIDIA = '      default_runtime_name = "nvidia"    # keep runc unless a pod asks';
const ENABLE_CDI = "    enable_cdi = true";

describe("containerd's config.toml, edited in place (--drop-in-config=\"\")", () => {
  const cases: [string, string[], string[], string[]][] = [
    ["no options", [], [], NVIDIA_RUNTIME],
    ["--set-as-default --enable-cdi", ["--set-as-default", "--enable-cdi"], [DEFAULT_RUNC], [ENABLE_CDI, DEFAULT_NVIDIA, ...NVIDIA_RUNTIME]],
    ["--nvidia-set-as-default", ["--nvidia-set-as-default"], [DEFAULT_RUNC], [DEFAULT_NVIDIA, ...NVIDIA_RUNTIME]],
    ["--cdi.enabled", ["--cdi.enabled"], [], [ENABLE_CDI, ...NVIDIA_RUNTIME]],
  ];
  test.each(cases)("%s: the diff is nvct's lines only; a second run changes nothing", async (label, flags, removed, added) => {
    const { file, text } = copy("containerd.toml");
    const r = await ctk("runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config=", ...flags);
    expect(r.status).toBe(0);
    const after = read(file);
    expectDiff(text, after, removed, added);
    golden(`containerd.inplace${flags.join("")}.toml`, after);
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config=", ...flags)).status).toBe(0);
    expect(read(file)).toBe(after);
    void label;
  });

  test("a CRLF file stays CRLF; a file without a final newline stays without", async () => {
    const lf = copy("containerd.toml");
    await ctk("runtime", "configure", "--runtime=containerd", "--config", lf.file, "--drop-in-config=", "--set-as-default", "--enable-cdi");
    const want = read(lf.file);
    const crlf = copy("containerd.toml", (s) => s.replaceAll("\n", "\r\n"));
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", crlf.file, "--drop-in-config=", "--set-as-default", "--enable-cdi")).status).toBe(0);
    expect(read(crlf.file)).toBe(want.replaceAll("\n", "\r\n"));
    const bare = copy("containerd.toml", (s) => s.replace(/\n$/, ""));
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", bare.file, "--drop-in-config=", "--set-as-default", "--enable-cdi")).status).toBe(0);
    expect(read(bare.file)).toBe(want.replace(/\n$/, ""));
  });

  test("tables with no keys of their own, or only implied by their sub-tables' headers, get nvct's keys", async () => {
    const f = join(dir, "sparse.toml");
    const text = '# sparse\nversion = 2\n\n[plugins]\n\n  # runc only\n  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\n    runtime_type = "io.containerd.runc.v2"\n';
    writeFileSync(f, text);
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", f, "--drop-in-config=", "--set-as-default", "--enable-cdi")).status).toBe(0);
    const after = read(f);
    expect(lineDiff(text, after).removed).toEqual([]);
    golden("sparse.inplace.toml", after);
    const t = Bun.TOML.parse(after) as any;
    const cri = t.plugins["io.containerd.grpc.v1.cri"];
    expect([cri.enable_cdi, cri.containerd.default_runtime_name, cri.containerd.runtimes.nvidia.options.BinaryName]).toEqual([true, "nvidia", "/usr/bin/nvidia-container-runtime"]);
  });

  test("a layout the editor cannot keep is refused, one line naming the file, the file unchanged", async () => {
    // The runtimes in an inline table: toml-edit-js will not put a table in it.
    const f = join(dir, "inline.toml");
    const text = 'version = 2\n[plugins."io.containerd.grpc.v1.cri"]\ncontainerd = { default_runtime_name = "runc", runtimes = { runc = { runtime_type = "io.containerd.runc.v2" } } }\n';
    writeFileSync(f, text);
    const r = await ctk("runtime", "configure", "--runtime=containerd", "--config", f, "--drop-in-config=");
    expect(r.status).toBe(1);
    expect(r.err).toMatch(new RegExp(`^time="[^"]+" level=error msg="cannot edit \`${f}\` in place: [^\\n]+"\\n$`));
    expect(read(f)).toBe(text);
    expect(readdirSync(dir).filter((x) => x.includes(".nvct-"))).toEqual([]);
  });
});

describe("containerd with a drop-in (the default)", () => {
  const cases: [string, string[]][] = [
    ["no options", []],
    ["--set-as-default --enable-cdi", ["--set-as-default", "--enable-cdi"]],
  ];
  test.each(cases)("%s: the main file gains the import line only; the drop-in is nvct's, whole", async (_label, flags) => {
    const { file, text, dir: d } = copy("containerd.toml");
    const dropIn = join(d, "conf.d", "99-nvidia.toml");
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config", dropIn, ...flags)).status).toBe(0);
    const after = read(file);
    expectDiff(text, after, [], [`imports = ["${join(d, "conf.d")}/*.toml"]`]);
    const drop = read(dropIn);
    golden(`containerd.dropin${flags.join("")}.toml`, drop.replaceAll(d, "$DIR"));
    const plugin = (Bun.TOML.parse(drop) as any).plugins["io.containerd.grpc.v1.cri"];
    expect(plugin.containerd.runtimes.nvidia.options).toEqual({ SystemdCgroup: true, BinaryName: "/usr/bin/nvidia-container-runtime" });
    expect(plugin.containerd.default_runtime_name).toBe(flags.length ? "nvidia" : "runc");
    // Again: nothing changes, in either file.
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config", dropIn, ...flags)).status).toBe(0);
    expect([read(file), read(dropIn)]).toEqual([after, drop]);
  });

  test("an imports array already there gains the drop-in's directory", async () => {
    const { file, dir: d } = copy("containerd.toml", (s) => s.replace("oom_score = -999\n", 'oom_score = -999\nimports = ["/etc/containerd/site.toml"]   # site-wide\n'));
    const text = read(file);
    expect((await ctk("runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config", join(d, "conf.d", "99-nvidia.toml"))).status).toBe(0);
    expectDiff(text, read(file), ['imports = ["/etc/containerd/site.toml"]   # site-wide'], [`imports = ["/etc/containerd/site.toml", "${join(d, "conf.d")}/*.toml"]   # site-wide`]);
  });
});

// The lines nvct adds to test/fixtures/operator/crio.conf: the nvidia runtime from the default (crun).
const CRIO_RUNTIME = [
  "",
  "[crio.runtime.runtimes.nvidia]",
  'runtime_path = "/usr/bin/nvidia-container-runtime"',
  'runtime_type = "oci"',
  'runtime_root = "/run/crun"',
  'monitor_path = "/usr/libexec/crio/conmon"',
  'allowed_annotations = ["io.containers.trace-syscall"]',
];

describe("CRI-O's crio.conf", () => {
  const cases: [string, string[], string[], string[]][] = [
    ["in place", [], [], CRIO_RUNTIME],
    ["in place, --set-as-default", ["--set-as-default"], ['default_runtime = "crun"'], ['default_runtime = "nvidia"', ...CRIO_RUNTIME]],
    ["in place, --nvidia-set-as-default --enable-cdi (ignored for crio)", ["--nvidia-set-as-default", "--enable-cdi"], ['default_runtime = "crun"'], ['default_runtime = "nvidia"', ...CRIO_RUNTIME]],
  ];
  test.each(cases)("%s: the diff is nvct's lines only; a second run changes nothing", async (_label, flags, removed, added) => {
    const { file, text } = copy("crio.conf");
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", file, "--drop-in-config=", ...flags)).status).toBe(0);
    const after = read(file);
    expectDiff(text, after, removed, added);
    golden(`crio.inplace${flags.join("")}.conf`, after);
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", file, "--drop-in-config=", ...flags)).status).toBe(0);
    expect(read(file)).toBe(after);
  });

  test("with a drop-in (the default): crio.conf untouched, the drop-in nvct's, whole", async () => {
    const { file, text, dir: d } = copy("crio.conf");
    const dropIn = join(d, "crio.conf.d", "99-nvidia.toml");
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", file, "--drop-in-config", dropIn, "--set-as-default")).status).toBe(0);
    expect(read(file)).toBe(text);
    const drop = read(dropIn);
    golden("crio.dropin--set-as-default.toml", drop);
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", file, "--drop-in-config", dropIn, "--set-as-default")).status).toBe(0);
    expect([read(file), read(dropIn)]).toEqual([text, drop]);
  });
});

describe("docker's daemon.json", () => {
  const keys = (o: any): unknown => (o && typeof o === "object" && !Array.isArray(o) ? Object.entries(o).map(([k, v]) => [k, keys(v)]) : null);

  test("keeps its key order, its other keys and its indentation; only trailing commas move", async () => {
    const { file, text } = copy("daemon.json");
    expect((await ctk("runtime", "configure", "--runtime=docker", "--config", file, "--set-as-default", "--enable-cdi")).status).toBe(0);
    const after = read(file);
    golden("daemon.json", after);
    const [b, a] = [JSON.parse(text), JSON.parse(after)];
    expect(Object.keys(a)).toEqual([...Object.keys(b), "default-runtime"]);
    expect(Object.keys(a.runtimes)).toEqual(["runsc", "nvidia"]);
    expect(Object.keys(a.features)).toEqual(["buildkit", "cdi"]);
    expect(keys(a["default-ulimits"])).toEqual(keys(b["default-ulimits"]));
    // Every line of the file is still there, or there with a comma after it (a key now follows).
    const { removed, added } = lineDiff(text, after);
    for (const l of removed) expect(added).toContain(`${l},`);
    expect((await ctk("runtime", "configure", "--runtime=docker", "--config", file, "--set-as-default", "--enable-cdi")).status).toBe(0);
    expect(read(file)).toBe(after);
  });

  test("a tab-indented file with an nvidia entry: tabs kept, the entry's runtimeArgs kept, its place kept", async () => {
    const f = join(dir, "tabs.json");
    writeFileSync(f, '{\n\t"default-runtime": "runc",\n\t"runtimes": {\n\t\t"nvidia": {\n\t\t\t"runtimeArgs": ["--debug"],\n\t\t\t"path": "/old/nvidia-container-runtime"\n\t\t},\n\t\t"runsc": {\n\t\t\t"path": "runsc"\n\t\t}\n\t}\n}\n');
    expect((await ctk("runtime", "configure", "--runtime=docker", "--config", f)).status).toBe(0);
    expect(read(f)).toBe('{\n\t"default-runtime": "runc",\n\t"runtimes": {\n\t\t"nvidia": {\n\t\t\t"runtimeArgs": [\n\t\t\t\t"--debug"\n\t\t\t],\n\t\t\t"path": "nvidia-container-runtime",\n\t\t\t"args": []\n\t\t},\n\t\t"runsc": {\n\t\t\t"path": "runsc"\n\t\t}\n\t}\n}\n');
  });
});

describe("the compiled binary", () => {
  test("dist/bin/nvidia-ctk edits TOML in place with the editor it embeds", async () => {
    const { file } = copy("containerd.toml");
    const r = Bun.spawnSync([join(BIN, "nvidia-ctk"), "runtime", "configure", "--runtime=containerd", "--config", file, "--drop-in-config=", "--set-as-default", "--enable-cdi"], { cwd: "/", stderr: "pipe" });
    expect(r.stderr.toString()).toContain("Wrote updated config to");
    expect(r.exitCode).toBe(0);
    golden("containerd.inplace--set-as-default--enable-cdi.toml", read(file));
  });
});

// The decision cache as input, not truth: an entry is used only when it is a whole regular file of
// root's, in a directory only root may write, holding the key asked for; everything else is a
// miss, read without blocking and without following a link. And it stays bounded.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readEntry, readJson, writeEntry } from "../../src/cache/store";
import { Decisions } from "../../src/engine/memo";
import { facts, gpu, planInput } from "./fixture";

const base = mkdtempSync(join(tmpdir(), "nvct-cache-"));
afterAll(() => rmSync(base, { recursive: true, force: true }));
let n = 0;
/** A fresh cache directory, 0700. */
function cacheDir(): string {
  const d = join(base, `c${n++}`);
  mkdirSync(d, { mode: 0o700 });
  return d;
}
/** The one entry file of a kind in a directory. */
function entryFile(dir: string, kind: string): string {
  const names = readdirSync(dir).filter((f) => f.startsWith(`${kind}-`));
  expect(names.length).toBe(1);
  return join(dir, names[0]);
}
const text = (b: Uint8Array | null) => (b ? Buffer.from(b).toString() : null);
const isNum = (v: any): v is { n: number } => typeof v?.n === "number";
const root = process.getuid!() === 0;

describe("the decision cache", () => {
  test("an entry written is read back under its key, and under no other", () => {
    const d = cacheDir();
    writeEntry(d, "plan", "key one", "value one");
    expect(text(readEntry(d, "plan", "key one"))).toBe("value one");
    expect(readEntry(d, "plan", "key two")).toBeNull();
    expect(readEntry(d, "jit", "key one")).toBeNull();
    expect(readdirSync(d).filter((f) => f.startsWith("."))).toEqual([]);
  });

  test("an entry whose file holds another key (a hash collision, a forged file) is a miss", () => {
    const d = cacheDir();
    writeEntry(d, "plan", "key one", "value one");
    const f = entryFile(d, "plan");
    writeFileSync(f, "key two\nforged value", { mode: 0o600 });
    expect(readEntry(d, "plan", "key one")).toBeNull();
  });

  const hostile: { description: string; make: (file: string, dir: string) => void; rootOnly?: boolean }[] = [
    { description: "a symlink to a file holding the right key", make: (f, d) => (writeFileSync(join(d, "elsewhere"), "k\nvalue"), symlinkSync(join(d, "elsewhere"), f)) },
    { description: "a FIFO (read without blocking)", make: (f) => Bun.spawnSync(["mkfifo", f]) },
    { description: "a directory", make: (f) => mkdirSync(f) },
    { description: "a file others may write", make: (f) => (writeFileSync(f, "k\nvalue"), chmodSync(f, 0o622)) },
    { description: "a file of another user's", make: (f) => (writeFileSync(f, "k\nvalue", { mode: 0o600 }), chownSync(f, 65534, 65534)), rootOnly: true },
    { description: "a file larger than any entry", make: (f) => writeFileSync(f, "k\n" + "x".repeat(2 << 20), { mode: 0o600 }) },
  ];
  for (const h of hostile)
    test.skipIf(!!h.rootOnly && !root)(`an entry that is ${h.description} is a miss`, () => {
      const d = cacheDir();
      writeEntry(d, "plan", "k", "value");
      const f = entryFile(d, "plan");
      rmSync(f);
      h.make(f, d);
      expect(readEntry(d, "plan", "k")).toBeNull();
    });

  test("an entry with the right key but garbage after it is a miss for JSON readers", () => {
    const d = cacheDir();
    writeEntry(d, "index", "k", '{"n": 1}');
    expect(readJson(d, "index", "k", isNum)).toEqual({ n: 1 });
    writeFileSync(entryFile(d, "index"), "k\n{\"n\": 1", { mode: 0o600 });
    expect(readJson(d, "index", "k", isNum)).toBeNull();
    writeFileSync(entryFile(d, "index"), 'k\n{"m": 1}', { mode: 0o600 });
    expect(readJson(d, "index", "k", isNum)).toBeNull();
  });

  const badDirs: { description: string; make: (d: string) => void; rootOnly?: boolean }[] = [
    { description: "others may write", make: (d) => (mkdirSync(d), chmodSync(d, 0o777)) },
    { description: "is a symlink to a directory", make: (d) => (mkdirSync(d + ".real", { mode: 0o700 }), symlinkSync(d + ".real", d)) },
    { description: "is another user's", make: (d) => (mkdirSync(d, { mode: 0o700 }), chownSync(d, 65534, 65534)), rootOnly: true },
  ];
  for (const b of badDirs)
    test.skipIf(!!b.rootOnly && !root)(`a cache directory that ${b.description} is neither read nor written`, () => {
      const d = join(base, `bad${n++}`);
      b.make(d);
      const logs: string[] = [];
      writeEntry(d, "plan", "k", "value", (m) => logs.push(m));
      expect(readdirSync(d)).toEqual([]);
      expect(logs.join()).toContain("not used");
      // An entry someone put there is not read either.
      writeFileSync(join(d, "plan-x"), "");
      expect(readEntry(d, "plan", "k")).toBeNull();
    });

  test("temporary files a killed writer left are removed; new ones are not", () => {
    const d = cacheDir();
    writeFileSync(join(d, ".plan-1-old"), "half");
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(d, ".plan-1-old"), old, old);
    writeFileSync(join(d, ".plan-2-new"), "half");
    writeEntry(d, "plan", "k", "value");
    expect(readdirSync(d).sort()).toEqual([".plan-2-new", entryFile(d, "plan").slice(d.length + 1)]);
  });

  test("a temporary file whose writer no longer runs (killed before its rename) is removed at once", () => {
    const d = cacheDir();
    const gone = Bun.spawnSync(["true"]).pid;
    writeFileSync(join(d, `.plan-${gone}-abc`), "half");
    writeFileSync(join(d, `.plan-${process.pid}-def`), "being written");
    writeEntry(d, "plan", "k", "value");
    expect(readdirSync(d).filter((f) => f.startsWith(".")).sort()).toEqual([`.plan-${process.pid}-def`]);
  });

  test("a stream of new keys leaves at most 512 entries and 32 MiB; an entry over 1 MiB is not written", () => {
    const d = cacheDir();
    for (let i = 0; i < 600; i++) writeEntry(d, "request", `key ${i}`, "v");
    const count = readdirSync(d).length;
    expect(count).toBeLessThanOrEqual(512);
    expect(count).toBeGreaterThan(0);
    // The newest survives.
    expect(text(readEntry(d, "request", "key 599"))).toBe("v");
    const e = cacheDir();
    for (let i = 0; i < 40; i++) writeEntry(e, "ldcache", `key ${i}`, Buffer.alloc(1000 << 10, 1));
    const bytes = readdirSync(e).reduce((s, f) => s + Bun.file(join(e, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(32 << 20);
    writeEntry(e, "ldcache", "huge", Buffer.alloc(2 << 20));
    expect(readEntry(e, "ldcache", "huge")).toBeNull();
  });
});

describe("decisions from the cache", () => {
  const input = (ids: string[]) => planInput({ devices: ids, caps: ["compute", "utility"] }, facts([gpu(0), gpu(1)]));

  test("a plan is computed once per fingerprint and input; a new fingerprint (the driver changed) computes again", () => {
    const d = cacheDir();
    const m = new Decisions(d);
    let computed = 0;
    const asked = () => (computed++, input(["0"]));
    const first = m.plan(asked, "driver A", ["0"]);
    expect(m.plan(asked, "driver A", ["0"])).toEqual(first);
    expect(computed).toBe(1);
    m.plan(asked, "driver B", ["0"]);
    expect(computed).toBe(2);
    m.plan(() => (computed++, input(["1"])), "driver A", ["1"]);
    expect(computed).toBe(3);
  });

  test("a forged plan entry of another user's (right key, a plan that mounts the host's root) is not taken", () => {
    const d = cacheDir();
    const m = new Decisions(d);
    const plan = m.plan(() => input(["0"]), "driver A", ["0"]);
    const f = entryFile(d, "plan");
    const whole = readFileSync(f, "utf8");
    const keyLines = whole.slice(0, whole.lastIndexOf("\n") + 1);
    // The value as the cache stores it (byte arrays as base64), with one more bind: the host's root.
    const value = JSON.parse(whole.slice(keyLines.length));
    value.ops.push({ ...value.ops.find((o: any) => o.tag === "bind"), val: { ...value.ops.find((o: any) => o.tag === "bind").val, source: "/", target: "/host" } });
    writeFileSync(f, keyLines + JSON.stringify(value), { mode: 0o600 });
    if (root) chownSync(f, 65534, 65534);
    else chmodSync(f, 0o622);
    expect(m.plan(() => input(["0"]), "driver A", ["0"])).toEqual(plan);
  });

  test("a CDI hook's operations are kept per input; one that names a unique file never is", () => {
    const d = cacheDir();
    const logged: string[] = [];
    const m = new Decisions(d, (msg) => logged.push(msg));
    const hook = (over: object) => ({ name: "create-symlinks", links: ["libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so"], folders: [], mode: "", paths: [], hostDriverVersion: "", hostCudaVersion: "", compatRoot: "", params: "", compatFiles: [], compatFolders: [], gpuMinors: [], unique: "", ...over });
    const first = m.hook(hook({}));
    expect(first.map((o) => o.tag)).toEqual(["symlink"]);
    expect(m.hook(hook({}))).toEqual(first);
    expect(logged).toEqual(["hook from cache"]);
    // Another link is another decision.
    expect(m.hook(hook({ links: ["libcuda.so.1::/usr/lib/libcuda.so"] }))).not.toEqual(first);
    const entries = () => readdirSync(d).filter((f) => f.startsWith("hook-")).length;
    expect(entries()).toBe(2);
    const compat = hook({ name: "enable-cuda-compat", hostDriverVersion: "535.1", compatFiles: ["libcuda.so.550.1"], unique: "u1" });
    expect(m.hook(compat)[0]).toMatchObject({ tag: "file", val: { path: "/etc/ld.so.conf.d/00-compat-u1.conf" } });
    expect(m.hook({ ...compat, unique: "u2" })[0]).toMatchObject({ tag: "file", val: { path: "/etc/ld.so.conf.d/00-compat-u2.conf" } });
    expect(entries()).toBe(2);
  });

  test("an image's ld.so.cache is keyed by its SHA-256: two caches are two entries", () => {
    const d = cacheDir();
    const m = new Decisions(d);
    let old = new Uint8Array(0);
    const a = m.ldcache(old, [], [], "x86_64");
    old = new Uint8Array([1]);
    m.ldcache(old, [], [], "x86_64");
    expect(readdirSync(d).filter((f) => f.startsWith("ldcache-")).length).toBe(2);
    expect(a.length).toBeGreaterThan(0);
  });
});

describe("the driver's fingerprint", () => {
  const input = (root: string) => ({ root, devRoot: root, ldcache: join(root, "etc/ld.so.cache"), libDirs: ["/usr/lib/x86_64-linux-gnu"], nvml: join(root, "nvml"), extraIpcs: [], drmDirs: [] });

  test("a graphics file appearing where none was, or a second one beside it, changes it; nothing else touched, it stays", () => {
    const { driverFingerprint } = require("../../src/discover/fingerprint") as typeof import("../../src/discover/fingerprint");
    const root = mkdtempSync(join(base, "fp-"));
    mkdirSync(join(root, "usr/share"), { recursive: true });
    const before = driverFingerprint(input(root));
    expect(driverFingerprint(input(root))).toBe(before);
    // No directory yet: the search directory is recorded as absent, so its creation shows.
    mkdirSync(join(root, "usr/share/vulkan/icd.d"), { recursive: true });
    writeFileSync(join(root, "usr/share/vulkan/icd.d/nvidia_icd.json"), "{}");
    const one = driverFingerprint(input(root));
    expect(one).not.toBe(before);
    writeFileSync(join(root, "usr/share/vulkan/icd.d/nvidia_layers.json"), "{}");
    expect(driverFingerprint(input(root))).not.toBe(one);
  });
});

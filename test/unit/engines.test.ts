// nvidia-ctk runtime configure / config / cdi transform on real sample files of each engine.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "../../src/config/toml";
import { parseConfig } from "../../src/config/config";
import { recordingIo } from "../../src/io";
import { main } from "../../src/main";

const FIX = join(import.meta.dir, "../fixtures");
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "nvct-engines-"));
  cpSync(FIX, dir, { recursive: true });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function ctk(...argv: string[]) {
  const io = recordingIo();
  const status = await main(["nvidia-ctk", ...argv], {}, io);
  return { status, out: io.out, err: io.err };
}

/** Every leaf of a is in b with the same value (leaves set to undefined in a are not checked). */
function keeps(a: any, b: any, at = "$"): void {
  if (a === undefined) return;
  if (typeof a !== "object" || a === null || Array.isArray(a)) return void expect({ at, v: b }).toEqual({ at, v: a });
  for (const k of Object.keys(a)) keeps(a[k], b?.[k], `${at}.${k}`);
}

const toml = (f: string) => Bun.TOML.parse(readFileSync(f, "utf8")) as any;

describe("runtime configure round-trips each engine's file", () => {
  const cases: [string, string, string, string[], (c: any) => any][] = [
    ["containerd v1", "containerd", "containerd-v1.toml", ["plugins", "cri", "containerd"], (c) => c],
    ["containerd v2 (containerd config default)", "containerd", "containerd-v2.toml", ["plugins", "io.containerd.grpc.v1.cri", "containerd"], (c) => c],
    ["containerd v3", "containerd", "containerd-v3.toml", ["plugins", "io.containerd.cri.v1.runtime", "containerd"], (c) => c],
  ];
  test.each(cases)("%s", async (_d, engine, file, path, _f) => {
    const f = join(dir, file);
    const before = toml(f);
    const r = await ctk("runtime", "configure", `--runtime=${engine}`, "--config", f, "--drop-in-config=", "--set-as-default", "--cdi.enabled");
    expect(r.err).toMatch(new RegExp(`^time="[^"]+" level=info msg="Wrote updated config to ${f}"\ntime="[^"]+" level=info msg="It is recommended that containerd daemon be restarted."\n$`));
    expect(r.status).toBe(0);
    const after = toml(f);
    keeps({ ...before, [path[0]]: undefined }, { ...after, [path[0]]: undefined });
    let c = after;
    for (const p of path) c = c[p];
    expect(c.runtimes.nvidia.runtime_type).toBe("io.containerd.runc.v2");
    expect(c.runtimes.nvidia.options.BinaryName).toBe("/usr/bin/nvidia-container-runtime");
    expect(c.default_runtime_name).toBe("nvidia");
    // runc's options (SystemdCgroup) carry over to the nvidia runtime.
    if (c.runtimes.runc?.options?.SystemdCgroup !== undefined) expect(c.runtimes.nvidia.options.SystemdCgroup).toBe(c.runtimes.runc.options.SystemdCgroup);
    // Everything else in the plugin's table is still there.
    let b = before;
    for (const p of path) b = b[p];
    keeps({ ...b, default_runtime_name: undefined }, { ...c, default_runtime_name: undefined });
    // A second run changes nothing.
    const once = readFileSync(f, "utf8");
    await ctk("runtime", "configure", `--runtime=${engine}`, "--config", f, "--drop-in-config=", "--set-as-default", "--cdi.enabled");
    expect(readFileSync(f, "utf8")).toBe(once);
  });

  test("containerd: by default a drop-in seeded with the CRI plugin's table, and an import of its directory", async () => {
    const main = join(dir, "containerd-v2-dropin.toml");
    cpSync(join(FIX, "containerd-v2.toml"), main);
    const dropIn = join(dir, "conf.d", "99-nvidia.toml");
    const r = await ctk("runtime", "configure", "--runtime=containerd", "--config", main, "--drop-in-config", dropIn, "--nvidia-set-as-default");
    expect(r.status).toBe(0);
    expect(toml(main).imports).toEqual([join(dir, "conf.d", "*.toml")]);
    const before = toml(join(FIX, "containerd-v2.toml"));
    keeps({ ...before, imports: undefined }, { ...toml(main), imports: undefined });
    const plugin = toml(dropIn).plugins["io.containerd.grpc.v1.cri"];
    // The whole plugin table, so that containerd before 2.1 (which replaces tables by key) keeps it.
    keeps({ ...before.plugins["io.containerd.grpc.v1.cri"], containerd: undefined }, { ...plugin, containerd: undefined });
    expect(plugin.containerd.default_runtime_name).toBe("nvidia");
    expect(plugin.containerd.runtimes.nvidia.options.BinaryName).toBe("/usr/bin/nvidia-container-runtime");
    expect(plugin.containerd.runtimes.runc).toEqual(before.plugins["io.containerd.grpc.v1.cri"].containerd.runtimes.runc);
    expect(toml(dropIn).version).toBe(2);
  });

  test("crio: by default a drop-in holding the nvidia runtime only; the main config only read", async () => {
    const f = join(dir, "crio.conf");
    const text = readFileSync(f, "utf8");
    const dropIn = join(dir, "crio.conf.d", "99-nvidia.toml");
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", f, "--drop-in-config", dropIn, "--set-as-default")).status).toBe(0);
    expect(readFileSync(f, "utf8")).toBe(text);
    const runc = toml(f).crio.runtime.runtimes.runc;
    expect(toml(dropIn)).toEqual({ crio: { runtime: { default_runtime: "nvidia", runtimes: { nvidia: { ...runc, runtime_path: "/usr/bin/nvidia-container-runtime", runtime_type: "oci" } } } } });
  });

  test("crio in place with --drop-in-config=\"\"", async () => {
    const f = join(dir, "crio.conf");
    const before = toml(f);
    expect((await ctk("runtime", "configure", "--runtime=crio", "--config", f, "--drop-in-config=", "--set-as-default")).status).toBe(0);
    const after = toml(f);
    expect(after.crio.runtime.runtimes.nvidia.runtime_path).toBe("/usr/bin/nvidia-container-runtime");
    expect(after.crio.runtime.default_runtime).toBe("nvidia");
    keeps({ ...before, crio: { ...before.crio, runtime: { ...before.crio.runtime, default_runtime: undefined } } }, after);
  });

  test("a relative --config is the working directory's file; a boolean flag takes =false", async () => {
    const cwd = process.cwd();
    process.chdir(dir);
    try {
      writeFileSync(join(dir, "rel.json"), "{}");
      const r = await ctk("runtime", "configure", "--runtime=docker", "--config", "rel.json", "--set-as-default=false", "--enable-cdi");
      expect(r.status).toBe(0);
      expect(JSON.parse(readFileSync(join(dir, "rel.json"), "utf8"))).toEqual({ runtimes: { nvidia: { args: [], path: "nvidia-container-runtime" } }, features: { cdi: true } });
    } finally {
      process.chdir(cwd);
    }
  });

  test("docker", async () => {
    const f = join(dir, "daemon.json");
    const before = JSON.parse(readFileSync(f, "utf8"));
    expect((await ctk("runtime", "configure", "--runtime=docker", "--config", f, "--nvidia-set-as-default", "--nvidia-runtime-name", "gpu", "--nvidia-runtime-path", "/opt/nvct/nvidia-container-runtime")).status).toBe(0);
    const after = JSON.parse(readFileSync(f, "utf8"));
    expect(after.runtimes.gpu).toEqual({ path: "/opt/nvct/nvidia-container-runtime", args: [] });
    expect(after["default-runtime"]).toBe("gpu");
    keeps(before, after);
  });

  test("podman: the OCI hooks.d file", async () => {
    const f = join(dir, "hooks.d", "oci-nvidia-hook.json");
    expect((await ctk("runtime", "configure", "--runtime=podman", "--config", f)).status).toBe(0);
    expect(JSON.parse(readFileSync(f, "utf8"))).toEqual({
      version: "1.0.0",
      hook: { path: "/usr/bin/nvidia-container-runtime-hook", args: ["nvidia-container-runtime-hook", "prestart"], env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] },
      when: { always: true, commands: [".*"] },
      stages: ["prestart"],
    });
  });

  test("--dry-run prints and writes nothing", async () => {
    const f = join(dir, "dry.json");
    writeFileSync(f, "{}");
    const r = await ctk("runtime", "configure", "--runtime=docker", "--config", f, "--dry-run");
    expect(JSON.parse(r.out).runtimes.nvidia.path).toBe("nvidia-container-runtime");
    expect(readFileSync(f, "utf8")).toBe("{}");
  });

  const bad: [string, string, string[], string][] = [
    ["broken TOML", "version = 2\n[plugins\n", ["--runtime=containerd", "--drop-in-config="], "invalid `F`: "],
    ["unknown containerd version", "version = 9\n", ["--runtime=containerd", "--drop-in-config="], "unsupported containerd config version 9"],
    ["daemon.json not an object", "[1, 2]", ["--runtime=docker"], "invalid `F`: not a JSON object"],
    ["a runtimes key that is not a table", "version = 2\n[plugins.\"io.containerd.grpc.v1.cri\".containerd]\nruntimes = 3\n", ["--runtime=containerd", "--drop-in-config="], "`plugins.io.containerd.grpc.v1.cri.containerd.runtimes` is not a table in the existing config"],
    ["unknown engine", "", ["--runtime=lxc"], "unrecognized runtime 'lxc'"],
    ["relative runtime path", "", ["--runtime=containerd", "--nvidia-runtime-path=nvidia"], 'the NVIDIA runtime path "nvidia" is not an absolute path'],
    ["relative drop-in", "", ["--runtime=containerd", "--drop-in-config=conf.d/x.toml"], 'the drop-in-config path "conf.d/x.toml" is not an absolute path'],
    ["a bad boolean", "", ["--runtime=docker", "--set-as-default=maybe"], 'invalid boolean value "maybe" for -set-as-default: parse error'],
    ["a boolean named like an object's property", "", ["--runtime=docker", "--set-as-default=toString"], 'invalid boolean value "toString" for -set-as-default: parse error'],
    ["an unknown flag", "", ["--runtime=docker", "--gpus"], "flag provided but not defined: -gpus"],
  ];
  test.each(bad)("%s: one logrus error line naming it, status 1, the file unchanged", async (_d, text, args, msg) => {
    const f = join(dir, `bad-${Math.random().toString(36).slice(2)}`);
    writeFileSync(f, text);
    const r = await ctk("runtime", "configure", ...args, "--config", f);
    expect(r.err).toMatch(/^time="[^"]+" level=error msg=/);
    expect(r.err.split("\n").length).toBe(2);
    expect(JSON.parse(r.err.slice(r.err.indexOf("msg=") + 4))).toContain(msg.replace("F", f));
    expect(r.out).toBe("");
    expect(r.status).toBe(1);
    expect(readFileSync(f, "utf8")).toBe(text);
    expect(readdirSync(dir).filter((n) => n.includes(".nvct-"))).toEqual([]);
  });
});

describe("TOML writer", () => {
  test("parse(stringify(x)) is x for every fixture", () => {
    for (const f of ["containerd-v1.toml", "containerd-v2.toml", "containerd-v3.toml", "crio.conf"]) {
      const t = toml(join(FIX, f));
      expect(Bun.TOML.parse(stringify(t))).toEqual(t);
    }
  });

  test("nested arrays of tables, dates, DEL, empty tables", () => {
    const text = 'd = 1979-05-27\nt = 1979-05-27T07:32:00Z\ns = "a\\u007Fb"\n[empty]\n[[a.b]]\nx = 1\n[[a.b.c]]\ny = 2\n[[a.b.c]]\ny = 3\n[a.b.d]\nz = 4\n';
    const t = Bun.TOML.parse(text) as any;
    const back = Bun.TOML.parse(stringify(t)) as any;
    expect(JSON.stringify(back)).toBe(JSON.stringify(t));
    expect(back.a.b[0].c.map((x: any) => x.y)).toEqual([2, 3]);
    expect(String(back.d)).toBe(String(t.d));
  });

  test("keys that need quotes, nested arrays, inline tables in arrays", () => {
    const t = { "a.b": { "c d": [1, 2], e: [{ f: "x" }, { f: "y", g: { h: true } }] }, s: 'q"uote\n' };
    expect(Bun.TOML.parse(stringify(t as any))).toEqual(t);
  });
});

describe("nvidia-ctk config", () => {
  test("default parses as the defaults; --set changes a key with its type; --in-place writes", async () => {
    const d = await ctk("config", "default");
    expect(parseConfig(d.out).runtime.mode).toBe("auto");
    const f = join(dir, "config.toml");
    writeFileSync(f, d.out);
    const r = await ctk("config", "--config-file", f, "--set", "nvidia-container-runtime.mode=cdi", "--set", "nvidia-container-cli.no-cgroups", "--set", 'nvidia-container-runtime.runtimes=["crun"]', "--in-place");
    expect(r.err).toBe("");
    const c = parseConfig(readFileSync(f, "utf8"));
    expect([c.runtime.mode, c.cli.noCgroups, c.runtime.runtimes]).toEqual(["cdi", true, ["crun"]]);
  });

  const lists: [string, string[], string[]][] = [
    ["a,b", ["--set", "nvidia-container-runtime.runtimes=runc,crun"], ["runc", "crun"]],
    ["a:b (the default separator)", ["--set", "nvidia-container-runtime.runtimes=runc:crun"], ["runc", "crun"]],
    ["--set-list-separator", ["--set-list-separator", ";", "--set", "nvidia-container-runtime.modes.cdi.spec-dirs=/etc/cdi;/var/run/cdi"], ["/etc/cdi", "/var/run/cdi"]],
  ];
  test.each(lists)("lists: %s", async (_d, args, want) => {
    const f = join(dir, `lists-${Math.random().toString(36).slice(2)}.toml`);
    const r = await ctk("config", "--config-file", f, ...args, "-o", f);
    expect(r.err).toBe("");
    const t = Bun.TOML.parse(readFileSync(f, "utf8")) as any;
    const key = args[args.length - 1].split("=")[0].split(".");
    let v = t;
    for (const k of key) v = v[k];
    expect(v).toEqual(want);
  });

  test("a wrong type or an unknown key is refused, the file unchanged", async () => {
    const f = join(dir, "config2.toml");
    writeFileSync(f, "");
    expect((await ctk("config", "--config-file", f, "--set", "nvidia-container-cli.root=true", "-i")).err).toContain("`nvidia-container-cli.root` must be a string");
    expect((await ctk("config", "--config-file", f, "--set", "bogus=1", "-i")).err).toContain("invalid --set option bogus=1: unknown config key `bogus`");
    expect(readFileSync(f, "utf8")).toBe("");
  });
});

describe("nvidia-ctk cdi transform root", () => {
  test("host paths move from one root to another, container paths stay", async () => {
    const f = join(dir, "spec.json");
    writeFileSync(f, JSON.stringify({ cdiVersion: "0.5.0", kind: "nvidia.com/gpu", devices: [{ name: "0", containerEdits: { deviceNodes: [{ path: "/dev/nvidia0", hostPath: "/run/nvidia/driver/dev/nvidia0" }] } }], containerEdits: { mounts: [{ hostPath: "/run/nvidia/driver/usr/bin/nvidia-smi", containerPath: "/usr/bin/nvidia-smi" }, { hostPath: "/run/nvidia/driverX/x", containerPath: "/x" }] } }));
    const r = await ctk("cdi", "transform", "root", "--from", "/run/nvidia/driver", "--to", "/", "--input", f);
    const spec = JSON.parse(r.out);
    expect(spec.containerEdits.mounts.map((m: any) => m.hostPath)).toEqual(["/usr/bin/nvidia-smi", "/run/nvidia/driverX/x"]);
    expect(spec.containerEdits.mounts[0].containerPath).toBe("/usr/bin/nvidia-smi");
    expect(spec.devices[0].containerEdits.deviceNodes[0].hostPath).toBe("/dev/nvidia0");
  });
});

// nvidia-ctk cdi generate / list, system, nvidia-cdi-hook's hooks and arguments, and the tools'
// versions and messages as scripts read them, on the fake driver.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MIG_ON_ONE } from "./fake/driver";
import { validate } from "./schema";
import { BIN, inFakeHost, scene } from "./setup";

const CTK = join(BIN, "nvidia-ctk");
const HOOK = join(BIN, "nvidia-cdi-hook");
const S = scene("ctk", { mig: MIG_ON_ONE, rich: { ...MIG_ON_ONE, imexChannels: 3, gds: true, features: true } });

function generate(args: string[], driverRoot = false, fake = "mig") {
  const r = inFakeHost(S.driver(fake), [CTK, "cdi", "generate", ...args], { driverRoot });
  return { ...r, spec: r.status === 0 && args.includes("json") ? JSON.parse(r.stdout) : null };
}

/** One logrus line at level, whose message is msg. */
const logrus = (level: string, msg: string) => new RegExp(`^time="\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ" level=${level} msg=${JSON.stringify(msg).replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\n$`);

const g0 = MIG_ON_ONE.gpus[0];
const g1 = MIG_ON_ONE.gpus[1];

describe("nvidia-ctk cdi generate", () => {
  test("a device per GPU and MIG device, by index and UUID, and all; valid against the CDI schema; the newest toolkit's hooks", () => {
    const r = generate(["--format", "json"]);
    expect(r.stderr).toBe("");
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
    expect(r.spec.cdiVersion).toBe("0.5.0");
    expect(r.spec.kind).toBe("nvidia.com/gpu");
    expect(r.spec.devices.map((d: any) => d.name)).toEqual(["0", g0.uuid, "0:0", g0.migs![0].uuid, "0:1", g0.migs![1].uuid, "1", g1.uuid, "all"]);
    expect(r.spec.devices[4].containerEdits.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidia0", "/dev/nvidia-caps/nvidia-cap21", "/dev/nvidia-caps/nvidia-cap22"]);
    const common = r.spec.containerEdits;
    expect(common.env).toEqual(["NVIDIA_CTK_LIBCUDA_DIR=/usr/lib/x86_64-linux-gnu", "NVIDIA_VISIBLE_DEVICES=void"]);
    expect(common.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools", "/dev/nvidia-modeset"]);
    expect(common.mounts).toContainEqual({ hostPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", containerPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.550.54.14", options: ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
    expect(common.mounts).toContainEqual({ hostPath: "/run/nvidia-persistenced/socket", containerPath: "/run/nvidia-persistenced/socket", options: ["nosuid", "nodev", "noexec", "rbind", "rprivate"] });
    expect(common.hooks.map((h: any) => h.args[1])).toEqual(["create-symlinks", "enable-cuda-compat", "update-ldcache", "disable-device-node-modification", "update-application-profile"]);
    expect(common.hooks[0].args).toContain("libcuda.so.1::/usr/lib/x86_64-linux-gnu/libcuda.so");
    expect(common.hooks[1].args).toEqual(["nvidia-cdi-hook", "enable-cuda-compat", "--host-driver-version=550.54.14"]);
    expect(common.hooks[2].args).toEqual(["nvidia-cdi-hook", "update-ldcache", "--folder", "/usr/lib/x86_64-linux-gnu", "--folder", "/usr/lib/i386-linux-gnu"]);
    for (const h of common.hooks) expect(h).toMatchObject({ hookName: "createContainer", path: "/usr/bin/nvidia-cdi-hook", env: ["NVIDIA_CTK_DEBUG=false"] });
  });

  test("strategies, vendor and class; --no-all-device; --device-id", () => {
    const u = generate(["--format", "json", "--device-name-strategy", "uuid", "--vendor", "example.com", "--class", "accel"]);
    expect(u.spec.kind).toBe("example.com/accel");
    expect(u.spec.devices.map((d: any) => d.name)).toEqual([g0.uuid, ...g0.migs!.map((m) => m.uuid), g1.uuid, "all"]);
    expect(u.spec.cdiVersion).toBe("0.3.0");
    const t = generate(["--format", "json", "--device-name-strategy=type-index", "--no-all-device"]);
    expect(t.spec.devices.map((d: any) => d.name)).toEqual(["gpu0", "mig0:0", "mig0:1", "gpu1"]);
    const one = generate(["--format", "json", "--device-name-strategy=index", "--device-id", "1"]);
    expect(one.spec.devices.map((d: any) => d.name)).toEqual(["1", "all"]);
    const none = generate(["--format", "json", "--device-id", "none"]);
    expect(none.spec.devices).toEqual([{ name: "none", containerEdits: { env: ["NVCT_EMPTY_DEVICE="] } }]);
  });

  test("--disable-hook, --enable-hook, --ldconfig-path", () => {
    const r = generate(["--format", "json", "--disable-hook", "enable-cuda-compat", "--disable-hook=update-application-profile", "--enable-hook", "chmod", "--ldconfig-path", "/sbin/ldconfig.real"]);
    expect(r.spec.containerEdits.hooks.map((h: any) => h.args[1])).toEqual(["create-symlinks", "update-ldcache", "disable-device-node-modification"]);
    expect(r.spec.containerEdits.hooks[1].args.slice(2, 4)).toEqual(["--ldconfig-path", "/sbin/ldconfig.real"]);
    const none = generate(["--format", "json", "--disable-hook", "all"]);
    expect(none.spec.containerEdits.hooks).toBeUndefined();
  });

  test("a driver root: host paths under it, container paths without it", () => {
    const r = generate(["--format", "json", "--driver-root", "/run/nvidia/driver"], true);
    expect(r.stderr).toBe("");
    expect(r.spec.containerEdits.mounts).toContainEqual({ hostPath: "/run/nvidia/driver/usr/bin/nvidia-smi", containerPath: "/usr/bin/nvidia-smi", options: ["ro", "nosuid", "nodev", "rbind", "rprivate"] });
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
  });

  test("--output: YAML written atomically, readable by cdi list", () => {
    const dir = S.dir("cdi");
    const out = join(dir, "nvidia.yaml");
    const r = generate(["--output", out, "--device-name-strategy", "index"]);
    expect(r.status).toBe(0);
    expect(readdirSync(dir)).toEqual(["nvidia.yaml"]);
    expect(validate(Bun.YAML.parse(readFileSync(out, "utf8")), "cdi/schema.json")).toEqual([]);
    const l = inFakeHost(S.driver(), [CTK, "cdi", "list", "--spec-dir", dir]);
    expect(l.stdout).toBe(["0", "0:0", "0:1", "1", "all"].map((n) => `nvidia.com/gpu=${n}\n`).join(""));
  });

  test("--mode management: one device `all` with every NVIDIA node but GDS's and NVSwitch's, the driver's files, no device-node hook", () => {
    const r = generate(["--format", "json", "--mode", "management"], false, "rich");
    expect(r.stderr).toBe("");
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
    expect(r.spec.kind).toBe("nvidia.com/gpu");
    expect(r.spec.devices.map((d: any) => d.name)).toEqual(["all"]);
    const nodes = r.spec.devices[0].containerEdits.deviceNodes.map((n: any) => n.path);
    expect(nodes).toContain("/dev/nvidia0");
    expect(nodes).toContain("/dev/nvidiactl");
    expect(nodes).toContain("/dev/nvidia-modeset");
    expect(nodes).toContain("/dev/nvidia-caps/nvidia-cap1");
    expect(nodes).toContain("/dev/nvidia-caps-imex-channels/channel2");
    expect(nodes.some((n: string) => n.includes("nvidia-fs") || n.includes("nvswitch") || n.includes("gdrdrv"))).toBe(false);
    const common = r.spec.containerEdits;
    expect(common.hooks.map((h: any) => h.args[1])).toEqual(["create-symlinks", "enable-cuda-compat", "update-ldcache"]);
    expect(common.mounts.map((m: any) => m.containerPath)).toContain("/usr/bin/nvidia-smi");
    expect(common.env).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]);
  });

  test("--mode imex: a device per channel and all; --device-id channel1; a channel the host lacks named", () => {
    const r = generate(["--format", "json", "--mode", "imex", "--class", "imex-channel"], false, "rich");
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
    expect(r.spec.kind).toBe("nvidia.com/imex-channel");
    expect(r.spec.devices.map((d: any) => d.name)).toEqual(["0", "1", "2", "all"]);
    expect(r.spec.devices[1].containerEdits.deviceNodes).toEqual([{ path: "/dev/nvidia-caps-imex-channels/channel1" }]);
    expect(r.spec.containerEdits).toEqual({ env: ["NVIDIA_VISIBLE_DEVICES=void"] });
    const one = generate(["--format", "json", "--mode", "imex", "--device-id", "channel1"], false, "rich");
    expect(one.spec.devices.map((d: any) => d.name)).toEqual(["1", "all"]);
    const missing = generate(["--format", "json", "--mode", "imex", "--device-id", "7"], false, "rich");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(logrus("error", "IMEX channel 7 not found at /dev/nvidia-caps-imex-channels/channel7"));
  });

  test("--mode gds, mofed, nvswitch, gdrcopy: one device `all` with the feature's nodes (GDS: and its files)", () => {
    const nodesOf = (mode: string) => generate(["--format", "json", "--mode", mode], false, "rich").spec.devices[0].containerEdits;
    const gds = nodesOf("gds");
    expect(gds.deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidia-fs0", "/dev/nvidia-fs1"]);
    expect(gds.mounts.map((m: any) => m.containerPath)).toEqual(["/etc/cufile.json", "/run/udev"]);
    expect(nodesOf("mofed").deviceNodes.map((n: any) => n.path)).toEqual(["/dev/infiniband/rdma_cm", "/dev/infiniband/uverbs0"]);
    expect(nodesOf("nvswitch").deviceNodes.map((n: any) => n.path)).toEqual(["/dev/nvidia-nvswitch0", "/dev/nvidia-nvswitchctl"]);
    expect(nodesOf("gdrcopy").deviceNodes.map((n: any) => n.path)).toEqual(["/dev/gdrdrv"]);
    const r = generate(["--format", "json", "--mode", "gds"], false, "rich");
    expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
    expect(r.spec.devices.map((d: any) => d.name)).toEqual(["all"]);
  });

  describe("--mode wsl, on a WSL2 host laid out under a driver root", () => {
    /** What WSL mounts: libdxcore.so, the Windows driver stores (one of them NVIDIA's), /dev/dxg. */
    function wslHost(): { root: string; dev: string; store: string } {
      const root = S.dir("wsl");
      const store = "/usr/lib/wsl/drivers/nv_dispi.inf_amd64_0123456789abcdef";
      const files = ["libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ptxjitcompiler.so.1", "libnvidia-ml.so.1", "libnvidia-ml_loader.so", "libnvdxgdmal.so.1", "nvcubins.bin", "nvidia-smi", "libnvwgf2umx.so", "nvapi64.dll", "nv-vk64.json"];
      for (const f of files) {
        mkdirSync(join(root, store), { recursive: true });
        writeFileSync(join(root, store, f), f);
      }
      mkdirSync(join(root, "usr/lib/wsl/drivers/iigd_dch.inf_amd64_fedcba"), { recursive: true });
      writeFileSync(join(root, "usr/lib/wsl/drivers/iigd_dch.inf_amd64_fedcba/igd.so"), "intel");
      mkdirSync(join(root, "usr/lib/wsl/lib"), { recursive: true });
      writeFileSync(join(root, "usr/lib/wsl/lib/libdxcore.so"), "dxcore");
      const dev = S.dir("wsldev");
      mkdirSync(join(dev, "dev"));
      spawnSync("mknod", [join(dev, "dev/dxg"), "c", "10", "63"]);
      return { root, dev, store };
    }

    test("one device `all` with /dev/dxg; libdxcore and the NVIDIA store's files where they are; nvidia-smi linked; the ld cache; auto picks it", () => {
      const { root, dev, store } = wslHost();
      const r = generate(["--format", "json", "--mode", "wsl", "--driver-root", root, "--dev-root", dev]);
      expect(r.stderr).toBe("");
      expect(validate(r.spec, "cdi/schema.json")).toEqual([]);
      expect(r.spec.devices).toEqual([{ name: "all", containerEdits: { deviceNodes: [{ path: "/dev/dxg", hostPath: join(dev, "dev/dxg") }] } }]);
      const mounts = r.spec.containerEdits.mounts.map((m: any) => m.containerPath);
      expect(mounts.slice(0, 9)).toEqual([...["libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ptxjitcompiler.so.1", "libnvidia-ml.so.1", "libnvidia-ml_loader.so", "libnvdxgdmal.so.1", "nvcubins.bin", "nvidia-smi"].map((f) => `${store}/${f}`), "/usr/lib/wsl/lib/libdxcore.so"]);
      expect(mounts).toContain(`${store}/libnvwgf2umx.so`);
      expect(mounts).toContain(`${store}/nvapi64.dll`);
      expect(mounts).not.toContain(`${store}/nv-vk64.json`);
      expect(mounts.some((p: string) => p.includes("iigd"))).toBe(false);
      expect(r.spec.containerEdits.mounts[0].hostPath).toBe(join(root, store, "libcuda.so.1.1"));
      expect(r.spec.containerEdits.hooks.map((h: any) => h.args.slice(1))).toEqual([
        ["create-symlinks", "--link", `${store}/nvidia-smi::/usr/bin/nvidia-smi`],
        ["update-ldcache", "--folder", store, "--folder", "/usr/lib/wsl/lib"],
      ]);
      expect(r.spec.containerEdits.env).toEqual(["NVIDIA_VISIBLE_DEVICES=void"]);
      const auto = generate(["--format", "json", "--driver-root", root, "--dev-root", dev]);
      expect(auto.spec).toEqual(r.spec);
    });

    test("no /dev/dxg, or no store with libcuda.so.1.1: an error naming what is missing", () => {
      const { root } = wslHost();
      const noDxg = generate(["--mode", "wsl", "--driver-root", root, "--dev-root", S.dir("empty")]);
      expect(noDxg.status).toBe(1);
      expect(noDxg.stderr).toMatch(logrus("error", "no `/dev/dxg`: not a WSL2 host with a GPU"));
      const { dev } = wslHost();
      const noStore = generate(["--mode", "wsl", "--driver-root", S.dir("bare"), "--dev-root", dev]);
      expect(noStore.stderr).toMatch(logrus("error", "failed to locate libcuda.so.1.1 at WSL driver store paths (/usr/lib/wsl/drivers/*)"));
    });
  });

  const bad: [string, string[], string][] = [
    ["format", ["--format", "toml"], "invalid --format `toml`: want yaml or json"],
    ["strategy", ["--device-name-strategy", "serial"], "invalid --device-name-strategy `serial`: want index, uuid or type-index"],
    ["mode", ["--mode", "warp"], "invalid --mode `warp`: want auto, nvml, csv, wsl, management, imex, gds, mofed, nvswitch, gdrcopy"],
    ["vendor", ["--vendor", "Nvidia"], "invalid --vendor `Nvidia`: want a domain such as nvidia.com"],
    ["relative driver root", ["--driver-root", "driver"], "invalid --driver-root `driver`: want an absolute path"],
    ["missing driver root", ["--driver-root", "/nonexistent"], "failed to open `/nonexistent/etc/ld.so.cache`: ENOENT"],
    ["unknown flag", ["--bogus"], "flag provided but not defined: -bogus"],
    ["a device that is not there", ["--device-id", "5"], "unknown device `5`"],
  ];
  test.each(bad)("rejects a bad %s: one logrus error line naming it, status 1, nothing written", (_d, args, msg) => {
    const dir = S.dir("bad");
    const r = generate([...args, "--output", join(dir, "x.yaml")]);
    expect(r.stderr).toMatch(logrus("error", msg));
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
    expect(readdirSync(dir)).toEqual([]);
  });
});

describe("nvidia-ctk system", () => {
  test("create-device-nodes --control-devices makes them 0666 whatever the umask; create-dev-char-symlinks links them", () => {
    const root = S.dir("devroot");
    mkdirSync(join(root, "dev"));
    const r = inFakeHost(S.driver(), ["sh", "-c", `umask 077 && ${CTK} system create-device-nodes --control-devices --dev-root ${root} && ${CTK} system create-dev-char-symlinks --dev-root ${root} && stat -c '%n %t:%T %a' ${root}/dev/nvidia* && ls -l ${root}/dev/char | awk 'NR>1 {print $9, $11}'`]);
    expect(r.stderr).toBe("");
    expect(r.stdout.split("\n").filter(Boolean).map((l) => l.replace(root, "R"))).toEqual([
      "R/dev/nvidia-modeset c3:fe 666", "R/dev/nvidia-uvm 1fe:0 666", "R/dev/nvidia-uvm-tools 1fe:1 666", "R/dev/nvidiactl c3:ff 666",
      "195:254 ../nvidia-modeset", "195:255 ../nvidiactl", "510:0 ../nvidia-uvm", "510:1 ../nvidia-uvm-tools",
    ]);
  });

  test("create-device-nodes without --control-devices says what is missing", () => {
    const r = inFakeHost(S.driver(), [CTK, "system", "create-device-nodes"]);
    expect(r.stderr).toMatch(logrus("error", "create-device-nodes: nothing to do (use --control-devices)"));
    expect(r.status).toBe(1);
  });
});

describe("nvidia-cdi-hook", () => {
  const bad: [string, string[], string][] = [
    ["link without ::", ["create-symlinks", "--link", "libcuda.so.1"], "invalid --link `libcuda.so.1`: want TARGET::/ABSOLUTE/LINK"],
    ["relative link", ["create-symlinks", "--link", "a::b"], "invalid --link `a::b`: want TARGET::/ABSOLUTE/LINK"],
    ["relative folder", ["update-ldcache", "--folder", "lib"], "invalid --folder `lib`: want an absolute container path"],
    ["bad mode", ["chmod", "--mode", "rwx", "--path", "/dev/x"], "invalid --mode `rwx`: want octal"],
    ["no path", ["chmod", "--mode", "755"], "chmod: missing --path"],
    ["unknown flag of a hook", ["chmod", "--bogus"], "flag provided but not defined: -bogus"],
  ];
  test.each(bad)("%s: one logrus error line, status 1", (_d, args, msg) => {
    const r = inFakeHost(S.driver(), [HOOK, ...args]);
    expect(r.stderr).toMatch(logrus("error", msg));
    expect(r.stdout).toBe("");
    expect(r.status).toBe(1);
  });

  test("a hook this version does not know: a warning, status 0 (a newer toolkit's spec still starts)", () => {
    const r = inFakeHost(S.driver(), [HOOK, "create-soname-symlinks", "--folder", "/usr/lib"]);
    expect(r.stderr).toMatch(logrus("warning", "Unsupported CDI hook: create-soname-symlinks"));
    expect(r.status).toBe(0);
  });

  /** A bundle directory and a hook run against it with the state on stdin. */
  function hookRun(prepare: (rootfs: string) => void) {
    const bundle = S.dir("hook-bundle");
    const rootfs = join(bundle, "rootfs");
    mkdirSync(rootfs);
    prepare(rootfs);
    writeFileSync(join(bundle, "config.json"), JSON.stringify({ root: { path: "rootfs" } }));
    const state = JSON.stringify({ pid: process.pid, bundle });
    return { rootfs, run: (...args: string[]) => spawnSync(HOOK, args, { input: state, encoding: "utf8" }) };
  }

  test("enable-cuda-compat: the image's compat directory in /etc/ld.so.conf.d when its libcuda is newer than the driver", () => {
    const newer = hookRun((r) => {
      mkdirSync(join(r, "usr/local/cuda/compat"), { recursive: true });
      writeFileSync(join(r, "usr/local/cuda/compat/libcuda.so.580.65.06"), "");
    });
    const a = newer.run("enable-cuda-compat", "--host-driver-version=550.54.14");
    expect(a.stderr).toBe("");
    expect(a.status).toBe(0);
    const confs = readdirSync(join(newer.rootfs, "etc/ld.so.conf.d"));
    expect(confs).toHaveLength(1);
    expect(confs[0]).toMatch(/^00-compat-[0-9a-f-]{36}\.conf$/);
    expect(readFileSync(join(newer.rootfs, "etc/ld.so.conf.d", confs[0]), "utf8")).toBe("/usr/local/cuda/compat\n");
    const older = hookRun((r) => {
      mkdirSync(join(r, "usr/local/cuda/compat"), { recursive: true });
      writeFileSync(join(r, "usr/local/cuda/compat/libcuda.so.535.104.05"), "");
    });
    expect(older.run("enable-cuda-compat", "--host-driver-version=550.54.14").status).toBe(0);
    expect(existsSync(join(older.rootfs, "etc/ld.so.conf.d"))).toBe(false);
  });

  test("update-ldcache --ldconfig-path is taken (nvct writes the cache itself); create-symlinks replaces what is there", () => {
    const h = hookRun((r) => {
      mkdirSync(join(r, "usr/lib"), { recursive: true });
      writeFileSync(join(r, "usr/lib/libfoo.so.1"), readFileSync("/usr/lib/x86_64-linux-gnu/libc.so.6"));
      writeFileSync(join(r, "usr/lib/libcuda.so"), "the image's file\n");
    });
    const a = h.run("update-ldcache", "--ldconfig-path", "/sbin/ldconfig", "--folder", "/usr/lib");
    expect(a.stderr).toBe("");
    expect(readFileSync(join(h.rootfs, "etc/ld.so.cache")).includes(Buffer.from("/usr/lib/libfoo.so.1"))).toBe(true);
    const b = h.run("create-symlinks", "--link", "libcuda.so.1::/usr/lib/libcuda.so");
    expect(b.stderr).toBe("");
    expect(readlinkSync(join(h.rootfs, "usr/lib/libcuda.so"))).toBe("libcuda.so.1");
    expect(readdirSync(join(h.rootfs, "usr/lib")).sort()).toEqual(["libcuda.so", "libfoo.so.1"]);
  });

  test("links and the ld cache land inside the root whatever its symlinks say", () => {
    const victim = S.dir("hook-victim");
    const h = hookRun((rootfs) => {
      mkdirSync(join(rootfs, "usr"), { recursive: true });
      symlinkSync(victim, join(rootfs, "usr/lib")); // absolute: must mean <rootfs>/<victim>
      symlinkSync(victim, join(rootfs, "etc"));
      symlinkSync("/nowhere", join(rootfs, "usr/share"));
      mkdirSync(join(rootfs, victim), { recursive: true });
    });
    const a = h.run("create-symlinks", "--link", "libcuda.so.550::/usr/lib/libcuda.so.1");
    expect(a.stderr).toBe("");
    const b = h.run("update-ldcache", "--folder", "/usr/lib");
    expect(b.stderr).toBe("");
    expect(readdirSync(victim)).toEqual([]);
    const inside = join(h.rootfs, victim);
    expect(readlinkSync(join(inside, "libcuda.so.1"))).toBe("libcuda.so.550");
    expect(lstatSync(join(inside, "ld.so.cache")).isFile()).toBe(true);
    const c = h.run("create-symlinks", "--link", "x::/usr/share/x/y");
    expect(c.stderr).toMatch(logrus("error", "`/usr/share` is a symlink that leads nowhere inside the container"));
    expect(c.status).toBe(1);
  });
});

describe("versions, names and help, as scripts read them", () => {
  const versions: [string, string[], RegExp][] = [
    ["nvidia-ctk --version", [CTK, "--version"], /^NVIDIA Container Toolkit CLI version \d+\.\d+\.\d+\ncommit: \S+\n$/],
    ["nvidia-ctk -v", [CTK, "-v"], /^NVIDIA Container Toolkit CLI version /],
    ["nvidia-cdi-hook --version", [HOOK, "--version"], /^NVIDIA CDI Hook version \d+\.\d+\.\d+\ncommit: \S+\n$/],
    ["nvidia-container-runtime-hook -version", [join(BIN, "nvidia-container-runtime-hook"), "-version"], /^NVIDIA Container Runtime Hook version \d+\.\d+\.\d+\ncommit: \S+\n$/],
    ["the hook as nvidia-container-toolkit", [join(BIN, "nvidia-container-toolkit"), "--version"], /^NVIDIA Container Runtime Hook version /],
    ["nvidia-container-cli --version", [join(BIN, "nvidia-container-cli"), "--version"], /^cli-version: \d+\.\d+\.\d+\n/],
  ];
  test.each(versions)("%s", (_d, argv, want) => {
    const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
    expect(r.stdout).toMatch(want);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });

  test("nvidia-ctk takes -d/--debug before its command; an unknown command is status 3", () => {
    expect(spawnSync(CTK, ["-d", "cdi", "list", "--spec-dir", "/nonexistent"], { encoding: "utf8" }).status).toBe(0);
    expect(spawnSync(CTK, ["--debug", "config", "default"], { encoding: "utf8" }).status).toBe(0);
    const r = spawnSync(CTK, ["frobnicate"], { encoding: "utf8" });
    expect(r.stderr).toBe("No help topic for 'frobnicate'\n");
    expect(r.status).toBe(3);
  });

  test("the hook installed as nvidia-container-toolkit runs as the hook (podman's hooks JSON calls it so)", () => {
    const r = spawnSync(join(BIN, "nvidia-container-toolkit"), ["poststart"], { encoding: "utf8" });
    expect(r.status).toBe(0);
    const bad = spawnSync(join(BIN, "nvidia-container-toolkit"), ["-frob"], { encoding: "utf8" });
    expect(bad.stderr).toStartWith("nvidia-container-runtime-hook: flag provided but not defined: -frob\n");
    expect(bad.status).toBe(2);
  });

  test("--help on every tool and command", () => {
    for (const argv of [[CTK, "--help"], [CTK, "cdi", "generate", "--help"], [CTK, "runtime", "configure", "--help"], [CTK, "config", "--help"], [CTK, "system", "--help"], [HOOK, "--help"], [HOOK, "chmod", "--help"], [join(BIN, "nvidia-container-runtime-hook"), "--help"], [join(BIN, "nvidia-container-cli"), "configure", "--help"]]) {
      const r = spawnSync(argv[0], argv.slice(1), { encoding: "utf8" });
      expect({ argv, status: r.status }).toEqual({ argv, status: 0 });
      expect(r.stdout).toContain("USAGE");
    }
  });
});

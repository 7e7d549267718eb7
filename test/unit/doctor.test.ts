// doctor's verdicts as a table: a healthy host's facts, one fact broken per row, the check that
// names it (id, status, finding); then the order for people, the exit rule, the text form, the
// CDI spec checker, the engines' config readers and the command's dispatch and help.
import { describe, expect, test } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { specDriverVersions, specProblems } from "../../src/cdi/validate";
import { renderChecks } from "../../src/cmd/doctor";
import { diagnose, forPeople, wouldStart, type Check } from "../../src/engine/doctor";
import type { EngineFacts, HostFacts } from "../../src/engine/host";
import { inspectContainerd, inspectCrio, inspectDocker, inspectPodman } from "../../src/engines/inspect";
import { recordingIo } from "../../src/io";
import { main } from "../../src/main";

const V = "550.54.14";
const node = (name: string, major: number, minor: number, mode = 0o666) => ({ path: `/dev/${name}`, present: true, char: true, major, minor, mode });
const engine = (o: Partial<EngineFacts> = {}): EngineFacts => ({ files: [], runtimes: [], installed: false, socket: { path: "/run/x.sock", state: "absent" }, found: {}, ...o });

/** A host on which a GPU container starts: every check ok. */
function healthy(): HostFacts {
  return {
    root: "/",
    driver: { text: `NVRM version: NVIDIA UNIX x86_64 Kernel Module  ${V}  Thu Feb 22 01:44:30 UTC 2024`, version: V, deviceFileMode: 0o666, gpus: [{ bus: "0000:18:00.0", minor: 0 }, { bus: "0000:19:00.0", minor: 1 }] },
    majors: { "nvidia-frontend": 195, "nvidia-uvm": 510, "nvidia-caps": 511 },
    nodes: { nvidiactl: node("nvidiactl", 195, 255), "nvidia-uvm": node("nvidia-uvm", 510, 0), "nvidia-uvm-tools": node("nvidia-uvm-tools", 510, 1), "nvidia-modeset": node("nvidia-modeset", 195, 254), nvidia0: node("nvidia0", 195, 0), nvidia1: node("nvidia1", 195, 1) },
    ldcache: {
      file: "/etc/ld.so.cache",
      libs: [
        { name: "libcuda.so.1", path: "/usr/lib/x86_64-linux-gnu/libcuda.so.1", resolved: `/usr/lib/x86_64-linux-gnu/libcuda.so.${V}` },
        { name: "libnvidia-ml.so.1", path: "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.1", resolved: `/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.${V}` },
      ],
    },
    nvml: {
      library: `/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.${V}`,
      probe: {
        driver: V,
        cuda: "12.4",
        count: 2,
        gpus: [0, 1].map((i) => ({ index: i, minor: i, uuid: `GPU-${i}`, model: "NVIDIA H100 80GB HBM3", brand: "Tesla", busId: `00000000:1${8 + i}:00.0`, arch: "9.0", migCapable: true, migEnabled: false, migs: [] })),
      },
    },
    config: { file: "/etc/nvidia-container-runtime/config.toml", present: true, unknownKeys: [], mode: "auto", hookPath: "/usr/bin/nvidia-container-runtime-hook", specDirs: ["/etc/cdi", "/var/run/cdi"], noCgroups: false },
    toolkit: { hook: "/usr/bin/nvidia-container-runtime-hook", hookOnPath: "/usr/bin/nvidia-container-runtime-hook", runtimeOnPath: "/usr/bin/nvidia-container-runtime" },
    engines: {
      docker: engine({ files: ["/etc/docker/daemon.json"], installed: true, runtimes: [{ name: "nvidia", path: "nvidia-container-runtime" }], found: { nvidia: "/usr/bin/nvidia-container-runtime" }, socket: { path: "/run/docker.sock", state: "answers" } }),
      containerd: engine({ files: ["/etc/containerd/config.toml"], installed: true, runtimes: [{ name: "runc", path: "" }, { name: "nvidia", path: "/usr/bin/nvidia-container-runtime" }], found: { runc: "/usr/sbin/runc", nvidia: "/usr/bin/nvidia-container-runtime" }, socket: { path: "/run/containerd/containerd.sock", state: "answers" } }),
      crio: engine({ socket: { path: "/run/crio/crio.sock", state: "absent" } }),
      podman: engine({ installed: true, hooks: [], cdi: true }),
    },
    cdi: { dirs: ["/etc/cdi", "/var/run/cdi"], specs: [{ file: "/etc/cdi/nvidia.yaml", problems: [], kind: "nvidia.com/gpu", devices: 5, driverVersions: [V], missing: [], hostPaths: 40 }] },
    cgroup: { version: 1, devices: "/sys/fs/cgroup/devices" },
    cache: { dir: "/run/nvct", state: "ok", entries: 6, otherBuild: 0, bad: [], index: "fresh", inventory: "matches" },
  };
}

type Row = [string, (f: HostFacts) => void, string, Check["status"], string | RegExp];

const ROWS: Row[] = [
  ["no driver", (f) => ((f.driver.text = null), (f.driver.version = null), (f.driver.gpus = [])), "driver", "fail", "the NVIDIA kernel module is not loaded: no /proc/driver/nvidia/version"],
  ["a driver without GPUs", (f) => (f.driver.gpus = []), "driver", "fail", `NVIDIA driver ${V} is loaded but has no GPU (/proc/driver/nvidia/gpus is empty)`],
  ["an unreadable version", (f) => (f.driver.version = null), "driver", "warn", /^the driver is loaded but its version cannot be read/],
  ["no nvidiactl", (f) => (f.nodes.nvidiactl = { path: "/dev/nvidiactl", present: false }), "dev.nvidiactl", "fail", "/dev/nvidiactl is missing: no GPU container can start"],
  ["nvidiactl of another major", (f) => (f.nodes.nvidiactl = node("nvidiactl", 10, 255)), "dev.nvidiactl", "fail", "/dev/nvidiactl is 10:255, the driver's is 195:255 (nvct refuses it)"],
  ["nvidiactl a file", (f) => (f.nodes.nvidiactl = { path: "/dev/nvidiactl", present: true, char: false, mode: 0o644 }), "dev.nvidiactl", "fail", "/dev/nvidiactl is not a character device"],
  ["nvidiactl 0600", (f) => (f.nodes.nvidiactl = node("nvidiactl", 195, 255, 0o600)), "dev.nvidiactl", "warn", "/dev/nvidiactl has mode 0600, the driver makes 0666: users other than root in a container cannot open it"],
  ["the driver's own mode honoured", (f) => ((f.driver.deviceFileMode = 0o660), (f.nodes.nvidiactl = node("nvidiactl", 195, 255, 0o666))), "dev.nvidiactl", "warn", /has mode 0666, the driver makes 0660/],
  ["no nvidia-uvm node", (f) => (f.nodes["nvidia-uvm"] = { path: "/dev/nvidia-uvm", present: false }), "dev.nvidia-uvm", "fail", "/dev/nvidia-uvm is missing: CUDA cannot start in a container (cuInit fails)"],
  ["nvidia-uvm not loaded", (f) => delete f.majors["nvidia-uvm"], "dev.nvidia-uvm", "fail", "nvidia-uvm is not loaded (no `nvidia-uvm` in /proc/devices): CUDA cannot start in a container"],
  ["nvidia-uvm of a stale major", (f) => (f.majors["nvidia-uvm"] = 508), "dev.nvidia-uvm", "fail", "/dev/nvidia-uvm is 510:0, the driver's is 508:0 (nvct refuses it)"],
  ["no uvm-tools", (f) => (f.nodes["nvidia-uvm-tools"] = { path: "/dev/nvidia-uvm-tools", present: false }), "dev.nvidia-uvm-tools", "warn", "/dev/nvidia-uvm-tools is missing: CUDA profilers in containers fail"],
  ["no modeset", (f) => (f.nodes["nvidia-modeset"] = { path: "/dev/nvidia-modeset", present: false }), "dev.nvidia-modeset", "skip", /only the display capability needs it/],
  ["a GPU node missing", (f) => delete f.nodes.nvidia1, "dev.gpus", "fail", "/dev/nvidia1 is missing: containers asking for that GPU fail"],
  ["a GPU node of another minor", (f) => (f.nodes.nvidia1 = node("nvidia1", 195, 7)), "dev.gpus", "fail", "/dev/nvidia1 is 195:7, the driver's is 195:1 (nvct refuses it)"],
  ["the ld cache unreadable", (f) => (f.ldcache = { file: "/etc/ld.so.cache", error: "failed to open `/etc/ld.so.cache`: ENOENT", libs: [] }), "libraries", "fail", "the ld cache cannot be read: failed to open `/etc/ld.so.cache`: ENOENT"],
  ["libcuda not in the cache", (f) => (f.ldcache.libs[0] = { name: "libcuda.so.1" }), "libraries", "fail", "libcuda.so.1 is not in the ld cache `/etc/ld.so.cache`"],
  ["libcuda dangling", (f) => (f.ldcache.libs[0].resolved = null), "libraries", "fail", "libcuda.so.1 in the ld cache is `/usr/lib/x86_64-linux-gnu/libcuda.so.1`, which does not exist"],
  ["libnvidia-ml of another version", (f) => (f.ldcache.libs[1].resolved = "/usr/lib/x86_64-linux-gnu/libnvidia-ml.so.535.104.05"), "libraries", "fail", /^libnvidia-ml\.so\.1 is libnvidia-ml\.so\.535\.104\.05, not the loaded driver's 550\.54\.14/],
  ["NVML not found", (f) => (f.nvml = { library: null }), "nvml", "skip", "libnvidia-ml.so.1 is not found through the ld cache (see `libraries`)"],
  ["NVML init fails", (f) => (f.nvml = { library: "/x", error: "nvml error: nvmlInit_v2: Driver Not Loaded" }), "nvml", "fail", "NVML does not start: nvml error: nvmlInit_v2: Driver Not Loaded"],
  ["NVML count fails", (f) => (f.nvml.probe = { driver: V, cuda: "12.4", error: "nvml error: nvmlDeviceGetCount_v2: Unknown Error", gpus: [] }), "nvml", "fail", "NVML fails: nvml error: nvmlDeviceGetCount_v2: Unknown Error"],
  ["NVML of another driver", (f) => (f.nvml.probe!.driver = "535.104.05"), "nvml", "fail", `NVML is driver 535.104.05, the kernel module is ${V}`],
  ["a GPU lost", (f) => (f.nvml.probe!.gpus[1] = { index: 1, error: "nvml error: nvmlDeviceGetHandleByIndex_v2: GPU is lost" }), "nvml", "fail", "NVML fails on GPU 1: nvml error: nvmlDeviceGetHandleByIndex_v2: GPU is lost"],
  ["NVML sees fewer GPUs than procfs", (f) => ((f.nvml.probe!.count = 1), (f.nvml.probe!.gpus = f.nvml.probe!.gpus.slice(0, 1))), "nvml", "warn", /: 1 GPU \(0: NVIDIA H100 80GB HBM3\), but \/proc\/driver\/nvidia\/gpus has 2$/],
  ["config unparsable", (f) => (f.config.error = "invalid config `/etc/nvidia-container-runtime/config.toml`: Unexpected end"), "config", "fail", "invalid config `/etc/nvidia-container-runtime/config.toml`: Unexpected end: every nvct tool refuses to run"],
  ["an unknown key", (f) => (f.config.unknownKeys = ["nvidia-container-cli.ldconfg"]), "config", "warn", "`/etc/nvidia-container-runtime/config.toml` has unknown key `nvidia-container-cli.ldconfg`: ignored, so they have no effect"],
  ["no hook, auto mode", (f) => (f.toolkit.hook = null), "toolkit", "warn", /is not an executable: the runtime's legacy mode would fail$/],
  ["no hook, legacy mode", (f) => ((f.toolkit.hook = null), (f.config.mode = "legacy")), "toolkit", "fail", /is not an executable: in legacy mode every GPU container fails to start$/],
  ["no engine answers", (f) => { for (const e of Object.values(f.engines)) e.socket.state = "absent"; }, "engine.running", "warn", "no container engine answers on its socket (podman needs none)"],
  ["a stale socket", (f) => (f.engines.docker.socket.state = "stale"), "engine.running", "ok", "running: containerd (/run/containerd/containerd.sock); nobody answers on /run/docker.sock (stale)"],
  ["docker's runtime missing", (f) => (f.engines.docker.found.nvidia = null), "engine.docker", "fail", "docker's runtime `nvidia` runs `nvidia-container-runtime`, which is not found: containers with that runtime fail to start"],
  ["docker without the runtime", (f) => ((f.engines.docker.runtimes = []), (f.engines.docker.found = {})), "engine.docker", "warn", "docker has no nvidia runtime in `/etc/docker/daemon.json`: `--runtime=nvidia` fails (`--gpus` works, through the hook on PATH); running"],
  ["docker without the runtime or the hook", (f) => ((f.engines.docker.runtimes = []), (f.toolkit.hookOnPath = null)), "engine.docker", "fail", /^docker has no nvidia runtime and nvidia-container-runtime-hook is not on PATH/],
  ["docker's default runtime undefined", (f) => (f.engines.docker.defaultRuntime = "nvidia-cdi"), "engine.docker", "fail", "docker's default-runtime `nvidia-cdi` is not among its runtimes: dockerd refuses to start"],
  ["daemon.json unparsable", (f) => (f.engines.docker.error = "invalid `/etc/docker/daemon.json`: JSON Parse error"), "engine.docker", "fail", "invalid `/etc/docker/daemon.json`: JSON Parse error: docker refuses to start with it"],
  ["containerd without the runtime", (f) => (f.engines.containerd.runtimes = [{ name: "runc", path: "" }]), "engine.containerd", "warn", /^containerd's CRI config has no nvidia runtime \(`\/etc\/containerd\/config.toml`\): pods with runtimeClassName nvidia fail/],
  ["CRI-O through the OCI hook", (f) => (f.engines.crio = engine({ installed: true, hooks: [{ file: "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json", path: "/usr/bin/nvidia-container-runtime-hook" }], found: { "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json": "/usr/bin/nvidia-container-runtime-hook" } })), "engine.crio", "ok", "GPUs through the OCI hook `/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json`; not running"],
  ["CRI-O installed, nothing", (f) => (f.engines.crio.installed = true), "engine.crio", "warn", "CRI-O has no nvidia runtime and no NVIDIA OCI hook: pods get no GPU; not running"],
  ["podman's hook missing", (f) => ((f.engines.podman.hooks = [{ file: "/etc/containers/oci/hooks.d/oci-nvidia-hook.json", path: "/opt/nvidia-container-runtime-hook" }]), (f.engines.podman.found = { "/etc/containers/oci/hooks.d/oci-nvidia-hook.json": null })), "engine.podman", "fail", /runs `\/opt\/nvidia-container-runtime-hook`, which is not an executable: podman fails every container$/],
  ["podman without CDI spec or hook", (f) => (f.cdi.specs = []), "engine.podman", "warn", /^podman has no NVIDIA CDI spec and no NVIDIA OCI hook/],
  ["no CDI spec", (f) => (f.cdi.specs = []), "cdi", "skip", /^no CDI spec in \/etc\/cdi, \/var\/run\/cdi/],
  ["no CDI spec in cdi mode", (f) => ((f.cdi.specs = []), (f.config.mode = "cdi")), "cdi", "fail", "nvidia-container-runtime.mode is cdi, but there is no CDI spec in /etc/cdi, /var/run/cdi: every GPU container fails"],
  ["a spec of another driver", (f) => (f.cdi.specs[0].driverVersions = ["535.104.05"]), "cdi", "fail", `\`/etc/cdi/nvidia.yaml\` was made for driver 535.104.05, the loaded driver is ${V}`],
  ["a spec naming missing files", (f) => (f.cdi.specs[0].missing = ["/usr/bin/nvidia-cdi-hook"]), "cdi", "fail", "`/etc/cdi/nvidia.yaml` names host paths that do not exist: /usr/bin/nvidia-cdi-hook: containers using it fail to start"],
  ["an invalid NVIDIA spec", (f) => (f.cdi.specs[0].problems = ["devices[0].name `a b` is not a valid device name"]), "cdi", "fail", "`/etc/cdi/nvidia.yaml` is not a valid CDI spec: devices[0].name `a b` is not a valid device name"],
  ["an unreadable spec of another vendor", (f) => f.cdi.specs.push({ file: "/etc/cdi/acme.yaml", error: "YAML Parse error", problems: [], devices: 0, driverVersions: [], missing: [], hostPaths: 0 }), "cdi", "warn", "`/etc/cdi/acme.yaml` cannot be read: YAML Parse error"],
  ["cgroup v2", (f) => (f.cgroup = { version: 2, devices: null }), "cgroup", "ok", /^cgroup v2 \(cgroup2 on \/sys\/fs\/cgroup\)/],
  ["cgroup v1 without devices", (f) => (f.cgroup.devices = null), "cgroup", "fail", /^cgroup v1 \(no cgroup2 on \/sys\/fs\/cgroup\) without the devices controller mounted/],
  ["cgroup v1 without devices, no-cgroups", (f) => ((f.cgroup.devices = null), (f.config.noCgroups = true)), "cgroup", "ok", /no-cgroups = true/],
  ["cache off", (f) => (f.cache = { ...f.cache, state: "off", dir: "" }), "cache", "skip", /^the decision cache is off/],
  ["cache untrusted", (f) => (f.cache = { ...f.cache, state: "untrusted", why: "mode 777: others may write it" }), "cache", "warn", "`/run/nvct` is not used: mode 777: others may write it; every container computes everything"],
  ["garbage entries", (f) => (f.cache.bad = [{ name: "plan-00", why: "no key (not written by nvct)" }, { name: "x", why: "not an entry's name (kind-hash)" }]), "cache", "warn", "`/run/nvct` holds 2 entries nvct ignores and computes again: plan-00 (no key (not written by nvct)), x (not an entry's name (kind-hash))"],
  ["cached inventory differs", (f) => ((f.cache.inventory = "differs"), (f.cache.inventoryDiff = "GPUs GPU-0 cached, NVML says GPU-0,GPU-1")), "cache", "warn", "`/run/nvct`: the cached inventory differs from NVML's: GPUs GPU-0 cached, NVML says GPU-0,GPU-1"],
  ["cache stale", (f) => ((f.cache.index = "stale"), (f.cache.changed = "/run"), (f.cache.otherBuild = 2)), "cache", "ok", "`/run/nvct`: 6 entries, 2 of another nvct build (unused); made before `/run` changed: the next container gathers the driver's facts again, its inventory NVML's"],
];

describe("doctor's verdicts", () => {
  test("a healthy host: every check ok (CRI-O, not installed, skipped), in causal order", () => {
    const checks = diagnose(healthy());
    expect(checks.filter((c) => c.status !== "ok")).toEqual([{ id: "engine.crio", status: "skip", finding: "CRI-O is not installed", fix: "" }]);
    expect(checks.map((c) => c.id)).toEqual([
      "driver", "dev.nvidiactl", "dev.nvidia-uvm", "dev.nvidia-uvm-tools", "dev.nvidia-modeset", "dev.gpus", "libraries", "nvml", "config", "toolkit",
      "engine.running", "engine.docker", "engine.containerd", "engine.crio", "engine.podman", "cdi", "cgroup", "cache",
    ]);
    expect(checks.every((c) => c.fix === "")).toBe(true);
    expect(wouldStart(checks)).toBe(true);
  });

  test.each(ROWS)("%s", (_name, mutate, id, status, finding) => {
    const f = healthy();
    mutate(f);
    const checks = diagnose(f);
    const c = checks.find((x) => x.id === id)!;
    expect(c.status).toBe(status);
    if (typeof finding === "string") expect(c.finding).toBe(finding);
    else expect(c.finding).toMatch(finding);
    if (status === "fail" || status === "warn") expect(c.fix).not.toBe("");
    // Exit status: 0 exactly when nothing failed.
    expect(wouldStart(checks)).toBe(!checks.some((x) => x.status === "fail"));
    // Every finding and fix is one line.
    for (const x of checks) expect(`${x.finding}${x.fix}`).not.toContain("\n");
  });

  test("without a driver: the driver named first, the nodes skipped, nothing else blamed on it", () => {
    const f = healthy();
    f.driver = { text: null, version: null, deviceFileMode: null, gpus: [] };
    f.nvml = { library: f.nvml.library, error: "nvml error: nvmlInit_v2: Driver Not Loaded" };
    const ordered = forPeople(diagnose(f));
    expect(ordered.filter((c) => c.status === "fail").map((c) => c.id)).toEqual(["driver", "nvml"]);
    expect(ordered[0].id).toBe("driver");
    expect(ordered.filter((c) => c.id.startsWith("dev.")).every((c) => c.status === "skip")).toBe(true);
    expect(ordered.find((c) => c.id === "nvml")!.fix).toContain("modprobe nvidia");
  });

  test("for people: failures, then warnings, then ok, then skipped, each in causal order", () => {
    const f = healthy();
    f.cache.bad = [{ name: "x", why: "y" }];
    f.config.error = "invalid config `c`: e";
    f.nodes.nvidia1 = node("nvidia1", 195, 1, 0o600);
    delete f.majors["nvidia-uvm"];
    const ordered = forPeople(diagnose(f));
    expect(ordered.map((c) => `${c.status} ${c.id}`).slice(0, 5)).toEqual(["fail dev.nvidia-uvm", "fail config", "warn dev.gpus", "warn cache", "ok driver"]);
    expect(ordered.filter((c) => c.status === "skip").map((c) => c.id)).toEqual(["dev.nvidia-uvm-tools", "engine.crio"]);
    expect(ordered.slice(-2).map((c) => c.status)).toEqual(["skip", "skip"]);
  });

  test("text: a line per check, the fix under a failure or warning, the verdict last", () => {
    const f = healthy();
    f.nodes["nvidia-uvm"] = { path: "/dev/nvidia-uvm", present: false };
    const checks = diagnose(f);
    const text = renderChecks(checks, forPeople(checks), wouldStart(checks));
    const lines = text.trimEnd().split("\n");
    expect(lines[0]).toBe("FAIL  dev.nvidia-uvm        /dev/nvidia-uvm is missing: CUDA cannot start in a container (cuInit fails)");
    expect(lines[1]).toBe("                          fix: `nvidia-ctk system create-device-nodes --control-devices` (or `nvidia-modprobe -c 0 -u`)");
    expect(lines[2]).toMatch(/^ok {4}driver {16}NVIDIA driver 550\.54\.14 loaded, 2 GPUs/);
    expect(lines.at(-1)).toBe("1 failed, 0 warnings, 16 ok, 1 skipped: a GPU container would not start");
    expect(lines.filter((l) => /^(FAIL|WARN|ok  |skip)/.test(l))).toHaveLength(checks.length);
  });
});

describe("the CDI spec checker", () => {
  const good = { cdiVersion: "0.6.0", kind: "nvidia.com/gpu", devices: [{ name: "0", containerEdits: { deviceNodes: [{ path: "/dev/nvidia0" }] } }], containerEdits: {} };
  const cases: [string, unknown, string[]][] = [
    ["a good spec", good, []],
    ["not a mapping", [1], ["the spec must be a mapping"]],
    ["no kind", { ...good, kind: undefined }, ["kind must be a string"]],
    ["a kind without a class", { ...good, kind: "nvidia.com" }, ["kind `nvidia.com` is not `vendor/class` (e.g. nvidia.com/gpu)"]],
    ["an unknown version", { ...good, cdiVersion: "9.9" }, ["cdiVersion `9.9` is not a CDI version (1.1.0 is the newest)"]],
    ["a bad device name", { ...good, devices: [{ name: "gpu 0", containerEdits: {} }] }, ["devices[0].name `gpu 0` is not a valid device name"]],
    ["no containerEdits", { ...good, devices: [{ name: "gpu0" }] }, ["devices[0].containerEdits is missing"]],
    ["a device twice", { ...good, devices: [good.devices[0], good.devices[0]] }, ["devices[1]: device `0` defined twice"]],
    ["a relative container path", { ...good, containerEdits: { mounts: [{ hostPath: "/a", containerPath: "a" }] } }, ["containerEdits.mounts[0].containerPath `a` is not absolute"]],
  ];
  test.each(cases)("%s", (_n, spec, problems) => expect(specProblems(spec)).toEqual(problems));

  test("the driver version a spec was made for: libraries, firmware and hook links; not the EGL platform libraries' own versions", () => {
    const spec = {
      containerEdits: {
        mounts: [
          { hostPath: "/usr/lib/x86_64-linux-gnu/libcuda.so.535.104.05", containerPath: "/x" },
          { hostPath: "/usr/lib/x86_64-linux-gnu/libnvidia-egl-gbm.so.1.1.1", containerPath: "/y" },
          { hostPath: "/lib/firmware/nvidia/535.104.05/gsp_ga10x.bin", containerPath: "/z" },
        ],
        hooks: [{ hookName: "createContainer", path: "/usr/bin/nvidia-cdi-hook", args: ["nvidia-cdi-hook", "create-symlinks", "--link", "libnvidia-ml.so.535.104.06::/usr/lib/libnvidia-ml.so"] }],
      },
    };
    expect(specDriverVersions(spec)).toEqual(["535.104.05", "535.104.06"]);
  });

  test("a spec of the wrong shapes reads as naming nothing, without throwing", () => {
    for (const raw of [null, 5, "x", { containerEdits: { mounts: 5, hooks: "x", deviceNodes: [null] }, devices: 3 }, { devices: [null, { containerEdits: { hooks: [{ args: 7 }] } }] }]) {
      expect(specDriverVersions(raw)).toEqual([]);
      expect(specProblems(raw).length).toBeGreaterThan(0);
    }
  });
});

describe("the engines' configs read back", () => {
  const dir = mkdtempSync(join(tmpdir(), "nvct-doctor-unit-"));
  const file = (p: string, text: string) => {
    mkdirSync(join(dir, p, ".."), { recursive: true });
    writeFileSync(join(dir, p), text);
    return join(dir, p);
  };

  test("docker: runtimes with their paths, the default, CDI; an unparsable file named", () => {
    const f = file("docker/daemon.json", JSON.stringify({ runtimes: { nvidia: { path: "nvidia-container-runtime", args: [] }, crun: { path: "/usr/bin/crun" } }, "default-runtime": "nvidia", features: { cdi: true } }));
    expect(inspectDocker(f)).toEqual({ files: [f], runtimes: [{ name: "nvidia", path: "nvidia-container-runtime" }, { name: "crun", path: "/usr/bin/crun" }], defaultRuntime: "nvidia", cdi: true });
    const bad = file("docker/bad.json", "{");
    expect(inspectDocker(bad).error).toStartWith(`invalid \`${bad}\`: `);
    expect(inspectDocker(join(dir, "none.json"))).toEqual({ files: [], runtimes: [] });
  });

  test("containerd: the CRI plugin of the config's version, with its imported drop-ins merged", () => {
    const dropIn = file("containerd/conf.d/99-nvidia.toml", 'version = 2\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.nvidia.options]\nBinaryName = "/usr/bin/nvidia-container-runtime"\n[plugins."io.containerd.grpc.v1.cri"]\nenable_cdi = true\n');
    const main = file("containerd/config.toml", `version = 2\nimports = ["${join(dir, "containerd/conf.d")}/*.toml"]\n[plugins."io.containerd.grpc.v1.cri".containerd]\ndefault_runtime_name = "runc"\n[plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]\nruntime_type = "io.containerd.runc.v2"\n`);
    expect(inspectContainerd(main)).toEqual({ files: [main, dropIn], runtimes: [{ name: "runc", path: "" }, { name: "nvidia", path: "/usr/bin/nvidia-container-runtime" }], defaultRuntime: "runc", cdi: true });
    const v1 = file("containerd/v1.toml", '[plugins.cri.containerd.runtimes.nvidia.options]\nBinaryName = "/opt/nvidia-container-runtime"\n');
    expect(inspectContainerd(v1).runtimes).toEqual([{ name: "nvidia", path: "/opt/nvidia-container-runtime" }]);
    expect(inspectContainerd(file("containerd/v9.toml", "version = 9\n")).error).toBe("unsupported containerd config version 9");
  });

  test("CRI-O: crio.conf and its drop-ins in order; podman: the hooks that run the NVIDIA hook, /etc masking /usr/share", () => {
    const main = file("crio/crio.conf", '[crio.runtime]\ndefault_runtime = "runc"\n[crio.runtime.runtimes.runc]\nruntime_path = ""\n');
    const d = file("crio/crio.conf.d/99-nvidia.toml", '[crio.runtime]\ndefault_runtime = "nvidia"\n[crio.runtime.runtimes.nvidia]\nruntime_path = "/usr/bin/nvidia-container-runtime"\n');
    const c = inspectCrio(main);
    expect(c.files).toEqual([main, d]);
    expect(c.runtimes).toEqual([{ name: "runc", path: "" }, { name: "nvidia", path: "/usr/bin/nvidia-container-runtime" }]);
    expect(c.defaultRuntime).toBe("nvidia");
    const hook = (path: string) => JSON.stringify({ version: "1.0.0", hook: { path, args: [] }, when: { always: true }, stages: ["prestart"] });
    file("usr-hooks/oci-nvidia-hook.json", hook("/usr/bin/nvidia-container-runtime-hook"));
    file("usr-hooks/other.json", hook("/usr/bin/other-hook"));
    const masked = file("etc-hooks/oci-nvidia-hook.json", hook("/usr/local/bin/nvidia-container-toolkit"));
    expect(inspectPodman([join(dir, "usr-hooks"), join(dir, "etc-hooks")])).toEqual({ files: [masked], runtimes: [], hooks: [{ file: masked, path: "/usr/local/bin/nvidia-container-toolkit" }], cdi: true });
    rmSync(dir, { recursive: true, force: true });
  });
});

describe("doctor's command", () => {
  test("`nvct doctor --help` and `nvidia-ctk doctor --help`; a bad option is a usage error", async () => {
    for (const argv of [["nvct", "doctor", "--help"], ["nvidia-ctk", "doctor", "--help"]]) {
      const io = recordingIo();
      expect(await main(argv, {}, io)).toBe(0);
      expect(io.out).toContain("--json");
      expect(io.out).toContain("--config");
    }
    const io = recordingIo();
    expect(await main(["nvct", "doctor", "--frob"], {}, io)).toBe(2);
    expect(io.err).toBe("nvct doctor: flag provided but not defined: -frob\n");
    const help = recordingIo();
    await main(["nvct", "--help"], {}, help);
    expect(help.out).toContain("doctor");
  });
});

// `nvct doctor` on fake hosts broken one way each: every break is named by its check id and
// finding, with exit 1 where a GPU container would not start; a healthy host exits 0. Each case
// is one writable fake host (scripts/fakehost.sh --writable: /etc, /usr, /var and /run vanish
// after), a bash prelude that breaks it, then doctor; no container is run.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { withGpus } from "../fake/driver";
import { FAKEHOST, NVCT, scene, TOP } from "../setup";

const S = scene("e2e-doctor", { two: withGpus(2) });
const BUN = join(TOP, "node_modules/.bin/bun");
const LIB = "/usr/lib/x86_64-linux-gnu";

/**
 * Every case starts from this host: nvct's tools installed in /usr/bin as its package links
 * them, and no engine config, CDI spec or config.toml but what the case writes (the machine's
 * own are hidden, so that the cases do not depend on it).
 */
const BASE = `set -e
rm -rf /etc/docker /etc/containerd /etc/crio /etc/cdi /var/run/cdi /etc/containers/oci/hooks.d /usr/share/containers/oci/hooks.d /etc/nvidia-container-runtime
for t in nvidia-container-runtime nvidia-container-runtime-hook nvidia-ctk nvidia-cdi-hook; do ln -sf ${NVCT} /usr/bin/$t; done
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
`;

/** A daemon answering on a socket (docker's): started first, so that /run is as the cache saw it. */
const LISTEN = (sock: string) => `${BUN} -e 'Bun.listen({ unix: "${sock}", socket: { data() {} } }); setTimeout(() => {}, 30000)' & LISTENER=$!
for i in $(seq 200); do [ -S ${sock} ] && break; sleep 0.02; done
`;

/** The decision cache filled as a container fills it: the runtime's create in jit-cdi mode, runc replaced by true. */
const FILL_CACHE = `b=$(mktemp -d /var/lib/nvct-doctor-bundle.XXXXXX); mkdir $b/rootfs
echo '{"ociVersion":"1.0.2","process":{"env":["NVIDIA_VISIBLE_DEVICES=all"],"args":["sh"],"cwd":"/"},"root":{"path":"rootfs"}}' > $b/config.json
printf '[nvidia-container-runtime]\\nruntimes = ["/bin/true"]\\n' > $b/rt.toml
NVIDIA_CTK_CONFIG_FILE_PATH=$b/rt.toml nvidia-container-runtime --bundle $b create nvct-doctor
# The first container makes /run/nvct after taking the driver's fingerprint, which holds /run: the second's is the one that stays.
NVIDIA_CTK_CONFIG_FILE_PATH=$b/rt.toml nvidia-container-runtime --bundle $b create nvct-doctor
rm -rf $b
`;

/** Every engine configured for nvct, a CDI spec, docker answering, the cache filled. */
const HEALTHY = `${LISTEN("/run/docker.sock")}
nvidia-ctk runtime configure --runtime=docker 2>/dev/null
nvidia-ctk runtime configure --runtime=containerd 2>/dev/null
nvidia-ctk runtime configure --runtime=crio 2>/dev/null
nvidia-ctk cdi generate --output /etc/cdi/nvidia.yaml
${FILL_CACHE}`;

interface Check {
  id: string;
  status: "ok" | "warn" | "fail" | "skip";
  finding: string;
  fix: string;
}

interface Doctor {
  status: number;
  stdout: string;
  stderr: string;
  checks: Check[];
  check(id: string): Check;
}

function doctor(prelude: string, o: { args?: string[]; cgroup2?: boolean; tool?: string } = {}): Doctor {
  const args = o.args ?? ["--json"];
  const tool = o.tool ?? `${NVCT} doctor`;
  const script = `${BASE}${prelude}\nset +e\n${tool} ${args.join(" ")}; rc=$?\n[ -z "\${LISTENER:-}" ] || kill $LISTENER\nexit $rc\n`;
  const r = spawnSync(FAKEHOST, ["--writable", ...(o.cgroup2 ? ["--cgroup2"] : []), S.driver(), "--", "bash", "-c", script], { encoding: "utf8", timeout: 60_000 });
  const checks: Check[] = args.includes("--json") && r.status !== null && r.stdout.startsWith("[") ? JSON.parse(r.stdout) : [];
  return {
    status: r.status ?? -1,
    stdout: r.stdout,
    stderr: r.stderr,
    checks,
    check(id) {
      const c = checks.find((x) => x.id === id);
      if (!c) throw new Error(`no check \`${id}\` in ${r.stdout}${r.stderr}`);
      return c;
    },
  };
}

/** Exactly the checks named are not ok (or skip), with these statuses. */
function onlyBroken(d: Doctor, broken: Record<string, Check["status"]>) {
  const got = Object.fromEntries(d.checks.filter((c) => c.status === "fail" || c.status === "warn").map((c) => [c.id, c.status]));
  expect(got).toEqual(broken);
}

describe("doctor on a healthy fake host", () => {
  test("every check ok: driver, nodes, libraries, NVML, config, engines, CDI, cgroup, a fresh cache; exit 0", () => {
    const d = doctor(HEALTHY);
    expect(d.stderr).toBe("");
    expect(d.status).toBe(0);
    expect(d.checks.filter((c) => c.status !== "ok")).toEqual([]);
    expect(d.check("driver").finding).toBe("NVIDIA driver 550.54.14 loaded, 2 GPUs in /proc/driver/nvidia/gpus");
    expect(d.check("dev.nvidia-uvm").finding).toBe("/dev/nvidia-uvm 510:0 0666");
    expect(d.check("dev.gpus").finding).toBe("/dev/nvidia0 .. /dev/nvidia1: 195:N 0666");
    expect(d.check("libraries").finding).toBe(`libcuda.so.1 and libnvidia-ml.so.1 are 550.54.14 (${LIB})`);
    expect(d.check("nvml").finding).toBe("NVML 550.54.14 (CUDA 12.4): 2 GPUs (0: NVIDIA H100 80GB HBM3; 1: NVIDIA H100 80GB HBM3)");
    expect(d.check("engine.running").finding).toBe("running: docker (/run/docker.sock)");
    expect(d.check("engine.docker").finding).toBe("runtime `nvidia` -> /usr/bin/nvidia-container-runtime; running");
    expect(d.check("engine.containerd").finding).toBe("runtime `nvidia` -> /usr/bin/nvidia-container-runtime; not running");
    expect(d.check("cdi").finding).toMatch(/^`\/etc\/cdi\/nvidia\.yaml`: nvidia\.com\/gpu, \d+ devices, driver 550\.54\.14$/);
    expect(d.check("cache").finding).toMatch(/^`\/run\/nvct`: \d+ entries; fresh for this driver, its inventory NVML's$/);
    expect(d.checks.map((c) => c.id)).toEqual([
      "driver", "dev.nvidiactl", "dev.nvidia-uvm", "dev.nvidia-uvm-tools", "dev.nvidia-modeset", "dev.gpus", "libraries", "nvml", "config", "toolkit",
      "engine.running", "engine.docker", "engine.containerd", "engine.crio", "engine.podman", "cdi", "cgroup", "cache",
    ]);
  });

  test("text for people: one line per check and a verdict; nvidia-ctk doctor is the same command", () => {
    const d = doctor("", { args: [] });
    expect(d.status).toBe(0);
    const lines = d.stdout.trimEnd().split("\n");
    // Nothing failed: warnings (no engine answers, docker without the nvidia runtime) first.
    expect(lines[0]).toMatch(/^WARN {2}engine\.running +no container engine answers on its socket/);
    expect(lines[1]).toMatch(/^ +fix: start the engine you use/);
    expect(lines).toContain("ok    driver                NVIDIA driver 550.54.14 loaded, 2 GPUs in /proc/driver/nvidia/gpus");
    expect(lines.at(-1)).toMatch(/^0 failed, \d+ warnings, \d+ ok, \d+ skipped: a GPU container would start$/);
    const ctk = doctor("", { tool: "nvidia-ctk doctor" });
    expect(ctk.status).toBe(0);
    expect(ctk.checks.map((c) => c.id)).toContain("nvml");
  });

  test("cgroup v2: the runtime's hierarchy as runc decides it", () => {
    const d = doctor("", { cgroup2: true });
    expect(d.check("cgroup")).toEqual({ id: "cgroup", status: "ok", finding: "cgroup v2 (cgroup2 on /sys/fs/cgroup): GPUs allowed through the container's eBPF device program", fix: "" });
  });
});

describe("doctor names each break", () => {
  test("NVML init failing: NVML's own error string, exit 1", () => {
    const d = doctor(`echo "fail nvmlInit_v2 9" >> ${LIB}/fake-nvml.conf`);
    expect(d.status).toBe(1);
    expect(d.check("nvml")).toMatchObject({ status: "fail", finding: "NVML does not start: nvml error: nvmlInit_v2: Driver Not Loaded" });
    expect(d.check("nvml").fix).toContain("modprobe nvidia");
  });

  test("one GPU lost to NVML: that GPU named", () => {
    const d = doctor(`echo "fail nvmlDeviceGetHandleByIndex_v2 15" >> ${LIB}/fake-nvml.conf`);
    expect(d.status).toBe(1);
    expect(d.check("nvml").finding).toBe("NVML fails on GPU 0: nvml error: nvmlDeviceGetHandleByIndex_v2: GPU is lost; GPU 1: nvml error: nvmlDeviceGetHandleByIndex_v2: GPU is lost");
  });

  test("the driver not loaded: named first, the checks that need it skipped", () => {
    const d = doctor("umount /proc/driver", { args: [] });
    expect(d.status).toBe(1);
    const lines = d.stdout.split("\n");
    expect(lines[0]).toBe("FAIL  driver                the NVIDIA kernel module is not loaded: no /proc/driver/nvidia/version");
    expect(lines[1]).toContain("fix: load it: `modprobe nvidia`");
    expect(lines).toContain("skip  dev.nvidiactl         no driver loaded (see `driver`)");
    expect(lines.filter((l) => l.startsWith("FAIL"))).toEqual([lines[0]]);
  });

  test("a missing /dev/nvidia-uvm: exit 1", () => {
    const d = doctor("rm /dev/nvidia-uvm");
    expect(d.status).toBe(1);
    onlyBroken(d, { "dev.nvidia-uvm": "fail", "engine.running": "warn", "engine.docker": "warn", "engine.containerd": "warn", "engine.podman": "warn" });
    expect(d.check("dev.nvidia-uvm").finding).toBe("/dev/nvidia-uvm is missing: CUDA cannot start in a container (cuInit fails)");
    expect(d.check("dev.nvidia-uvm").fix).toContain("nvidia-ctk system create-device-nodes --control-devices");
  });

  test("nvidia-uvm not loaded (not in /proc/devices)", () => {
    const d = doctor("grep -v nvidia-uvm /proc/devices > /run/devices; mount --bind /run/devices /proc/devices");
    expect(d.status).toBe(1);
    expect(d.check("dev.nvidia-uvm").finding).toBe("nvidia-uvm is not loaded (no `nvidia-uvm` in /proc/devices): CUDA cannot start in a container");
    expect(d.check("dev.nvidia-uvm-tools").status).toBe("skip");
  });

  test("a node with the wrong major, and a GPU node missing", () => {
    const d = doctor("rm /dev/nvidiactl /dev/nvidia1; mknod -m 666 /dev/nvidiactl c 10 255");
    expect(d.status).toBe(1);
    expect(d.check("dev.nvidiactl")).toMatchObject({ status: "fail", finding: "/dev/nvidiactl is 10:255, the driver's is 195:255 (nvct refuses it)" });
    expect(d.check("dev.gpus")).toMatchObject({ status: "fail", finding: "/dev/nvidia1 is missing: containers asking for that GPU fail" });
  });

  test("a node of the wrong mode: a warning, exit 0", () => {
    const d = doctor("chmod 600 /dev/nvidia0");
    expect(d.status).toBe(0);
    expect(d.check("dev.gpus")).toMatchObject({ status: "warn", finding: "/dev/nvidia0 has mode 0600, the driver makes 0666: users other than root in a container cannot open it", fix: "`chmod 0666 /dev/nvidia[0-9]*`" });
  });

  test("a library of another version through the ld cache", () => {
    const d = doctor(`cd ${LIB} && mv libcuda.so.550.54.14 libcuda.so.535.104.05 && ln -sfn libcuda.so.535.104.05 libcuda.so.1 && cd /`);
    expect(d.status).toBe(1);
    expect(d.check("libraries")).toMatchObject({
      status: "fail",
      finding: "libcuda.so.1 is libcuda.so.535.104.05, not the loaded driver's 550.54.14: nvct mounts only the driver's version, so containers get no libcuda",
    });
  });

  test("libnvidia-ml missing from the ld cache: libraries fail, NVML skipped; its link gone: the cache's entry dangles", () => {
    const d = doctor(`rm ${LIB}/libnvidia-ml.so.* && ldconfig -X -C /run/ld.so.cache /usr/lib/i386-linux-gnu && mount --bind /run/ld.so.cache /etc/ld.so.cache`);
    expect(d.status).toBe(1);
    expect(d.check("libraries").finding).toBe("libnvidia-ml.so.1 is not in the ld cache `/etc/ld.so.cache`");
    expect(d.check("nvml")).toMatchObject({ status: "skip", finding: "libnvidia-ml.so.1 is not found through the ld cache (see `libraries`)" });
    const link = doctor(`rm ${LIB}/libcuda.so.1`);
    expect(link.status).toBe(1);
    expect(link.check("libraries")).toMatchObject({ status: "fail", finding: "libcuda.so.1 in the ld cache is `/lib/x86_64-linux-gnu/libcuda.so.1`, which does not exist", fix: "run `ldconfig` (the cache is older than the libraries)" });
  });

  test("an unparsable config.toml: exit 1; an unknown key: named, a warning", () => {
    const bad = doctor("mkdir -p /etc/nvidia-container-runtime; echo 'mode = [' > /etc/nvidia-container-runtime/config.toml");
    expect(bad.status).toBe(1);
    expect(bad.check("config").status).toBe("fail");
    expect(bad.check("config").finding).toStartWith("invalid config `/etc/nvidia-container-runtime/config.toml`: ");
    const unknown = doctor("mkdir -p /etc/nvidia-container-runtime; printf 'disable-requires = true\\n[nvidia-container-cli]\\nldconfg = \"@/sbin/ldconfig\"\\n' > /etc/nvidia-container-runtime/config.toml");
    expect(unknown.status).toBe(0);
    expect(unknown.check("config")).toMatchObject({
      status: "warn",
      finding: "`/etc/nvidia-container-runtime/config.toml` has unknown keys `disable-requires`, `nvidia-container-cli.ldconfg`: ignored, so they have no effect",
    });
  });

  test("docker's daemon.json without the nvidia runtime: a warning while the hook is on PATH, a failure when not", () => {
    const json = `mkdir -p /etc/docker; echo '{"log-level": "warn"}' > /etc/docker/daemon.json\n`;
    const d = doctor(json);
    expect(d.status).toBe(0);
    expect(d.check("engine.docker")).toMatchObject({ status: "warn", finding: "docker has no nvidia runtime in `/etc/docker/daemon.json`: `--runtime=nvidia` fails (`--gpus` works, through the hook on PATH); not running" });
    const noHook = doctor(`${json}rm /usr/bin/nvidia-container-runtime-hook`);
    expect(noHook.status).toBe(1);
    expect(noHook.check("engine.docker")).toMatchObject({ status: "fail", finding: "docker has no nvidia runtime and nvidia-container-runtime-hook is not on PATH: `docker run --gpus` fails (could not select device driver)" });
    expect(noHook.check("toolkit").status).toBe("warn");
  });

  test("an engine's nvidia runtime pointing at a missing binary; an unparsable daemon.json", () => {
    const d = doctor(`mkdir -p /etc/docker; echo '{"runtimes": {"nvidia": {"path": "/opt/nvidia/nvidia-container-runtime", "args": []}}}' > /etc/docker/daemon.json`);
    expect(d.status).toBe(1);
    expect(d.check("engine.docker").finding).toBe("docker's runtime `nvidia` runs `/opt/nvidia/nvidia-container-runtime`, which is not found: containers with that runtime fail to start");
    const c = doctor("nvidia-ctk runtime configure --runtime=containerd --nvidia-runtime-path=/opt/nvct/nvidia-container-runtime 2>/dev/null");
    expect(c.status).toBe(1);
    expect(c.check("engine.containerd").finding).toBe("containerd's runtime `nvidia` runs `/opt/nvct/nvidia-container-runtime`, which is not found: containers with that runtime fail to start");
    const j = doctor(`mkdir -p /etc/docker; echo '{"runtimes": ' > /etc/docker/daemon.json`);
    expect(j.status).toBe(1);
    expect(j.check("engine.docker").finding).toStartWith("invalid `/etc/docker/daemon.json`: ");
    expect(j.check("engine.docker").finding).toEndWith(": docker refuses to start with it");
  });

  test("a CDI spec made for another driver version, and one that is not a valid spec", () => {
    const d = doctor("nvidia-ctk cdi generate --output /etc/cdi/nvidia.yaml && sed -i 's/550\\.54\\.14/535.104.05/g' /etc/cdi/nvidia.yaml");
    expect(d.status).toBe(1);
    expect(d.check("cdi")).toMatchObject({ status: "fail", finding: "`/etc/cdi/nvidia.yaml` was made for driver 535.104.05, the loaded driver is 550.54.14", fix: "regenerate it: `nvidia-ctk cdi generate --output /etc/cdi/nvidia.yaml`" });
    const bad = doctor("mkdir -p /etc/cdi; printf 'cdiVersion: 0.5.0\\nkind: nvidia.com\\ndevices:\\n- name: gpu0\\n  containerEdits: {}\\n' > /etc/cdi/nvidia.yaml");
    expect(bad.status).toBe(1);
    expect(bad.check("cdi").finding).toBe("`/etc/cdi/nvidia.yaml` is not a valid CDI spec: kind `nvidia.com` is not `vendor/class` (e.g. nvidia.com/gpu)");
  });

  test("cgroup v1 without the devices controller", () => {
    const d = doctor("umount /sys/fs/cgroup/devices");
    expect(d.status).toBe(1);
    expect(d.check("cgroup").finding).toBe("cgroup v1 (no cgroup2 on /sys/fs/cgroup) without the devices controller mounted: the hook cannot allow the GPUs' nodes");
  });

  test("a garbage cache entry: named, a warning (nvct computes again); a driver change: the cache made before it", () => {
    const d = doctor(`${FILL_CACHE}echo garbage > /run/nvct/plan-0123456789abcdef`);
    expect(d.status).toBe(0);
    expect(d.check("cache")).toMatchObject({
      status: "warn",
      finding: "`/run/nvct` holds 1 entry nvct ignores and computes again: plan-0123456789abcdef (no key (not written by nvct))",
      fix: "remove it: `rm /run/nvct/plan-0123456789abcdef`",
    });
    const changed = doctor(`${FILL_CACHE}touch ${LIB}/libnvidia-new.so.550.54.14`);
    expect(changed.check("cache").status).toBe("ok");
    expect(changed.check("cache").finding).toEndWith(`made before \`/lib/x86_64-linux-gnu\` changed: the next container gathers the driver's facts again, its inventory NVML's`);
  });
});

// `doctor`'s verdicts: a pure function from the host's facts (src/engine/host.ts) to a list of
// checks, each with a stable id, a status, one line of finding and one line of fix. The checks
// come in causal order (the driver, its nodes, its libraries, NVML, then nvct's config, the
// engines, CDI, the cgroup, the cache), so that among failures the first is the most likely
// cause of the rest. No I/O here: the unit tests drive it with tables of facts.
//
// TypeScript, not the WebAssembly core: these verdicts are mostly English over a wide record of
// optional facts, off every container's path, with no untrusted input to contain. In the core
// they would add a dozen record types to the WIT contract and to the module that every hook that
// misses the cache compiles before its first call, for no decision a container's start depends on.
import type { EngineFacts, HostFacts, NodeStat, SpecFacts } from "./host";

export type Status = "ok" | "warn" | "fail" | "skip";

export interface Check {
  /** Stable: tools key on it (`driver`, `dev.nvidia-uvm`, `engine.docker`, ...). */
  id: string;
  status: Status;
  /** What doctor found, one line. */
  finding: string;
  /** What to do about it, one line ("" when nothing). */
  fix: string;
}

const NVIDIA_MAJOR = 195;
const oct = (m: number) => `0${(m & 0o777).toString(8)}`;
const q = (s: string) => `\`${s}\``;
const ok = (id: string, finding: string): Check => ({ id, status: "ok", finding, fix: "" });
const skip = (id: string, finding: string, fix = ""): Check => ({ id, status: "skip", finding, fix });
const warn = (id: string, finding: string, fix: string): Check => ({ id, status: "warn", finding, fix });
const fail = (id: string, finding: string, fix: string): Check => ({ id, status: "fail", finding, fix });
/** The first problems of a list, and how many more. */
const firsts = (xs: string[], n = 2) => xs.slice(0, n).join("; ") + (xs.length > n ? ` (and ${xs.length - n} more)` : "");
const base = (p: string) => p.slice(p.lastIndexOf("/") + 1);

function driverCheck(f: HostFacts): Check {
  const d = f.driver;
  if (d.text === null) {
    return fail("driver", "the NVIDIA kernel module is not loaded: no /proc/driver/nvidia/version", "load it: `modprobe nvidia` (install the driver if there is none; `dmesg | grep -i nvrm` says why it did not load)");
  }
  if (d.version === null) return warn("driver", `the driver is loaded but its version cannot be read from /proc/driver/nvidia/version: ${q(d.text)}`, "check the driver's installation (`nvidia-smi`)");
  if (d.gpus.length === 0) {
    return fail("driver", `NVIDIA driver ${d.version} is loaded but has no GPU (/proc/driver/nvidia/gpus is empty)`, "check that the GPU is on the bus (`lspci -d 10de:`) and not excluded; `dmesg | grep -i nvrm`");
  }
  return ok("driver", `NVIDIA driver ${d.version} loaded, ${d.gpus.length} GPU${d.gpus.length > 1 ? "s" : ""} in /proc/driver/nvidia/gpus`);
}

interface NodeWant {
  major: number;
  minor: number;
  /** The mode the driver gives its nodes (params' DeviceFileMode, 0666 by default). */
  mode: number;
}

/** The problem with a node, or null; `missing` says how bad its absence is. */
function nodeProblem(n: NodeStat, want: NodeWant): { status: "fail" | "warn"; what: string; fix: string } | null {
  if (!n.present) return { status: "fail", what: `${n.path} is missing`, fix: "" };
  if (!n.char) return { status: "fail", what: `${n.path} is not a character device`, fix: `remove it: \`rm ${n.path}\`` };
  if (n.major !== want.major || n.minor !== want.minor) {
    return { status: "fail", what: `${n.path} is ${n.major}:${n.minor}, the driver's is ${want.major}:${want.minor} (nvct refuses it)`, fix: `\`rm ${n.path}\`, then make it again` };
  }
  if (((n.mode ?? 0) & 0o777) !== (want.mode & 0o777)) {
    return { status: "warn", what: `${n.path} has mode ${oct(n.mode ?? 0)}, the driver makes ${oct(want.mode)}: users other than root in a container cannot open it`, fix: `\`chmod ${oct(want.mode)} ${n.path}\`` };
  }
  return null;
}

function nodeChecks(f: HostFacts): Check[] {
  const mode = f.driver.deviceFileMode ?? 0o666;
  const uvm = f.majors["nvidia-uvm"];
  const make = "`nvidia-ctk system create-device-nodes --control-devices` (or `nvidia-modprobe -c 0 -u`)";
  if (f.driver.text === null) return ["dev.nvidiactl", "dev.nvidia-uvm", "dev.nvidia-uvm-tools", "dev.nvidia-modeset", "dev.gpus"].map((id) => skip(id, "no driver loaded (see `driver`)"));
  const control = (id: string, name: string, want: NodeWant | null, missing: "fail" | "warn" | "skip", why: string): Check => {
    const n = f.nodes[name] ?? { path: `/dev/${name}`, present: false };
    if (want === null) return fail(id, "nvidia-uvm is not loaded (no `nvidia-uvm` in /proc/devices): CUDA cannot start in a container", "`modprobe nvidia-uvm` (or `nvidia-modprobe -u -c 0`)");
    const p = nodeProblem(n, want);
    if (p === null) return ok(id, `${n.path} ${n.major}:${n.minor} ${oct(n.mode ?? 0)}`);
    if (!n.present) {
      const finding = `${n.path} is missing: ${why}`;
      return missing === "skip" ? skip(id, finding, make) : { id, status: missing, finding, fix: make };
    }
    return { id, status: p.status, finding: p.what, fix: p.fix.endsWith("again") ? `${p.fix}: ${make}` : p.fix };
  };
  const out = [
    control("dev.nvidiactl", "nvidiactl", { major: NVIDIA_MAJOR, minor: 255, mode }, "fail", "no GPU container can start"),
    control("dev.nvidia-uvm", "nvidia-uvm", uvm === undefined ? null : { major: uvm, minor: 0, mode }, "fail", "CUDA cannot start in a container (cuInit fails)"),
    uvm === undefined ? skip("dev.nvidia-uvm-tools", "nvidia-uvm is not loaded (see `dev.nvidia-uvm`)") : control("dev.nvidia-uvm-tools", "nvidia-uvm-tools", { major: uvm, minor: 1, mode }, "warn", "CUDA profilers in containers fail"),
    control("dev.nvidia-modeset", "nvidia-modeset", { major: NVIDIA_MAJOR, minor: 254, mode }, "skip", "only the display capability needs it (`modprobe nvidia-modeset`)"),
  ];
  // Each GPU's node, as the driver numbers it in its procfs.
  const fails: string[] = [];
  const warns: string[] = [];
  const good: string[] = [];
  for (const g of f.driver.gpus) {
    if (g.minor === null) {
      warns.push(`GPU ${g.bus} has no Device Minor in its information file`);
      continue;
    }
    const n = f.nodes[`nvidia${g.minor}`] ?? { path: `/dev/nvidia${g.minor}`, present: false };
    const p = nodeProblem(n, { major: NVIDIA_MAJOR, minor: g.minor, mode });
    if (p === null) good.push(n.path);
    else (p.status === "fail" ? fails : warns).push(p.what);
  }
  if (fails.length) {
    out.push(fail("dev.gpus", fails.some((x) => x.endsWith("missing")) ? `${firsts(fails)}: containers asking for that GPU fail` : firsts(fails), "make each GPU's node: `mknod -m 666 /dev/nvidiaN c 195 N` for minor N (or `nvidia-modprobe -c N`); remove a wrong one first"));
  } else if (warns.length) out.push(warn("dev.gpus", firsts(warns), `\`chmod ${oct(mode)} /dev/nvidia[0-9]*\``));
  else if (good.length) out.push(ok("dev.gpus", `${good.length === 1 ? good[0] : `${good[0]} .. ${good.at(-1)}`}: 195:N ${oct(mode)}`));
  else out.push(skip("dev.gpus", "no GPU (see `driver`)"));
  return out;
}

function libraryCheck(f: HostFacts): Check {
  const l = f.ldcache;
  const ldconfig = f.root === "/" ? "`ldconfig`" : `\`ldconfig -r ${f.root}\``;
  if (l.error) return fail("libraries", `the ld cache cannot be read: ${l.error}`, `run ${ldconfig}`);
  const problems: string[] = [];
  let fix = "";
  const dirs = new Set<string>();
  for (const lib of l.libs) {
    if (!lib.path) {
      problems.push(`${lib.name} is not in the ld cache ${q(l.file)}`);
      fix ||= `install the driver's user-space libraries${f.driver.version ? ` (${f.driver.version})` : ""}, then run ${ldconfig}`;
      continue;
    }
    if (!lib.resolved) {
      problems.push(`${lib.name} in the ld cache is ${q(lib.path)}, which does not exist`);
      fix ||= `run ${ldconfig} (the cache is older than the libraries)`;
      continue;
    }
    dirs.add(lib.resolved.slice(0, lib.resolved.lastIndexOf("/")) || "/");
    const version = /\.so\.(\d.*)$/.exec(base(lib.resolved))?.[1];
    if (f.driver.version && version !== f.driver.version) {
      problems.push(`${lib.name} is ${base(lib.resolved)}, not the loaded driver's ${f.driver.version}: nvct mounts only the driver's version, so containers get no ${lib.name.replace(/\.so\.\d+$/, "")}`);
      fix ||= `install the user-space libraries of driver ${f.driver.version} (or reboot into the driver they belong to), then run ${ldconfig}`;
    }
  }
  if (problems.length) return fail("libraries", firsts(problems), fix);
  const v = f.driver.version ? ` are ${f.driver.version}` : " are in the ld cache";
  return ok("libraries", `${l.libs.map((x) => x.name).join(" and ")}${v} (${[...dirs].join(", ")})`);
}

/** What to do about an NVML error, by NVML's own words. */
function nvmlFix(error: string): string {
  if (/Driver Not Loaded/i.test(error)) return "load the kernel module: `modprobe nvidia` (`dmesg | grep -i nvrm` says why it is not)";
  if (/mismatch/i.test(error)) return "the kernel module and libnvidia-ml are of different versions: reboot, or reinstall the driver so that both are one version";
  if (/Insufficient Permissions|No Permission/i.test(error)) return "run as root, or check the modes of /dev/nvidia*";
  if (/GPU is lost|fallen off/i.test(error)) return "a GPU fell off the bus: `nvidia-smi -q`, `dmesg | grep -i xid`; reset it (`nvidia-smi -r`) or reboot";
  if (/load library failed|cannot open shared object/i.test(error)) return "reinstall the driver's libnvidia-ml, then run `ldconfig`";
  return "check `nvidia-smi` and `dmesg | grep -i nvrm`";
}

function nvmlCheck(f: HostFacts): Check {
  const n = f.nvml;
  if (!n.library) return skip("nvml", "libnvidia-ml.so.1 is not found through the ld cache (see `libraries`)");
  if (n.error) return fail("nvml", `NVML does not start: ${n.error}`, nvmlFix(n.error));
  const p = n.probe!;
  if (p.error) return fail("nvml", `NVML fails: ${p.error}`, nvmlFix(p.error));
  if (f.driver.version && p.driver && p.driver !== f.driver.version) {
    return fail("nvml", `NVML is driver ${p.driver}, the kernel module is ${f.driver.version}`, nvmlFix("mismatch"));
  }
  const bad = p.gpus.filter((g): g is { index: number; error: string } => "error" in g);
  if (bad.length) return fail("nvml", `NVML fails on ${firsts(bad.map((g) => `GPU ${g.index}: ${g.error}`))}`, nvmlFix(bad[0].error));
  if (p.count === 0) return fail("nvml", `NVML ${p.driver} answers but sees no GPU`, "check `nvidia-smi` and `dmesg | grep -i nvrm`");
  const names = p.gpus.map((g) => ("model" in g ? `${g.index}: ${g.model}` : "")).filter(Boolean);
  const line = `NVML ${p.driver} (CUDA ${p.cuda}): ${p.count} GPU${p.count === 1 ? "" : "s"} (${firsts(names, 4)})`;
  if (f.driver.text !== null && p.count !== f.driver.gpus.length) return warn("nvml", `${line}, but /proc/driver/nvidia/gpus has ${f.driver.gpus.length}`, "a GPU may be excluded or lost: `nvidia-smi -q`, `dmesg | grep -i nvrm`");
  return ok("nvml", line);
}

function configCheck(f: HostFacts): Check {
  const c = f.config;
  if (c.error) return fail("config", `${c.error}: every nvct tool refuses to run`, `fix it, or write the defaults: \`nvidia-ctk config default --output ${c.file}\``);
  if (c.unknownKeys.length) {
    return warn("config", `${q(c.file)} has unknown key${c.unknownKeys.length > 1 ? "s" : ""} ${c.unknownKeys.map(q).join(", ")}: ignored, so they have no effect`, "correct their spelling or remove them (`nvidia-ctk config default` shows the known keys)");
  }
  if (!c.present) return ok("config", `no ${q(c.file)}: the defaults (mode ${c.mode})`);
  return ok("config", `${q(c.file)} is valid (mode ${c.mode})`);
}

function toolkitCheck(f: HostFacts): Check {
  const t = f.toolkit;
  const c = f.config;
  if (!t.hook) {
    const finding = `the prestart hook ${q(c.hookPath)} (nvidia-container-runtime-hook.path) is not an executable`;
    const fix = "install nvct (its package links nvidia-container-runtime-hook to it), or set nvidia-container-runtime-hook.path";
    if (c.mode === "legacy") return fail("toolkit", `${finding}: in legacy mode every GPU container fails to start`, fix);
    return warn("toolkit", `${finding}: the runtime's legacy mode would fail`, fix);
  }
  return ok("toolkit", `prestart hook ${t.hook}; nvidia-container-runtime ${t.runtimeOnPath ?? "not on PATH"}`);
}

const ENGINE_NAMES: Record<keyof HostFacts["engines"], string> = { docker: "docker", containerd: "containerd", crio: "CRI-O", podman: "podman" };
const RESTART: Record<keyof HostFacts["engines"], string> = { docker: "systemctl restart docker", containerd: "systemctl restart containerd", crio: "systemctl restart crio", podman: "" };

function runningCheck(f: HostFacts): Check {
  const answering: string[] = [];
  const stale: string[] = [];
  for (const [k, e] of Object.entries(f.engines) as [keyof HostFacts["engines"], EngineFacts][]) {
    if (e.socket.state === "answers") answering.push(`${ENGINE_NAMES[k]} (${e.socket.path})`);
    else if (e.socket.state === "stale") stale.push(e.socket.path);
  }
  const staleNote = stale.length ? `; nobody answers on ${stale.join(", ")} (stale)` : "";
  if (answering.length) return ok("engine.running", `running: ${answering.join(", ")}${staleNote}`);
  const podman = f.engines.podman.installed ? " (podman needs none)" : "";
  return warn("engine.running", `no container engine answers on its socket${podman}${staleNote}`, "start the engine you use: `systemctl start docker` (or containerd, crio)");
}

/** The runtime entries that are NVIDIA's: named nvidia*, or running nvidia-container-runtime*. */
const nvidiaRuntimes = (e: EngineFacts) => e.runtimes.filter((r) => r.name.startsWith("nvidia") || /^nvidia-container-runtime/.test(base(r.path)));

function engineCheck(f: HostFacts, k: keyof HostFacts["engines"]): Check {
  const e = f.engines[k];
  const id = `engine.${k}`;
  const name = ENGINE_NAMES[k];
  const running = e.socket.state === "answers";
  const state = k === "podman" ? "" : running ? "; running" : "; not running";
  const restart = RESTART[k] ? `, then \`${RESTART[k]}\`` : "";
  const configure = `\`nvidia-ctk runtime configure --runtime=${k}\`${restart}`;
  if (!e.installed && !running && e.files.length === 0) return skip(id, `${name} is not installed`);
  if (e.error) return fail(id, `${e.error}: ${name} refuses to start with it`, `fix it${k === "podman" ? "" : ` (or move it away and run ${configure})`}`);
  const mine = nvidiaRuntimes(e);
  const missing = mine.filter((r) => e.found[r.name] === null);
  if (missing.length) {
    const r = missing[0];
    return fail(id, `${name}'s runtime ${q(r.name)} runs ${q(r.path || r.name)}, which is not found: containers with that runtime fail to start`, `install nvct, or point it at nvidia-container-runtime: ${configure.replace("`nvidia-ctk runtime configure", "`nvidia-ctk runtime configure --nvidia-runtime-path=PATH")}`);
  }
  if (k === "docker" && e.defaultRuntime && e.defaultRuntime !== "runc" && !e.runtimes.some((r) => r.name === e.defaultRuntime)) {
    return fail(id, `docker's default-runtime ${q(e.defaultRuntime)} is not among its runtimes: dockerd refuses to start`, configure.replace("configure", "configure --set-as-default"));
  }
  const hooks = e.hooks ?? [];
  const brokenHook = hooks.find((h) => e.found[h.file] === null);
  if (brokenHook) return fail(id, `${q(brokenHook.file)} runs ${q(brokenHook.path)}, which is not an executable: ${name} fails every container`, `install nvct, or remove ${q(brokenHook.file)}`);
  const cdi = e.cdi === undefined ? "" : `; CDI ${e.cdi ? "on" : "off"}`;
  const describe = (r: { name: string; path: string }) => `runtime ${q(r.name)} -> ${e.found[r.name]}${e.defaultRuntime === r.name ? " (default)" : ""}`;
  if (mine.length) return ok(id, `${mine.map(describe).join(", ")}${cdi}${state}`);
  const nvidiaSpec = f.cdi.specs.some((s) => s.kind?.startsWith("nvidia.com/") && !s.error && s.problems.length === 0);
  switch (k) {
    case "docker":
      if (!f.toolkit.hookOnPath) return fail(id, "docker has no nvidia runtime and nvidia-container-runtime-hook is not on PATH: `docker run --gpus` fails (could not select device driver)", `${configure}; put nvidia-container-runtime-hook on PATH`);
      return warn(id, `docker has no nvidia runtime${e.files.length ? ` in ${q(e.files[0])}` : " (no daemon.json)"}: \`--runtime=nvidia\` fails (\`--gpus\` works, through the hook on PATH)${state}`, configure);
    case "containerd":
      return warn(id, `containerd's CRI config has no nvidia runtime${e.files.length ? ` (${e.files.map(q).join(", ")})` : " (no config.toml)"}: pods with runtimeClassName nvidia fail (\`ctr run --gpus\` works)${state}`, configure);
    case "crio":
      if (hooks.length) return ok(id, `GPUs through the OCI hook ${q(hooks[0].file)}${state}`);
      return warn(id, `CRI-O has no nvidia runtime${e.files.length ? ` (${e.files.map(q).join(", ")})` : ""} and no NVIDIA OCI hook: pods get no GPU${state}`, configure);
    case "podman":
      if (hooks.length) return ok(id, `GPUs through the OCI hook ${q(hooks[0].file)}${nvidiaSpec ? " and CDI" : ""}`);
      if (nvidiaSpec) return ok(id, "GPUs through CDI (`podman run --device nvidia.com/gpu=all`)");
      return warn(id, "podman has no NVIDIA CDI spec and no NVIDIA OCI hook: `--device nvidia.com/gpu=all` fails", "`nvidia-ctk cdi generate --output /var/run/cdi/nvidia.yaml` (or `nvidia-ctk runtime configure --runtime=podman` for the hook)");
  }
}

/** NVIDIA's spec: its kind is nvidia.com's, or (a spec too broken to say) its file is named so. */
const isNvidia = (s: SpecFacts) => /^nvidia\.com(\/|$)/.test(s.kind ?? "") || /nvidia/i.test(base(s.file));

function cdiCheck(f: HostFacts): Check {
  const specs = f.cdi.specs;
  const dirs = f.cdi.dirs.join(", ");
  const generate = "`nvidia-ctk cdi generate --output /var/run/cdi/nvidia.yaml`";
  if (specs.length === 0) {
    if (f.config.mode === "cdi") return fail("cdi", `nvidia-container-runtime.mode is cdi, but there is no CDI spec in ${dirs}: every GPU container fails`, generate);
    return skip("cdi", `no CDI spec in ${dirs} (CDI names such as nvidia.com/gpu=all need one; the hook and jit-cdi do not)`, generate);
  }
  const fails: string[] = [];
  const warns: string[] = [];
  let fix = "";
  for (const s of specs) {
    const regen = `regenerate it: \`nvidia-ctk cdi generate --output ${s.file}\``;
    const problem = s.error ? `${q(s.file)} cannot be read: ${s.error}` : s.problems.length ? `${q(s.file)} is not a valid CDI spec: ${s.problems[0]}` : null;
    if (problem) {
      (isNvidia(s) ? fails : warns).push(problem);
      fix ||= isNvidia(s) ? regen : `fix or remove ${q(s.file)}`;
      continue;
    }
    if (!isNvidia(s)) continue;
    if (f.driver.version && s.driverVersions.length && !s.driverVersions.includes(f.driver.version)) {
      fails.push(`${q(s.file)} was made for driver ${s.driverVersions.join(", ")}, the loaded driver is ${f.driver.version}`);
      fix ||= regen;
    } else if (s.missing.length) {
      fails.push(`${q(s.file)} names host paths that do not exist: ${s.missing.slice(0, 3).join(", ")}: containers using it fail to start`);
      fix ||= regen;
    }
  }
  if (fails.length) return fail("cdi", firsts(fails), fix);
  if (warns.length) return warn("cdi", firsts(warns), fix);
  const mine = specs.filter(isNvidia);
  if (mine.length === 0) {
    if (f.config.mode === "cdi") return fail("cdi", `nvidia-container-runtime.mode is cdi, but no spec in ${dirs} is NVIDIA's`, generate);
    return skip("cdi", `no NVIDIA CDI spec in ${dirs} (${specs.length} of other vendors)`, generate);
  }
  const version = f.driver.version && mine.every((s) => s.driverVersions.includes(f.driver.version!)) ? `, driver ${f.driver.version}` : "";
  return ok("cdi", mine.map((s) => `${q(s.file)}: ${s.kind}, ${s.devices} device${s.devices === 1 ? "" : "s"}`).join("; ") + version);
}

function cgroupCheck(f: HostFacts): Check {
  const c = f.cgroup;
  const noCgroups = f.config.noCgroups ? "; no-cgroups = true: nvct adds no device rule (rootless only)" : "";
  if (c.version === 2) return ok("cgroup", `cgroup v2 (cgroup2 on /sys/fs/cgroup): GPUs allowed through the container's eBPF device program${noCgroups}`);
  if (c.devices) return ok("cgroup", `cgroup v1, the devices controller at ${c.devices}${noCgroups}`);
  if (f.config.noCgroups) return ok("cgroup", `cgroup v1 without the devices controller${noCgroups}`);
  return fail("cgroup", "cgroup v1 (no cgroup2 on /sys/fs/cgroup) without the devices controller mounted: the hook cannot allow the GPUs' nodes", "mount it (`mount -t cgroup -o devices cgroup /sys/fs/cgroup/devices`), or boot with cgroup v2 (systemd.unified_cgroup_hierarchy=1)");
}

function cacheCheck(f: HostFacts): Check {
  const c = f.cache;
  const dir = q(c.dir);
  if (c.state === "off") return skip("cache", "the decision cache is off (`[nvct] cache-dir = \"\"`): every container computes everything");
  if (c.state === "absent") return ok("cache", `${dir} does not exist yet: the first GPU container fills it`);
  if (c.state === "untrusted") return warn("cache", `${dir} is not used: ${c.why}; every container computes everything`, `\`rm -rf ${c.dir}\` (nvct makes it again, root's and 0700)`);
  if (c.bad.length) {
    const first = c.bad.slice(0, 2).map((b) => `${b.name} (${b.why})`).join(", ");
    return warn("cache", `${dir} holds ${c.bad.length} entr${c.bad.length === 1 ? "y" : "ies"} nvct ignores and computes again: ${first}${c.bad.length > 2 ? ", ..." : ""}`, `remove ${c.bad.length === 1 ? "it" : "them"}: \`rm ${c.dir}/${c.bad.length === 1 ? c.bad[0].name : "<name>"}\``);
  }
  if (c.inventory === "differs") return warn("cache", `${dir}: the cached inventory differs from NVML's: ${c.inventoryDiff}`, `\`rm -rf ${c.dir}\``);
  const other = c.otherBuild ? `, ${c.otherBuild} of another nvct build (unused)` : "";
  const fresh = c.index === "fresh" ? "fresh for this driver" : c.index === "stale" ? `made before ${c.changed ? q(c.changed) : "the driver"} changed: the next container gathers the driver's facts again` : "nothing cached for this driver yet";
  return ok("cache", `${dir}: ${c.entries} entr${c.entries === 1 ? "y" : "ies"}${other}; ${fresh}${c.inventory === "matches" ? ", its inventory NVML's" : ""}`);
}

/** Every check, in causal order. */
export function diagnose(f: HostFacts): Check[] {
  return [
    driverCheck(f),
    ...nodeChecks(f),
    libraryCheck(f),
    nvmlCheck(f),
    configCheck(f),
    toolkitCheck(f),
    runningCheck(f),
    engineCheck(f, "docker"),
    engineCheck(f, "containerd"),
    engineCheck(f, "crio"),
    engineCheck(f, "podman"),
    cdiCheck(f),
    cgroupCheck(f),
    cacheCheck(f),
  ];
}

/** A GPU container would start: nothing failed. */
export const wouldStart = (checks: Check[]) => !checks.some((c) => c.status === "fail");

const RANK: Record<Status, number> = { fail: 0, warn: 1, ok: 2, skip: 3 };

/** For people: failures first, then warnings, then the rest, each group in causal order. */
export function forPeople(checks: Check[]): Check[] {
  return checks.map((c, i) => [c, i] as const).sort((a, b) => RANK[a[0].status] - RANK[b[0].status] || a[1] - b[1]).map(([c]) => c);
}

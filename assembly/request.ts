// What a container asks for: its spec's env, mounts, annotations and privilege, read under the
// policy of config.toml. One reading serves the hook (devices, capabilities, requirements) and
// the runtime (its mode, CDI names, feature devices).
import { Box, Capability, Code, ContainerSpec, Failure, Feature, Mode, Outcome, Policy, Request, ok } from "../build/out/gen/types";
import { capabilities } from "./capabilities";
import { fail, failure, pass } from "./outcome";
import { allDigits } from "./text";
import { VOLUME_PREFIX } from "./vocabulary";

/** At most this many device ids in one request: no machine has more, and each costs work. */
export const MAX_DEVICE_IDS = 4096;

const FEATURE_VARS: string[] = ["NVIDIA_GDS", "NVIDIA_MOFED", "NVIDIA_NVSWITCH", "NVIDIA_GDRCOPY"];

function truthy(v: string): bool {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

/** `major.minor` of a CUDA_VERSION such as 12.4.1, or "" when it is not a version. */
function cudaMajorMinor(v: string): string {
  const parts = v.trim().split(".");
  if (parts.length < 2 || !allDigits(parts[0]) || !allDigits(parts[1])) return "";
  return parts[0] + "." + parts[1];
}

/** The env as a map: later entries win, as in a process's environment. */
function envMap(env: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < env.length; i++) {
    const e = env[i];
    const eq = e.indexOf("=");
    if (eq <= 0) continue; // an entry without a name is not a variable
    m.set(e.substring(0, eq), e.substring(eq + 1));
  }
  return m;
}

/** Trimmed, non-empty items of a comma list. */
export function items(list: string): string[] {
  const out = new Array<string>();
  const parts = list.split(",");
  for (let i = 0; i < parts.length; i++) {
    const t = parts[i].trim();
    if (t.length > 0) out.push(t);
  }
  return out;
}

/** `vendor.com/class=name`: a qualified CDI device name. */
export function isQualified(n: string): bool {
  const slash = n.indexOf("/");
  const eq = n.indexOf("=");
  if (slash <= 0 || eq < slash + 2 || eq == n.length - 1) return false;
  const vendor = n.substring(0, slash);
  for (let i = 0; i < vendor.length; i++) {
    const c = vendor.charCodeAt(i);
    if (!((c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c == 0x2e || c == 0x2d)) return false;
  }
  return n.substring(slash + 1, eq).indexOf("/") < 0;
}

class Names {
  constructor(public names: string[], public from: string) {}
}

/** The devices as the runtime reads them: annotations, else volume mounts, else the env. */
function runtimeNames(spec: ContainerSpec, policy: Policy, env: Map<string, string>, annotations: bool): Outcome<Names> {
  const names = new Array<string>();
  for (let i = 0; i < spec.annotations.length && annotations; i++) {
    const a = spec.annotations[i];
    let matches = false;
    for (let k = 0; k < policy.annotationPrefixes.length; k++) if (a.key.startsWith(policy.annotationPrefixes[k])) matches = true;
    if (!matches) continue;
    const list = items(a.value);
    for (let k = 0; k < list.length; k++) {
      if (!isQualified(list[k])) return fail<Names>(Code.BadCdiName, "invalid CDI device name `" + list[k] + "` in annotation `" + a.key + "`: want vendor.com/class=name");
      names.push(list[k]);
    }
  }
  if (names.length > 0) return ok<Names>(new Names(names, "annotations"));
  if (policy.acceptVolumeMounts) {
    for (let i = 0; i < spec.mounts.length; i++) {
      const m = spec.mounts[i];
      if (m.source != "/dev/null" || !m.destination.startsWith(VOLUME_PREFIX)) continue;
      const id = m.destination.substring(VOLUME_PREFIX.length);
      if (id.length == 0 || id.startsWith("imex/")) continue;
      if (id.startsWith("cdi/")) {
        const parts = id.substring(4).split("/");
        if (parts.length < 3) return fail<Names>(Code.BadCdiName, "invalid CDI device in volume mount `" + m.destination + "`");
        names.push(parts[0] + "/" + parts[1] + "=" + parts.slice(2).join("/"));
      } else names.push(id);
    }
    if (names.length > 0) return ok<Names>(new Names(names, "volume-mounts"));
  }
  const ed = envDevices(spec, policy, env);
  if (ed.devices === null || ed.refused) return ok<Names>(new Names(names, "NVIDIA_VISIBLE_DEVICES"));
  const ids = items(changetype<string>(ed.devices));
  if (ids.includes("void")) return ok<Names>(new Names(names, ed.source));
  // `none`: the driver without a GPU, a device of its own to the CDI modes.
  if (ids.includes("none")) return ok<Names>(new Names(["none"], ed.source));
  return ok<Names>(new Names(ids, ed.source));
}

class EnvDevices {
  constructor(
    public devices: string | null,
    public source: string,
    /** Set, but not to be honoured: an unprivileged container under accept-...-when-unprivileged = false. */
    public refused: bool,
  ) {}
}

/** The device list of the env: the first swarm-resource variable set, else NVIDIA_VISIBLE_DEVICES, else `all` on a CUDA image. */
function envDevices(spec: ContainerSpec, policy: Policy, env: Map<string, string>): EnvDevices {
  let devices: string | null = null;
  let source = "";
  for (let i = 0; i < policy.swarmResource.length && devices === null; i++) {
    const name = policy.swarmResource[i].trim();
    if (name.length > 0 && env.has(name)) {
      devices = env.get(name);
      source = name;
    }
  }
  if (devices === null && env.has("NVIDIA_VISIBLE_DEVICES")) {
    devices = env.get("NVIDIA_VISIBLE_DEVICES");
    source = "NVIDIA_VISIBLE_DEVICES";
  }
  if (devices === null && env.has("CUDA_VERSION")) {
    devices = "all";
    source = "CUDA_VERSION";
  }
  return new EnvDevices(devices, source, devices !== null && !spec.privileged && !policy.acceptEnvvarUnprivileged);
}

function decideMode(policy: Policy, names: string[]): Outcome<Box<Mode>> {
  const m = policy.mode;
  if (m == "legacy") return ok<Box<Mode>>(new Box<Mode>(Mode.Legacy));
  if (m == "cdi") return ok<Box<Mode>>(new Box<Mode>(Mode.Cdi));
  if (m == "csv") return ok<Box<Mode>>(new Box<Mode>(Mode.Csv));
  if (m == "jit-cdi") return ok<Box<Mode>>(new Box<Mode>(Mode.JitCdi));
  if (m != "auto" && m != "") return fail<Box<Mode>>(Code.BadMode, "unsupported mode `" + m + "` (nvidia-container-runtime.mode): want auto, legacy, cdi, jit-cdi or csv");
  let allQualified = names.length > 0;
  for (let i = 0; i < names.length; i++) if (!isQualified(names[i])) allQualified = false;
  if (allQualified) return ok<Box<Mode>>(new Box<Mode>(Mode.Cdi));
  return ok<Box<Mode>>(new Box<Mode>(policy.tegra ? Mode.Csv : policy.autoMode));
}

/** The kind of the devices the runtime generates in memory (jit-cdi's default kind). */
const AUTOMATIC_KIND = "runtime.nvidia.com/gpu";

/**
 * cdi and jit-cdi: each name qualified (an id gets the mode's default kind; `none` stays a
 * device), once; `runtime.nvidia.com/gpu=<id>` names go to in-memory generation, the others to
 * the spec directories, and the two do not mix.
 */
function cdiNames(r: Request, names: string[], kind: string): Failure | null {
  const seen = new Set<string>();
  for (let i = 0; i < names.length; i++) {
    const q = isQualified(names[i]) ? names[i] : kind + "=" + names[i];
    if (seen.has(q)) continue;
    seen.add(q);
    if (q.startsWith(AUTOMATIC_KIND + "=")) r.jitDevices.push(q.substring(AUTOMATIC_KIND.length + 1));
    else r.cdiDevices.push(q);
  }
  if (r.jitDevices.length > 0 && r.cdiDevices.length > 0) return failure(Code.MixedCdiDevices, "requesting a CDI device with vendor 'runtime.nvidia.com' is not supported when requesting other CDI devices (`" + r.cdiDevices[0] + "`)");
  return null;
}

/**
 * request(spec, policy). The hook's reading: devices from volume mounts (when
 * accept-nvidia-visible-devices-as-volume-mounts: `/dev/null` mounted under
 * /var/run/nvidia-container-devices/, `imex/N` an IMEX channel, `cdi/...` refused), else the
 * first swarm-resource variable set, else NVIDIA_VISIBLE_DEVICES (ignored in an unprivileged
 * container while accept-nvidia-visible-devices-envvar-when-unprivileged is false), else `all` on
 * a legacy image (CUDA_VERSION set). Unset, empty or `void` anywhere: not a GPU container. The
 * first of `all` / `none` wins: `all` is ["all"], `none` no device but the driver ([]).
 * NVIDIA_DRIVER_CAPABILITIES (default utility,compute; all on a legacy image), NVIDIA_REQUIRE_*
 * (but JETPACK; sorted by name; cuda>=major.minor of CUDA_VERSION on a legacy image without
 * NVIDIA_REQUIRE_CUDA; none with NVIDIA_DISABLE_REQUIRE or disable-require),
 * NVIDIA_MIG_CONFIG_DEVICES / NVIDIA_MIG_MONITOR_DEVICES (privileged only, `all`),
 * NVIDIA_IMEX_CHANNELS (ids or `all`).
 * The runtime's reading: CDI names from annotations with annotation-prefixes (qualified only;
 * cdi mode only), else the volume mounts, else NVIDIA_VISIBLE_DEVICES (`none` a device, `void`
 * nothing); the mode (auto: cdi when every name is qualified, else csv on Tegra, else auto-mode);
 * in cdi and jit-cdi, names qualified with the mode's default kind (jit-cdi:
 * runtime.nvidia.com/gpu) and split into jit-devices (runtime.nvidia.com/gpu ids, generated in
 * memory) and cdi-devices (from spec files); NVIDIA_GDS/MOFED/NVSWITCH/GDRCOPY=enabled when
 * devices of the driver are asked for (legacy, csv, jit).
 * Failures: bad-capability, bad-cuda-version, mig-unprivileged, bad-mig-devices,
 * bad-imex-channel, cdi-in-legacy, bad-cdi-name, bad-mode, too-many-devices, mixed-cdi-devices.
 */
export function request(spec: ContainerSpec, policy: Policy): Outcome<Request> {
  const env = envMap(spec.env);
  const r = new Request();
  r.legacyImage = env.has("CUDA_VERSION");

  // The runtime's reading.
  const rn = runtimeNames(spec, policy, env, true);
  if (rn.failure !== null) return pass<Request, Names>(rn);
  let names = rn.value.names;
  if (names.length > MAX_DEVICE_IDS) return fail<Request>(Code.TooManyDevices, "too many devices requested in " + rn.value.from + " (" + names.length.toString() + "; at most " + MAX_DEVICE_IDS.toString() + ")");
  const md = decideMode(policy, names);
  if (md.failure !== null) return pass<Request, Box<Mode>>(md);
  r.mode = md.value.value;
  // Annotations name devices in cdi mode only: any other mode reads the mounts or the env.
  if (r.mode != Mode.Cdi && rn.value.from == "annotations") {
    const again = runtimeNames(spec, policy, env, false);
    if (again.failure !== null) return pass<Request, Names>(again);
    names = again.value.names;
  }
  if (r.mode == Mode.Cdi || r.mode == Mode.JitCdi) {
    const err = cdiNames(r, names, r.mode == Mode.JitCdi ? AUTOMATIC_KIND : policy.defaultKind);
    if (err !== null) return fail<Request>(err.code, err.message);
  }
  // Feature devices come with devices of the driver's: not with CDI devices of spec files alone.
  const cdiOnly = (r.mode == Mode.Cdi || r.mode == Mode.JitCdi) && r.jitDevices.length == 0;
  if (names.length > 0 && !cdiOnly) {
    for (let i = 0; i < FEATURE_VARS.length; i++) {
      if (env.has(FEATURE_VARS[i]) && env.get(FEATURE_VARS[i]) == "enabled") r.features.push(<Feature>i);
    }
  }

  // The hook's reading.
  let devices: string | null = null;
  let source = "";
  const imex = new Array<string>();
  const mountIds = new Array<string>();
  if (policy.acceptVolumeMounts) {
    for (let i = 0; i < spec.mounts.length; i++) {
      const m = spec.mounts[i];
      if (m.source == "/dev/null" && m.destination.startsWith(VOLUME_PREFIX) && m.destination.length > VOLUME_PREFIX.length) {
        mountIds.push(m.destination.substring(VOLUME_PREFIX.length));
      }
    }
  }
  if (mountIds.length > 0) {
    const ids = new Array<string>();
    for (let i = 0; i < mountIds.length; i++) {
      const id = mountIds[i];
      if (id.startsWith("cdi/")) {
        // The runtime's CDI modes read these; to the hook (legacy) they are an error.
        if (r.mode == Mode.Cdi || r.mode == Mode.JitCdi) continue;
        return fail<Request>(Code.CdiInLegacy, "CDI device `" + id.substring(4) + "` requested through a volume mount: use nvidia-container-runtime in cdi mode");
      }
      if (id.startsWith("imex/")) imex.push(id.substring(5));
      else ids.push(id);
    }
    devices = ids.join(",");
    source = "volume-mounts";
  } else {
    const ed = envDevices(spec, policy, env);
    devices = ed.devices;
    source = ed.source;
    if (ed.refused) {
      r.reason = "devices from " + source + " ignored in an unprivileged container (accept-nvidia-visible-devices-envvar-when-unprivileged = false)";
      return ok<Request>(r);
    }
  }
  if (devices === null) {
    r.reason = "no device requested";
    return ok<Request>(r);
  }
  const ids = items(changetype<string>(devices));
  if (ids.length > MAX_DEVICE_IDS) return fail<Request>(Code.TooManyDevices, "too many devices requested in " + source + " (" + ids.length.toString() + "; at most " + MAX_DEVICE_IDS.toString() + ")");
  if ((ids.length == 0 || ids.includes("void")) && imex.length == 0) {
    r.reason = "no device requested (" + source + "=" + changetype<string>(devices) + ")";
    return ok<Request>(r);
  }
  r.gpu = true;
  r.source = source;
  let special = "";
  for (let i = 0; i < ids.length && special.length == 0; i++) if (ids[i] == "all" || ids[i] == "none") special = ids[i];
  if (special == "all") r.devices = ["all"];
  else if (special == "") r.devices = ids;

  // Capabilities: the default, or every one on a legacy image.
  const capList = env.has("NVIDIA_DRIVER_CAPABILITIES") ? env.get("NVIDIA_DRIVER_CAPABILITIES") : r.legacyImage ? "all" : "";
  const caps = capabilities(capList, policy.supportedCapabilities);
  if (caps.failure !== null) return pass<Request, Capability[]>(caps);
  r.caps = caps.value;

  // Requirements, sorted by variable name so that the check order never varies.
  const disabled = env.has("NVIDIA_DISABLE_REQUIRE") && truthy(env.get("NVIDIA_DISABLE_REQUIRE").trim());
  if (!policy.disableRequire && !disabled) {
    const keys = env.keys();
    const names2 = new Array<string>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k.startsWith("NVIDIA_REQUIRE_") && !k.startsWith("NVIDIA_REQUIRE_JETPACK")) names2.push(k);
    }
    names2.sort();
    for (let i = 0; i < names2.length; i++) {
      const v = env.get(names2[i]).trim();
      if (v.length > 0) r.requires.push(v);
    }
    if (r.legacyImage && !env.has("NVIDIA_REQUIRE_CUDA")) {
      const cv = env.get("CUDA_VERSION");
      const mm = cudaMajorMinor(cv);
      if (mm.length == 0) return fail<Request>(Code.BadCudaVersion, "invalid CUDA_VERSION `" + cv + "`");
      r.requires.push("cuda>=" + mm);
    }
  }

  // MIG configuration and monitoring: privileged containers only, and only `all`.
  const migVars: string[] = ["NVIDIA_MIG_CONFIG_DEVICES", "NVIDIA_MIG_MONITOR_DEVICES"];
  for (let i = 0; i < migVars.length; i++) {
    if (!env.has(migVars[i])) continue;
    const v = env.get(migVars[i]).trim();
    if (v.length == 0) continue;
    if (!spec.privileged) return fail<Request>(Code.MigUnprivileged, "cannot set " + migVars[i] + " in an unprivileged container");
    if (v != "all") return fail<Request>(Code.BadMigDevices, "invalid " + migVars[i] + " `" + v + "`: only `all` is supported");
    if (i == 0) r.migConfig = v;
    else r.migMonitor = v;
  }

  if (env.has("NVIDIA_IMEX_CHANNELS")) {
    const chs = items(env.get("NVIDIA_IMEX_CHANNELS"));
    if (chs.length > MAX_DEVICE_IDS) return fail<Request>(Code.TooManyDevices, "too many IMEX channels requested in NVIDIA_IMEX_CHANNELS (" + chs.length.toString() + "; at most " + MAX_DEVICE_IDS.toString() + ")");
    for (let i = 0; i < chs.length; i++) imex.push(chs[i]);
  }
  if (imex.length > MAX_DEVICE_IDS) return fail<Request>(Code.TooManyDevices, "too many IMEX channels requested (" + imex.length.toString() + "; at most " + MAX_DEVICE_IDS.toString() + ")");
  // Each channel once, in the order first asked.
  const seen = new Set<string>();
  for (let i = 0; i < imex.length; i++) {
    if (!allDigits(imex[i]) && imex[i] != "all") return fail<Request>(Code.BadImexChannel, "invalid IMEX channel `" + imex[i] + "`");
    if (seen.has(imex[i])) continue;
    seen.add(imex[i]);
    r.imex.push(imex[i]);
  }
  // In-memory generation injects what the hook would for the same ids: `all` every device,
  // `none` no GPU but the driver, and the runtime.nvidia.com/gpu names' ids.
  if (r.jitDevices.length > 0) {
    if (r.jitDevices.includes("all")) r.devices = ["all"];
    else {
      r.devices = [];
      for (let i = 0; i < r.jitDevices.length; i++) if (r.jitDevices[i] != "none") r.devices.push(r.jitDevices[i]);
    }
  }
  return ok<Request>(r);
}

// What a container asks for: its spec's env, mounts and privilege, read under the hook's policy.
import { Outcome } from "./abi";
import { capabilities } from "./capabilities";
import { allDigits, lines, q, quoteAll } from "./text";

const VOLUME_PREFIX = "/var/run/nvidia-container-devices/";

function truthy(v: string): bool {
  return v == "1" || v == "t" || v == "T" || v == "true" || v == "TRUE" || v == "True";
}

/** The last value of KEY in env (later entries override earlier ones, as in a process env). */
function lookup(keys: string[], values: string[], key: string): string | null {
  for (let i = keys.length - 1; i >= 0; i--) if (keys[i] == key) return values[i];
  return null;
}

/** `major.minor` of a CUDA_VERSION such as 12.4.1, or "" when it is not a version. */
function cudaMajorMinor(v: string): string {
  const parts = v.trim().split(".");
  if (parts.length < 2 || !allDigits(parts[0]) || !allDigits(parts[1])) return "";
  return parts[0] + "." + parts[1];
}

/** True when the device request selects nothing: empty, or `void` anywhere. */
function isVoid(devices: string): bool {
  const items = devices.split(",");
  let any = false;
  for (let i = 0; i < items.length; i++) {
    const t = items[i].trim();
    if (t == "void") return true;
    if (t.length > 0) any = true;
  }
  return !any;
}

/**
 * request(input). Grammar of input, one fact a line, tab-separated:
 *   `policy <name> <value>` with names accept-envvar-unprivileged, accept-volume-mounts,
 *     disable-require (true/false), swarm-resource (comma list of env names),
 *     supported-capabilities (comma list); absent policies take the reference defaults;
 *   `privileged true|false` (CAP_SYS_ADMIN in the bounding set);
 *   `env KEY=VALUE` for each entry of process.env, in order;
 *   `mount <destination> <source>` for each mount of the spec.
 * Result: `{"gpu":false,"reason":...}` when the container asks for no GPU, else
 * `{"gpu":true,"devices":..,"source":..,"legacy":..,"caps":[..],"requires":[..],
 *   "migConfig":..,"migMonitor":..,"imex":[..]}`.
 * Failures: `bad-capability`, `bad-cuda-version`, `mig-unprivileged`, `bad-imex-channel`,
 * `cdi-in-legacy` (a CDI device asked of the legacy hook), `bad-request` (a malformed line).
 */
export function request(input: string): Outcome {
  const ls = lines(input);
  let acceptEnvUnpriv = true;
  let acceptMounts = false;
  let disableRequire = false;
  let swarm = new Array<string>();
  let supported = "";
  let privileged = false;
  const keys = new Array<string>();
  const values = new Array<string>();
  const mountIds = new Array<string>();
  for (let i = 0; i < ls.length; i++) {
    const l = ls[i];
    const tab = l.indexOf("\t");
    const kind = tab < 0 ? l : l.substring(0, tab);
    const rest = tab < 0 ? "" : l.substring(tab + 1);
    if (kind == "env") {
      const eq = rest.indexOf("=");
      if (eq <= 0) continue; // an env entry without a name is not a variable
      keys.push(rest.substring(0, eq));
      values.push(rest.substring(eq + 1));
    } else if (kind == "mount") {
      const t = rest.indexOf("\t");
      if (t < 0) return Outcome.failure("bad-request", "invalid mount line `" + l + "`");
      const dest = rest.substring(0, t);
      const src = rest.substring(t + 1);
      if (src == "/dev/null" && dest.startsWith(VOLUME_PREFIX) && dest.length > VOLUME_PREFIX.length) {
        mountIds.push(dest.substring(VOLUME_PREFIX.length));
      }
    } else if (kind == "privileged") {
      privileged = rest == "true";
    } else if (kind == "policy") {
      const t = rest.indexOf("\t");
      const name = t < 0 ? rest : rest.substring(0, t);
      const v = t < 0 ? "" : rest.substring(t + 1);
      if (name == "accept-envvar-unprivileged") acceptEnvUnpriv = v == "true";
      else if (name == "accept-volume-mounts") acceptMounts = v == "true";
      else if (name == "disable-require") disableRequire = v == "true";
      else if (name == "swarm-resource") swarm = v.length > 0 ? v.split(",") : new Array<string>();
      else if (name == "supported-capabilities") supported = v;
      else return Outcome.failure("bad-request", "unknown policy `" + name + "`");
    } else if (l.length > 0) {
      return Outcome.failure("bad-request", "invalid request line `" + l + "`");
    }
  }

  const cudaVersion = lookup(keys, values, "CUDA_VERSION");
  const legacy = cudaVersion != null;

  // Devices: volume mounts (when accepted), else swarm resources, else NVIDIA_VISIBLE_DEVICES.
  let devices: string | null = null;
  let source = "";
  const imex = new Array<string>();
  if (acceptMounts && mountIds.length > 0) {
    const ids = new Array<string>();
    for (let i = 0; i < mountIds.length; i++) {
      const id = mountIds[i];
      if (id.startsWith("cdi/")) return Outcome.failure("cdi-in-legacy", "CDI device `" + id.substring(4) + "` requested through a volume mount: use nvidia-container-runtime in cdi mode");
      if (id.startsWith("imex/")) imex.push(id.substring(5));
      else ids.push(id);
    }
    devices = ids.join(",");
    source = "volume-mounts";
  } else {
    for (let i = 0; i < swarm.length && devices == null; i++) {
      const v = lookup(keys, values, swarm[i].trim());
      if (v != null) {
        devices = v;
        source = swarm[i].trim();
      }
    }
    if (devices == null) {
      devices = lookup(keys, values, "NVIDIA_VISIBLE_DEVICES");
      source = "NVIDIA_VISIBLE_DEVICES";
    }
    if (devices == null && legacy) {
      devices = "all";
      source = "CUDA_VERSION";
    }
    if (devices != null && !privileged && !acceptEnvUnpriv) {
      return Outcome.success('{"gpu":false,"reason":' + q("devices from " + source + " ignored in an unprivileged container (accept-nvidia-visible-devices-envvar-when-unprivileged = false)") + "}");
    }
  }
  if (devices == null) return Outcome.success('{"gpu":false,"reason":"no device requested"}');
  const dev = changetype<string>(devices);
  if (isVoid(dev) && imex.length == 0) return Outcome.success('{"gpu":false,"reason":' + q("no device requested (" + source + "=" + dev + ")") + "}");

  // Capabilities.
  const capEnv = lookup(keys, values, "NVIDIA_DRIVER_CAPABILITIES");
  let capList = capEnv == null ? (legacy ? "all" : "") : changetype<string>(capEnv);
  const caps = capabilities(capList + "\n" + supported);
  if (!caps.ok) return caps;

  // Requirements, sorted by variable name so that the check order never varies.
  const requires = new Array<string>();
  const disable = lookup(keys, values, "NVIDIA_DISABLE_REQUIRE");
  if (!disableRequire && !(disable != null && truthy(changetype<string>(disable).trim()))) {
    const names = new Array<string>();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i];
      if (k.startsWith("NVIDIA_REQUIRE_") && !k.startsWith("NVIDIA_REQUIRE_JETPACK") && !names.includes(k)) names.push(k);
    }
    names.sort();
    for (let i = 0; i < names.length; i++) {
      const v = changetype<string>(lookup(keys, values, names[i])).trim();
      if (v.length > 0) requires.push(v);
    }
    if (legacy && lookup(keys, values, "NVIDIA_REQUIRE_CUDA") == null) {
      const mm = cudaMajorMinor(changetype<string>(cudaVersion));
      if (mm.length == 0) return Outcome.failure("bad-cuda-version", "invalid CUDA_VERSION `" + changetype<string>(cudaVersion) + "`");
      requires.push("cuda>=" + mm);
    }
  }

  // MIG configuration and monitoring: privileged containers only.
  let migConfig = "";
  let migMonitor = "";
  const mc = lookup(keys, values, "NVIDIA_MIG_CONFIG_DEVICES");
  const mm = lookup(keys, values, "NVIDIA_MIG_MONITOR_DEVICES");
  if (mc != null && changetype<string>(mc).length > 0) {
    if (!privileged) return Outcome.failure("mig-unprivileged", "cannot set NVIDIA_MIG_CONFIG_DEVICES in an unprivileged container");
    migConfig = changetype<string>(mc).trim();
  }
  if (mm != null && changetype<string>(mm).length > 0) {
    if (!privileged) return Outcome.failure("mig-unprivileged", "cannot set NVIDIA_MIG_MONITOR_DEVICES in an unprivileged container");
    migMonitor = changetype<string>(mm).trim();
  }

  const ch = lookup(keys, values, "NVIDIA_IMEX_CHANNELS");
  if (ch != null) {
    const items = changetype<string>(ch).split(",");
    for (let i = 0; i < items.length; i++) {
      const t = items[i].trim();
      if (t.length > 0 && !imex.includes(t)) imex.push(t);
    }
  }
  for (let i = 0; i < imex.length; i++) {
    if (!allDigits(imex[i]) && imex[i] != "all") return Outcome.failure("bad-imex-channel", "invalid IMEX channel `" + imex[i] + "`");
  }

  const capsJson = caps.value.substring(8, caps.value.length - 1); // {"caps":[...]} -> [...]
  return Outcome.success(
    '{"gpu":true,"devices":' + q(dev) + ',"source":' + q(source) + ',"legacy":' + (legacy ? "true" : "false") +
      ',"caps":' + capsJson + ',"requires":' + quoteAll(requires) + ',"migConfig":' + q(migConfig) +
      ',"migMonitor":' + q(migMonitor) + ',"imex":' + quoteAll(imex) + "}",
  );
}

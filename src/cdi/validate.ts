// A CDI spec checked as the CDI library checks it before use: the schema's required fields and
// types (through the spec parser, src/cdi/spec.ts), a known cdiVersion, the kind's and the device
// names' grammar, no device named twice, absolute container paths. What a spec's host side names
// (the files it mounts, the driver version it was made for) is read here too, for `doctor`.
import { fromFile } from "./spec";

/** The spec versions the CDI library knows. */
export const CDI_VERSIONS = ["0.1.0", "0.2.0", "0.3.0", "0.4.0", "0.5.0", "0.6.0", "0.7.0", "0.8.0", "1.0.0", "1.1.0"];

// container-device-interface's parser: a vendor and a class start with a letter, end with a
// letter or digit, and hold letters, digits, `_`, `.`, `-`; a device name starts and ends with a
// letter or digit and may hold `_`, `.`, `-`, `:` between.
const VENDOR = /^[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const CLASS = /^[A-Za-z](?:[A-Za-z0-9_.-]*[A-Za-z0-9])?$/;
const DEVICE = /^[A-Za-z0-9](?:[A-Za-z0-9_.:-]*[A-Za-z0-9])?$/;

type Any = Record<string, any>;

/** A list as a spec holds it; anything else (a spec too broken to parse) is none. */
const list = (v: unknown): any[] => (Array.isArray(v) ? v : []);

/** The problems of a parsed spec file, first the structural one (if any), each naming its field. */
export function specProblems(raw: unknown): string[] {
  try {
    fromFile(raw);
  } catch (e) {
    return [(e as Error).message];
  }
  const s = raw as Any;
  const out: string[] = [];
  if (!CDI_VERSIONS.includes(s.cdiVersion)) out.push(`cdiVersion \`${s.cdiVersion}\` is not a CDI version (${CDI_VERSIONS.at(-1)} is the newest)`);
  const [vendor, klass, ...rest] = String(s.kind).split("/");
  if (rest.length || !VENDOR.test(vendor ?? "") || !CLASS.test(klass ?? "")) out.push(`kind \`${s.kind}\` is not \`vendor/class\` (e.g. nvidia.com/gpu)`);
  if (!Array.isArray(s.devices)) out.push("devices is missing");
  for (const [i, d] of list(s.devices).entries()) {
    if (!DEVICE.test(d.name)) out.push(`devices[${i}].name \`${d.name}\` is not a valid device name`);
    if (d.containerEdits === undefined || d.containerEdits === null) out.push(`devices[${i}].containerEdits is missing`);
  }
  const edits: [string, Any | undefined][] = [["containerEdits", s.containerEdits], ...list(s.devices).map((d: Any, i: number): [string, Any] => [`devices[${i}].containerEdits`, d.containerEdits])];
  for (const [where, e] of edits) {
    for (const [i, n] of list(e?.deviceNodes).entries()) if (!String(n.path).startsWith("/")) out.push(`${where}.deviceNodes[${i}].path \`${n.path}\` is not absolute`);
    for (const [i, m] of list(e?.mounts).entries()) if (!String(m.containerPath).startsWith("/")) out.push(`${where}.mounts[${i}].containerPath \`${m.containerPath}\` is not absolute`);
  }
  return out;
}

/** The spec's edits: its common ones, then each device's. */
const editsOf = (s: Any | undefined): (Any | undefined)[] => [s?.containerEdits, ...list(s?.devices).map((d: Any) => d?.containerEdits)];

/** The host paths a spec uses: what it mounts, the nodes it names, the hooks it runs. */
export function specHostPaths(raw: unknown): string[] {
  const s = raw as Any;
  const out = new Set<string>();
  for (const e of editsOf(s)) {
    for (const m of list(e?.mounts)) if (typeof m?.hostPath === "string") out.add(m.hostPath);
    for (const n of list(e?.deviceNodes)) if (typeof (n?.hostPath ?? n?.path) === "string") out.add(n.hostPath ?? n.path);
    for (const h of list(e?.hooks)) if (typeof h?.path === "string") out.add(h.path);
  }
  return [...out];
}

// A driver library or firmware directory with the driver's version in its name (the EGL
// platform libraries, libnvidia-egl-gbm.so.1.1.1, keep their own short versions: not matched).
const VERSIONED = [/\/lib(?:cuda|nvidia-[a-z0-9-]+|nvcuvid|nvoptix|GLX_nvidia|EGL_nvidia)\.so\.(\d{3,}\.\d+(?:\.\d+)?)$/, /\/firmware\/nvidia\/(\d{3,}\.\d+(?:\.\d+)?)\//];

/** The driver versions a spec was made for: those in its libraries', firmware's and hooks' paths. */
export function specDriverVersions(raw: unknown): string[] {
  const s = raw as Any;
  const found = new Set<string>();
  const look = (p: unknown) => {
    if (typeof p !== "string") return;
    for (const re of VERSIONED) {
      const m = re.exec(p);
      if (m) found.add(m[1]);
    }
  };
  for (const p of specHostPaths(raw)) look(p);
  // create-symlinks --link libcuda.so.550.54.14::/usr/lib/.../libcuda.so.1
  for (const e of editsOf(s)) for (const h of list(e?.hooks)) for (const a of list(h?.args)) for (const part of String(a).split("::")) look(part.startsWith("/") ? part : `/${part}`);
  return [...found].sort();
}

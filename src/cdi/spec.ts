// The Container Device Interface spec format (../shared/schemas/cdi): the JSON/YAML shape of a
// spec file, and its conversion to and from the core's contract. Format only, no decisions.
import type { CdiDeviceNode, CdiEdits, CdiHook, CdiMount, CdiSpec } from "../core";

/** A spec as its file holds it. */
export interface CdiFile {
  cdiVersion: string;
  kind: string;
  annotations?: Record<string, string>;
  devices: { name: string; annotations?: Record<string, string>; containerEdits: FileEdits }[];
  containerEdits?: FileEdits;
}

export interface FileEdits {
  env?: string[];
  deviceNodes?: { path: string; hostPath?: string; type?: string; major?: number; minor?: number; fileMode?: number; permissions?: string; uid?: number; gid?: number }[];
  mounts?: { hostPath: string; containerPath: string; type?: string; options?: string[] }[];
  hooks?: { hookName: string; path: string; args?: string[]; env?: string[]; timeout?: number }[];
  additionalGids?: number[];
}

const defined = <T extends object>(o: T): T => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

/** Edits as a file holds them: empty lists left out, as the reference writes them (omitempty). */
function editsOut(e: CdiEdits): FileEdits {
  const out: FileEdits = {};
  if (e.env.length) out.env = e.env;
  if (e.deviceNodes.length) {
    out.deviceNodes = e.deviceNodes.map((n) =>
      defined({ path: n.path, hostPath: n.hostPath, type: n.kind, major: n.major, minor: n.minor, fileMode: n.fileMode, permissions: n.permissions, uid: n.uid, gid: n.gid }),
    );
  }
  if (e.mounts.length) out.mounts = e.mounts.map((m) => defined({ hostPath: m.hostPath, containerPath: m.containerPath, type: m.kind, options: m.options }));
  if (e.hooks.length) out.hooks = e.hooks.map((h) => defined({ hookName: h.hookName, path: h.path, args: h.args, env: h.env, timeout: h.timeout }));
  if (e.additionalGids.length) out.additionalGids = e.additionalGids;
  return out;
}

/** The spec as its file holds it. */
export function toFile(s: CdiSpec): CdiFile {
  return {
    cdiVersion: s.version,
    kind: s.kind,
    devices: s.devices.map((d) => ({ name: d.name, containerEdits: editsOut(d.edits) })),
    containerEdits: editsOut(s.edits),
  };
}

class ShapeError extends Error {}

const str = (v: unknown, where: string): string => {
  if (typeof v !== "string") throw new ShapeError(`${where} must be a string`);
  return v;
};
const optStr = (v: unknown, where: string) => (v === undefined || v === null ? undefined : str(v, where));
const optNum = (v: unknown, where: string) => {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ShapeError(`${where} must be a number`);
  return v;
};
const strs = (v: unknown, where: string): string[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${where} must be a list`);
  return v.map((x, i) => str(x, `${where}[${i}]`));
};
const list = (v: unknown, where: string): any[] => {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ShapeError(`${where} must be a list`);
  return v;
};
const object = (v: unknown, where: string): any => {
  if (typeof v !== "object" || v === null || Array.isArray(v)) throw new ShapeError(`${where} must be a mapping`);
  return v;
};

function editsIn(v: unknown, where: string): CdiEdits {
  if (v === undefined || v === null) return { env: [], deviceNodes: [], mounts: [], hooks: [], additionalGids: [] };
  const e = object(v, where);
  return {
    env: strs(e.env, `${where}.env`),
    deviceNodes: list(e.deviceNodes, `${where}.deviceNodes`).map((n, i): CdiDeviceNode => {
      const w = `${where}.deviceNodes[${i}]`;
      const o = object(n, w);
      return {
        path: str(o.path, `${w}.path`),
        hostPath: optStr(o.hostPath, `${w}.hostPath`),
        kind: optStr(o.type, `${w}.type`),
        major: optNum(o.major, `${w}.major`),
        minor: optNum(o.minor, `${w}.minor`),
        fileMode: optNum(o.fileMode, `${w}.fileMode`),
        permissions: optStr(o.permissions, `${w}.permissions`),
        uid: optNum(o.uid, `${w}.uid`),
        gid: optNum(o.gid, `${w}.gid`),
      };
    }),
    mounts: list(e.mounts, `${where}.mounts`).map((m, i): CdiMount => {
      const w = `${where}.mounts[${i}]`;
      const o = object(m, w);
      return { hostPath: str(o.hostPath, `${w}.hostPath`), containerPath: str(o.containerPath, `${w}.containerPath`), kind: optStr(o.type, `${w}.type`), options: strs(o.options, `${w}.options`) };
    }),
    hooks: list(e.hooks, `${where}.hooks`).map((h, i): CdiHook => {
      const w = `${where}.hooks[${i}]`;
      const o = object(h, w);
      return { hookName: str(o.hookName, `${w}.hookName`), path: str(o.path, `${w}.path`), args: strs(o.args, `${w}.args`), env: strs(o.env, `${w}.env`), timeout: optNum(o.timeout, `${w}.timeout`) };
    }),
    additionalGids: list(e.additionalGids, `${where}.additionalGids`).map((g, i) => optNum(g, `${where}.additionalGids[${i}]`)!),
  };
}

/** A spec file's content in the core's terms; throws naming the first malformed field. */
export function fromFile(v: unknown): CdiSpec {
  try {
    const o = object(v, "the spec");
    const names = new Set<string>();
    return {
      version: str(o.cdiVersion, "cdiVersion"),
      kind: str(o.kind, "kind"),
      devices: list(o.devices, "devices").map((d, i) => {
        const dd = object(d, `devices[${i}]`);
        const name = str(dd.name, `devices[${i}].name`);
        // As CDI's own validation: a name given twice makes the spec ambiguous, and invalid.
        if (names.has(name)) throw new ShapeError(`devices[${i}]: device \`${name}\` defined twice`);
        names.add(name);
        return { name, edits: editsIn(dd.containerEdits, `devices[${i}].containerEdits`) };
      }),
      edits: editsIn(o.containerEdits, "containerEdits"),
    };
  } catch (e) {
    if (e instanceof ShapeError) throw new Error(e.message);
    throw e;
  }
}

// The Container Device Interface spec (../shared/schemas/cdi): the parts nvct reads and writes.

export interface CdiDeviceNode {
  path: string;
  hostPath?: string;
  type?: string;
  major?: number;
  minor?: number;
  fileMode?: number;
  permissions?: string;
  uid?: number;
  gid?: number;
}

export interface CdiMount {
  hostPath: string;
  containerPath: string;
  type?: string;
  options?: string[];
}

export interface CdiHook {
  hookName: string;
  path: string;
  args?: string[];
  env?: string[];
  timeout?: number;
}

export interface ContainerEdits {
  env?: string[];
  deviceNodes?: CdiDeviceNode[];
  mounts?: CdiMount[];
  hooks?: CdiHook[];
  additionalGids?: number[];
}

export interface CdiSpec {
  cdiVersion: string;
  kind: string;
  annotations?: Record<string, string>;
  devices: { name: string; annotations?: Record<string, string>; containerEdits: ContainerEdits }[];
  containerEdits?: ContainerEdits;
}

/** `vendor/class=name` split, or null when the name is not a qualified CDI device name. */
export function parseQualified(name: string): { kind: string; device: string } | null {
  const m = /^([a-z0-9][a-z0-9.-]*\/[a-zA-Z0-9][a-zA-Z0-9._-]*)=([a-zA-Z0-9][a-zA-Z0-9._:-]*)$/.exec(name);
  return m ? { kind: m[1], device: m[2] } : null;
}

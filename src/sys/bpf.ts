// bpf(2) for cgroup device programs: the union bpf_attr of each command, packed here, issued
// through Libc.bpf. Knows the kernel's structures, not what nvct allows.
import { ptr } from "bun:ffi";
import { NvctError } from "../errors";
import type { Libc } from "./libc";

const BPF = { PROG_LOAD: 5, PROG_ATTACH: 8, PROG_GET_FD_BY_ID: 13, OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16 };
const PROG_TYPE_CGROUP_DEVICE = 15;
const ATTACH_CGROUP_DEVICE = 6;
export const F_ALLOW_MULTI = 2;
export const F_REPLACE = 4;
const F_QUERY_EFFECTIVE = 1;

function attr(size = 128): [Uint8Array, DataView] {
  const a = new Uint8Array(size);
  return [a, new DataView(a.buffer)];
}

// Buffers whose addresses go into a bpf_attr stay referenced until the process ends: ptr()
// keeps only a number, and a collection before the call would hand the kernel freed memory.
const held: Uint8Array[] = [];
const addr = (b: Uint8Array) => (held.push(b), BigInt(ptr(b)));

/** Loads a cgroup device program; the verifier's log is in the error when it refuses. */
export function loadDeviceProgram(sys: Libc, insns: Uint8Array): number {
  const license = Buffer.from("Apache-2.0\0");
  const load = (log?: Uint8Array) => {
    const [a, v] = attr();
    v.setUint32(0, PROG_TYPE_CGROUP_DEVICE, true);
    v.setUint32(4, insns.length / 8, true);
    v.setBigUint64(8, addr(insns), true);
    v.setBigUint64(16, addr(license), true);
    if (log) {
      v.setUint32(24, 1, true);
      v.setUint32(28, log.length, true);
      v.setBigUint64(32, addr(log), true);
    }
    v.setUint32(68, ATTACH_CGROUP_DEVICE, true);
    return sys.bpf(BPF.PROG_LOAD, a, "load device program");
  };
  try {
    return load();
  } catch (e) {
    const log = new Uint8Array(1 << 16);
    try {
      return load(log);
    } catch {
      const text = Buffer.from(log).toString("utf8").replace(/\0.*$/s, "").trim();
      throw new NvctError("cgroup", `${(e as Error).message}${text ? `: ${text.split("\n").slice(-3).join("; ")}` : ""}`, e);
    }
  }
}

/** Attaches a device program to a cgroup (fd); with replaceFd, in place of that program. */
export function attachDeviceProgram(sys: Libc, cgroupFd: number, progFd: number, flags: number, replaceFd?: number): void {
  const [a, v] = attr();
  v.setUint32(0, cgroupFd, true);
  v.setUint32(4, progFd, true);
  v.setUint32(8, ATTACH_CGROUP_DEVICE, true);
  v.setUint32(12, flags | (replaceFd !== undefined ? F_REPLACE : 0), true);
  if (replaceFd !== undefined) v.setUint32(16, replaceFd, true);
  sys.bpf(BPF.PROG_ATTACH, a, "attach device program");
}

/** The device programs attached to a cgroup (ids, attach flags); effective: its ancestors' too. */
export function queryDevicePrograms(sys: Libc, cgroupFd: number, effective = false): { ids: number[]; flags: number } {
  const ids = new Uint32Array(64);
  const [a, v] = attr();
  v.setUint32(0, cgroupFd, true);
  v.setUint32(4, ATTACH_CGROUP_DEVICE, true);
  if (effective) v.setUint32(8, F_QUERY_EFFECTIVE, true);
  v.setBigUint64(16, addr(new Uint8Array(ids.buffer)), true);
  v.setUint32(24, ids.length, true);
  sys.bpf(BPF.PROG_QUERY, a, "query device programs");
  return { ids: [...ids.subarray(0, v.getUint32(24, true))], flags: v.getUint32(12, true) };
}

/** An fd for a program id. */
export function programById(sys: Libc, id: number): number {
  const [a, v] = attr();
  v.setUint32(0, id, true);
  return sys.bpf(BPF.PROG_GET_FD_BY_ID, a, `device program ${id}`);
}

/** A loaded program's (translated) instructions. */
export function programInstructions(sys: Libc, progFd: number): Uint8Array {
  const info = new Uint8Array(256);
  const [a, v] = attr();
  v.setUint32(0, progFd, true);
  v.setUint32(4, info.length, true);
  v.setBigUint64(8, addr(info), true);
  sys.bpf(BPF.OBJ_GET_INFO_BY_FD, a, "read device program");
  const len = new DataView(info.buffer).getUint32(20, true); // xlated_prog_len
  const insns = new Uint8Array(len);
  const info2 = new Uint8Array(256);
  const iv = new DataView(info2.buffer);
  iv.setUint32(20, len, true);
  iv.setBigUint64(32, addr(insns), true); // xlated_prog_insns
  const [a2, v2] = attr();
  v2.setUint32(0, progFd, true);
  v2.setUint32(4, info2.length, true);
  v2.setBigUint64(8, addr(info2), true);
  sys.bpf(BPF.OBJ_GET_INFO_BY_FD, a2, "read device program");
  if (len === 0 || iv.getBigUint64(32, true) === 0n) {
    throw new NvctError("cgroup", "the kernel does not show the device program's instructions (kernel.kptr_restrict or bpf_jit_harden?)");
  }
  return insns;
}

// Device access on cgroup v2: the container's cgroup carries an eBPF device program (runc's).
// Attaching a second program cannot widen it (every attached program must allow an access), so
// each attached program is replaced by one that first allows nvct's nodes and then runs the
// original's instructions unchanged.
import { ptr } from "bun:ffi";
import { NvctError } from "../errors";
import { O_DIRECTORY, O_RDONLY, type Libc } from "../sys/libc";

export interface DeviceRule {
  /** c: character device, b: block device */
  type: "c" | "b";
  major: number;
  minor: number;
  /** any of r, w, m */
  access: string;
}

const BPF = { PROG_LOAD: 5, PROG_ATTACH: 8, PROG_GET_FD_BY_ID: 13, OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16 };
const PROG_TYPE_CGROUP_DEVICE = 15;
const ATTACH_CGROUP_DEVICE = 6;
const F_ALLOW_MULTI = 2;
const F_REPLACE = 4;
const DEV_TYPE: Record<string, number> = { b: 1, c: 2 };
const ACCESS: Record<string, number> = { m: 1, r: 2, w: 4 };

/** One eBPF instruction (struct bpf_insn: code, dst:4|src:4, off, imm). */
function insn(code: number, dst: number, src: number, off: number, imm: number): number[] {
  const b = new DataView(new ArrayBuffer(8));
  b.setUint8(0, code);
  b.setUint8(1, (src << 4) | dst);
  b.setInt16(2, off, true);
  b.setInt32(4, imm, true);
  return [...new Uint8Array(b.buffer)];
}

const LDX_W = 0x61; // r_dst = *(u32 *)(r_src + off)
const AND_K = 0x57; // r_dst &= imm (64-bit)
const RSH_K = 0x77; // r_dst >>= imm
const MOV_K = 0xb7; // r_dst = imm
const MOV_X = 0xbf; // r_dst = r_src
const JNE_K = 0x55; // if r_dst != imm: pc += off
const EXIT = 0x95;

/**
 * The prologue: for each rule, `return 1` when (type, major, minor) match and the access asked
 * is within the rule's; otherwise fall through to what follows. R1 (the context, struct
 * bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }) is left untouched for it.
 */
export function allowPrologue(rules: DeviceRule[]): Uint8Array {
  const out: number[] = [];
  out.push(...insn(LDX_W, 2, 1, 0, 0), ...insn(AND_K, 2, 0, 0, 0xffff)); // r2 = device type
  out.push(...insn(LDX_W, 3, 1, 0, 0), ...insn(RSH_K, 3, 0, 0, 16)); // r3 = access asked
  out.push(...insn(LDX_W, 4, 1, 4, 0), ...insn(LDX_W, 5, 1, 8, 0)); // r4 = major, r5 = minor
  for (const r of rules) {
    let allowed = 0;
    for (const a of r.access) {
      if (!(a in ACCESS)) throw new NvctError("cgroup", `invalid device access \`${r.access}\``);
      allowed |= ACCESS[a];
    }
    // 8 instructions per rule; each JNE jumps over the rest of its rule to the next one.
    out.push(...insn(JNE_K, 2, 0, 7, DEV_TYPE[r.type]));
    out.push(...insn(JNE_K, 4, 0, 6, r.major));
    out.push(...insn(JNE_K, 5, 0, 5, r.minor));
    out.push(...insn(MOV_X, 0, 3, 0, 0), ...insn(AND_K, 0, 0, 0, ~allowed));
    out.push(...insn(JNE_K, 0, 0, 2, 0));
    out.push(...insn(MOV_K, 0, 0, 0, 1), ...insn(EXIT, 0, 0, 0, 0));
  }
  return new Uint8Array(out);
}

/** A program that allows only `rules` and denies everything else (tests use it as "runc's"). */
export function denyAllBut(rules: DeviceRule[]): Uint8Array {
  const p = allowPrologue(rules);
  const tail = [...insn(MOV_K, 0, 0, 0, 0), ...insn(EXIT, 0, 0, 0, 0)];
  return new Uint8Array([...p, ...tail]);
}

function attr(size = 128): [Uint8Array, DataView] {
  const a = new Uint8Array(size);
  return [a, new DataView(a.buffer)];
}

// Buffers whose addresses go into a bpf_attr stay referenced until the process ends (see libc.ts).
const held: Uint8Array[] = [];
const addr = (b: Uint8Array) => (held.push(b), BigInt(ptr(b)));

/** Loads a cgroup device program; the verifier's log is in the error when it refuses. */
export function loadDeviceProgram(sys: Libc, insns: Uint8Array): number {
  const license = Buffer.from("Apache-2.0\0");
  const load = (logLevel: number, log?: Uint8Array) => {
    const [a, v] = attr();
    v.setUint32(0, PROG_TYPE_CGROUP_DEVICE, true);
    v.setUint32(4, insns.length / 8, true);
    v.setBigUint64(8, addr(insns), true);
    v.setBigUint64(16, addr(license), true);
    if (log) {
      v.setUint32(24, logLevel, true);
      v.setUint32(28, log.length, true);
      v.setBigUint64(32, addr(log), true);
    }
    v.setUint32(68, ATTACH_CGROUP_DEVICE, true);
    return sys.bpf(BPF.PROG_LOAD, a, "load device program");
  };
  try {
    return load(0);
  } catch (e) {
    const log = new Uint8Array(1 << 16);
    try {
      return load(1, log);
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

/**
 * The device programs attached to a cgroup: their ids and the flags they were attached with;
 * with `effective`, every program that applies to it, its ancestors' included.
 */
function query(sys: Libc, cgroupFd: number, effective = false): { ids: number[]; flags: number } {
  const ids = new Uint32Array(64);
  const [a, v] = attr();
  v.setUint32(0, cgroupFd, true);
  v.setUint32(4, ATTACH_CGROUP_DEVICE, true);
  if (effective) v.setUint32(8, 1, true); // BPF_F_QUERY_EFFECTIVE
  v.setBigUint64(16, addr(new Uint8Array(ids.buffer)), true);
  v.setUint32(24, ids.length, true);
  sys.bpf(BPF.PROG_QUERY, a, "query device programs");
  return { ids: [...ids.subarray(0, v.getUint32(24, true))], flags: v.getUint32(12, true) };
}

function instructions(sys: Libc, progFd: number): Uint8Array {
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

/**
 * Lets the cgroup at `dir` (a cgroup v2 directory) use the devices in `rules`, by replacing each
 * attached device program with prologue + original. Returns the undo (the originals back).
 * A cgroup without a device program restricts nothing, and is left alone.
 */
export function allowDevicesV2(sys: Libc, dir: string, rules: DeviceRule[], warn?: (m: string) => void): () => void {
  const cg = sys.open(dir, O_RDONLY | O_DIRECTORY);
  const undo: (() => void)[] = [];
  try {
    const { ids, flags } = query(sys, cg);
    // Programs on ancestor cgroups still decide too, and nvct does not touch those: say so.
    const all = query(sys, cg, true).ids.length;
    if (all > ids.length) warn?.(`${all - ids.length} device program(s) on ancestors of \`${dir}\` also apply and may deny the GPUs`);
    for (const id of ids) {
      const [a, v] = attr();
      v.setUint32(0, id, true);
      const old = sys.bpf(BPF.PROG_GET_FD_BY_ID, a, `device program ${id}`);
      const insns = instructions(sys, old);
      const prologue = allowPrologue(rules);
      const merged = new Uint8Array(prologue.length + insns.length);
      merged.set(prologue);
      merged.set(insns, prologue.length);
      const fresh = loadDeviceProgram(sys, merged);
      const multi = (flags & F_ALLOW_MULTI) !== 0;
      attachDeviceProgram(sys, cg, fresh, flags & ~F_REPLACE, multi ? old : undefined);
      undo.push(() => attachDeviceProgram(sys, cg, old, flags & ~F_REPLACE, multi ? fresh : undefined));
    }
  } catch (e) {
    for (const u of undo.reverse()) {
      try {
        u();
      } catch {}
    }
    sys.close(cg);
    throw new NvctError("cgroup", `failed to allow devices in cgroup \`${dir}\`: ${(e as Error).message}`, e);
  }
  return () => {
    for (const u of undo.reverse()) u();
  };
}

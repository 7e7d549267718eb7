// The eBPF device program of cgroup v2: a prologue that allows nvct's nodes, then falls through
// to the instructions that follow it (the container's own program, runc's).
import { Code, DeviceRule, Outcome, ok } from "../build/out/gen/types";
import { fail } from "./outcome";

const LDX_W: u8 = 0x61; // r_dst = *(u32 *)(r_src + off)
const AND_K: u8 = 0x57; // r_dst &= imm (64-bit)
const RSH_K: u8 = 0x77; // r_dst >>= imm
const MOV_K: u8 = 0xb7; // r_dst = imm
const MOV_X: u8 = 0xbf; // r_dst = r_src
const JNE_K: u8 = 0x55; // if r_dst != imm: pc += off
const EXIT: u8 = 0x95;

/** One instruction (struct bpf_insn: code, dst:4|src:4, off, imm), little-endian. */
function insn(out: Uint8Array, at: i32, code: u8, dst: u8, src: u8, off: i16, imm: i32): i32 {
  out[at] = code;
  out[at + 1] = (src << 4) | dst;
  store<i16>(out.dataStart + <usize>at + 2, off);
  store<i32>(out.dataStart + <usize>at + 4, imm);
  return at + 8;
}

function accessBits(access: string): i32 {
  let bits = 0;
  for (let i = 0; i < access.length; i++) {
    const c = access.charAt(i);
    if (c == "m") bits |= 1;
    else if (c == "r") bits |= 2;
    else if (c == "w") bits |= 4;
    else return -1;
  }
  return bits;
}

/**
 * prologue(rules). For each rule (kind c or b, major, minor, access a subset of rwm): `return 1`
 * when the device's type, major and minor match and the access asked is within the rule's;
 * otherwise fall through. R1 (struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; })
 * is left untouched for the instructions that follow. Failures: `bad-device-rule`.
 */
export function prologue(rules: DeviceRule[]): Outcome<Uint8Array> {
  const out = new Uint8Array(8 * (6 + 8 * rules.length));
  let at = 0;
  at = insn(out, at, LDX_W, 2, 1, 0, 0);
  at = insn(out, at, AND_K, 2, 0, 0, 0xffff); // r2 = device type
  at = insn(out, at, LDX_W, 3, 1, 0, 0);
  at = insn(out, at, RSH_K, 3, 0, 0, 16); // r3 = access asked
  at = insn(out, at, LDX_W, 4, 1, 4, 0); // r4 = major
  at = insn(out, at, LDX_W, 5, 1, 8, 0); // r5 = minor
  for (let i = 0; i < rules.length; i++) {
    const r = rules[i];
    const allowed = accessBits(r.access);
    if (allowed < 0 || (r.kind != "c" && r.kind != "b")) {
      return fail<Uint8Array>(Code.BadDeviceRule, "invalid device rule `" + r.kind + " " + r.major.toString() + ":" + r.minor.toString() + " " + r.access + "`");
    }
    // 8 instructions per rule; each JNE jumps over the rest of its rule to the next one.
    at = insn(out, at, JNE_K, 2, 0, 7, r.kind == "c" ? 2 : 1);
    at = insn(out, at, JNE_K, 4, 0, 6, <i32>r.major);
    at = insn(out, at, JNE_K, 5, 0, 5, <i32>r.minor);
    at = insn(out, at, MOV_X, 0, 3, 0, 0);
    at = insn(out, at, AND_K, 0, 0, 0, ~allowed);
    at = insn(out, at, JNE_K, 0, 0, 2, 0);
    at = insn(out, at, MOV_K, 0, 0, 0, 1);
    at = insn(out, at, EXIT, 0, 0, 0, 0);
  }
  return ok<Uint8Array>(out);
}

// The device cgroup's part of a plan. v1: rules written to devices.allow (denied again on undo).
// v2: attaching a second program cannot widen the first (every attached program must allow an
// access), so each program attached to the container's cgroup is replaced by the plan's prologue
// followed by the original's instructions, unchanged; undo puts the originals back.
import { NvctError } from "../errors";
import { attachDeviceProgram, F_ALLOW_MULTI, F_REPLACE, loadDeviceProgram, programById, programInstructions, queryDevicePrograms } from "../sys/bpf";
import { O_DIRECTORY, O_RDONLY, O_WRONLY, type Libc } from "../sys/libc";

/** Where the rules go: 1, the v1 devices controller (devices.allow); 2, the v2 cgroup's eBPF program. */
export interface DeviceCgroup {
  version: 1 | 2;
  dir: string;
}

/** The entries of a v1 devices.list (`c 195:* rwm`), or null when it cannot be read. */
function devicesList(sys: Libc, dir: string): string[][] | null {
  try {
    const fd = sys.open(`${dir}/devices.list`, O_RDONLY);
    try {
      const chunks: Uint8Array[] = [];
      for (let total = 0; total < 1 << 20; ) {
        const buf = new Uint8Array(16384);
        const n = sys.read(fd, buf, `${dir}/devices.list`);
        if (n <= 0) break;
        chunks.push(buf.subarray(0, n));
        total += n;
      }
      return Buffer.concat(chunks).toString().split("\n").map((l) => l.trim().split(/[ :]/)).filter((e) => e.length === 4 && /^[abc]$/.test(e[0]));
    } finally {
      sys.close(fd);
    }
  } catch {
    return null;
  }
}

/** Whether a devices.list entry grants all a rule (`c 195:255 rw`) asks. */
function grants(e: string[], rule: string): boolean {
  const [t, maj, min, acc] = rule.split(/[ :]/);
  return (e[0] === "a" || e[0] === t) && (e[1] === "*" || e[1] === maj) && (e[2] === "*" || e[2] === min) && [...acc].every((c) => e[3].includes(c));
}

/**
 * v1: writes each rule to devices.allow; returns the undo (those rules to devices.deny). A rule the
 * cgroup grants already is not written, so the undo never denies what was allowed before: a
 * cgroup that allows every device by default (`a *:* rwm`: runc's never are; the root cgroup,
 * where a process outside any container lives, is) is left alone, since its list hides what it
 * denies and a deny written there would take the devices from every cgroup below it.
 */
export function allowDevicesV1(sys: Libc, dir: string, rules: string[], log: (m: string) => void): () => void {
  const list = devicesList(sys, dir);
  if (list?.some((e) => e[0] === "a")) {
    log(`cgroup \`${dir}\` allows every device: no rule written`);
    return () => {};
  }
  const todo = list ? rules.filter((r) => !list.some((e) => grants(e, r))) : rules;
  // Both opened first: the undo writes through these, whatever namespace it runs in then.
  const allow = sys.open(`${dir}/devices.allow`, O_WRONLY);
  const deny = sys.open(`${dir}/devices.deny`, O_WRONLY);
  const done: string[] = [];
  const undo = () => {
    for (const r of done.reverse()) sys.write(deny, Buffer.from(r), `${dir}/devices.deny`);
    sys.close(allow);
    sys.close(deny);
  };
  try {
    for (const r of todo) {
      sys.write(allow, Buffer.from(r), `${dir}/devices.allow`);
      done.push(r);
      log(`cgroup allow ${r}`);
    }
  } catch (e) {
    undo();
    throw e;
  }
  return undo;
}

/**
 * v2: lets the cgroup at `dir` use the devices the prologue allows. A cgroup without a device
 * program restricts nothing and is left alone; programs on its ancestors still decide too, and
 * are reported, not touched. Returns the undo.
 */
export function allowDevicesV2(sys: Libc, dir: string, prologue: Uint8Array, warn?: (m: string) => void): () => void {
  const cg = sys.open(dir, O_RDONLY | O_DIRECTORY);
  const undo: (() => void)[] = [];
  const revert = () => {
    for (const u of undo.reverse()) u();
    sys.close(cg);
  };
  try {
    const { ids, flags } = queryDevicePrograms(sys, cg);
    const all = queryDevicePrograms(sys, cg, true).ids.length;
    if (all > ids.length) warn?.(`${all - ids.length} device program(s) on ancestors of \`${dir}\` also apply and may deny the GPUs`);
    for (const id of ids) {
      const old = programById(sys, id);
      const insns = programInstructions(sys, old);
      const merged = new Uint8Array(prologue.length + insns.length);
      merged.set(prologue);
      merged.set(insns, prologue.length);
      const fresh = loadDeviceProgram(sys, merged);
      const multi = (flags & F_ALLOW_MULTI) !== 0;
      attachDeviceProgram(sys, cg, fresh, flags & ~F_REPLACE, multi ? old : undefined);
      undo.push(() => attachDeviceProgram(sys, cg, old, flags & ~F_REPLACE, multi ? fresh : undefined));
    }
  } catch (e) {
    try {
      revert();
    } catch {}
    throw new NvctError("cgroup", `failed to allow devices in cgroup \`${dir}\`: ${(e as Error).message}`, e);
  }
  return revert;
}

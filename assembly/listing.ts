// What `nvidia-container-cli list` prints: the host paths of the same selection and discovery as
// the plan, in libnvidia-container's order.
import { Capability, Code, Failure, GpuFact, ListInput, Op, Outcome, ok } from "../build/out/gen/types";
import { failed, failure } from "./outcome";
import { binaries, Builder, Driver, firmware, gpusOf, ipcs, layoutOf, libraries, migKeys } from "./plan";
import { select } from "./devices";
import { CAPS_DIR, CTL, IMEX_DIR, MODESET, PROC, UVM, UVM_TOOLS } from "./vocabulary";
import { under } from "./text";
import { Injection } from "../build/out/gen/types";

function hosts(ops: Op[]): string[] {
  const out = new Array<string>();
  for (let i = 0; i < ops.length; i++) {
    const o = ops[i];
    if (o.bind !== null) out.push(changetype<Op>(o).bind!.host);
  }
  return out;
}

/**
 * listing(input). With devices: the control nodes (nvidiactl and nvidia-modeset always, the uvm
 * nodes when present), the selected GPUs' nodes, each selected MIG device's GI and CI access
 * files then their capability nodes (unless a MIG config or monitor list is asked), IMEX channel
 * nodes; with --mig-config/--mig-monitor `all` and devices selected: the config (monitor) file
 * and its node, then per MIG-capable GPU its capability directory, /dev/nvidia-caps and every
 * capability node mig-minors lists for it. Then binaries, libraries (64-bit, then 32-bit with
 * compat32), IPCs and firmware, as asked.
 * Failures: bad-device-id, unknown-device, bad-mig-devices, mig-capability.
 */
export function listing(input: ListInput): Outcome<string[]> {
  const o = input.options;
  const d = new Driver(input.driver);
  const inv = input.driver.inventory;
  const out = new Array<string>();
  const migOpts: string[] = [o.migConfig, o.migMonitor];
  const migNames: string[] = ["mig-config", "mig-monitor"];
  for (let i = 0; i < 2; i++) {
    if (migOpts[i].length > 0 && migOpts[i] != "all") return failed<string[]>(failure(Code.BadMigDevices, "invalid --" + migNames[i] + " `" + migOpts[i] + "`: only `all` is supported"));
  }
  const migAll = o.migConfig == "all" || o.migMonitor == "all";
  let used = new Array<i32>();
  if (o.devices !== null) {
    const s = select(changetype<string[]>(o.devices), inv);
    if (s.failure !== null) return failed<string[]>(changetype<Failure>(s.failure));
    const sel = s.value;
    used = gpusOf(sel);
    if (migAll && sel.migs.length > 0 && !changetype<string[]>(o.devices).includes("all")) {
      return failed<string[]>(failure(Code.BadMigDevices, "cannot list MIG config or monitor capabilities with specific MIG devices selected"));
    }
    out.push(CTL);
    if (d.node(UVM) !== null) out.push(d.node(UVM)!.path);
    if (d.node(UVM_TOOLS) !== null) out.push(d.node(UVM_TOOLS)!.path);
    out.push(d.host(MODESET));
    for (let i = 0; i < used.length; i++) out.push(d.host("/dev/nvidia" + inv.gpus[used[i]].minor.toString()));
    const dev = d.majors.has("nvidia-caps");
    if (!migAll) {
      for (let i = 0; i < sel.migs.length; i++) {
        const keys = migKeys(inv.gpus[sel.migs[i][0]], sel.migs[i][1]);
        for (let k = 0; k < keys.length; k++) out.push(PROC + "/capabilities/" + keys[k].replace("/gi", "/mig/gi"));
        if (!dev) continue;
        for (let k = 0; k < keys.length; k++) {
          if (!d.migMinors.has(keys[k])) return failed<string[]>(failure(Code.MigCapability, "no MIG capability `" + keys[k] + "` in /proc/driver/nvidia-caps/mig-minors"));
          out.push(d.host(CAPS_DIR + "/nvidia-cap" + d.migMinors.get(keys[k]).toString()));
        }
      }
    }
    for (let i = 0; i < o.imex.length; i++) out.push(d.host(IMEX_DIR + "/channel" + o.imex[i]));
    for (let m = 0; m < 2; m++) {
      if (migOpts[m] != "all" || used.length == 0) continue;
      const file = m == 0 ? "config" : "monitor";
      out.push(PROC + "/capabilities/mig/" + file);
      if (dev && d.migMinors.has(file)) out.push(d.host(CAPS_DIR + "/nvidia-cap" + d.migMinors.get(file).toString()));
      for (let i = 0; i < used.length; i++) {
        const g = inv.gpus[used[i]];
        if (!g.migCapable) continue;
        out.push(PROC + "/capabilities/gpu" + g.minor.toString());
        if (!dev) continue;
        out.push(d.host(CAPS_DIR));
        const keys = d.migMinors.keys();
        const prefix = "gpu" + g.minor.toString() + "/";
        for (let k = 0; k < keys.length; k++) if (keys[k].startsWith(prefix)) out.push(d.host(CAPS_DIR + "/nvidia-cap" + d.migMinors.get(keys[k]).toString()));
      }
    }
  }
  if (o.binaries) {
    const b = new Builder();
    binaries(d, b, [Capability.Utility, Capability.Compute]);
    const h = hosts(b.binds);
    for (let i = 0; i < h.length; i++) out.push(h[i]);
  }
  if (o.libraries) {
    const b64 = new Builder();
    libraries(d, b64, [Capability.Utility, Capability.Compute, Capability.Ngx, Capability.Video, Capability.Graphics], layoutOf(true, false, "x64"));
    const h = hosts(b64.binds);
    for (let i = 0; i < h.length; i++) out.push(h[i]);
    if (o.compat32) {
      const b32 = new Builder();
      libraries(d, b32, [Capability.Compat32, Capability.Utility, Capability.Compute, Capability.Ngx, Capability.Video, Capability.Graphics], layoutOf(true, false, "x64"));
      const h32 = hosts(b32.binds);
      for (let i = 0; i < h32.length; i++) if (!h.includes(h32[i])) out.push(h32[i]);
    }
  }
  if (o.ipcs) {
    const b = new Builder();
    const inj = new Injection();
    inj.noPersistenced = o.noPersistenced;
    inj.noFabricmanager = o.noFabricmanager;
    inj.mpsPipeDir = o.mpsPipeDir;
    ipcs(d, b, [Capability.Utility, Capability.Compute], inj);
    const h = hosts(b.binds);
    for (let i = 0; i < h.length; i++) out.push(h[i]);
  }
  if (o.firmware) {
    // As libnvidia-container lists them: where the driver looks for them, not where they resolve.
    const b = new Builder();
    firmware(d, b);
    for (let i = 0; i < b.binds.length; i++) out.push(under(input.driver.root, changetype<Op>(b.binds[i]).bind!.path));
  }
  return ok<string[]>(out);
}

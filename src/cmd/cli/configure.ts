// `nvidia-container-cli configure`: the same engine as the hook, driven by flags (containerd's
// `ctr run --gpus`, the reference's Go hook).
import { existsSync, statSync } from "node:fs";
import type { Capability } from "../../core";
import { requireCgroup } from "../../discover/container";
import { inject } from "../../engine/inject";
import { NvctError } from "../../errors";
import { sys } from "../../sys/libc";
import type { Command } from "../runner";
import { globals } from "./index";

const CAP_FLAGS: Capability[] = ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"];

export const CONFIGURE: Command = {
  name: "configure",
  description: "Configure a container with GPU support by exposing device drivers to it.",
  args: {
    pid: { type: "string", alias: "p", description: "Process ID of the container (required)" },
    device: { type: "string", alias: "d", description: "Device ids to make available (repeatable; e.g. all, 0,1, GPU-..., 0:1)" },
    require: { type: "string", alias: "r", description: "Check a requirement expression (repeatable)" },
    ldconfig: { type: "string", alias: "l", description: "Accepted for compatibility: nvct writes ld.so.cache itself and runs no ldconfig" },
    compute: { type: "boolean", alias: "c", description: "Enable compute capability" },
    utility: { type: "boolean", alias: "u", description: "Enable utility capability" },
    video: { type: "boolean", alias: "v", description: "Enable video capability" },
    graphics: { type: "boolean", alias: "g", description: "Enable graphics capability" },
    display: { type: "boolean", alias: "D", description: "Enable display capability" },
    ngx: { type: "boolean", alias: "n", description: "Enable ngx capability" },
    compat32: { type: "boolean", description: "Enable 32-bit compatibility" },
    "mig-config": { type: "string", description: "MIG devices whose config capability to make available (all)" },
    "mig-monitor": { type: "string", description: "MIG devices whose monitor capability to make available (all)" },
    "imex-channel": { type: "string", description: "IMEX channel id to make available (repeatable)" },
    "no-cgroups": { type: "boolean", description: "Do not write device cgroup rules" },
    "no-devbind": { type: "boolean", description: "Do not bind-mount device nodes" },
    "no-persistenced": { type: "boolean", description: "Do not make the persistenced socket available" },
    "no-fabricmanager": { type: "boolean", description: "Do not make the fabricmanager socket available" },
    "cuda-compat-mode": { type: "string", description: "mount | ldconfig | disabled (nvct never takes compat libraries from the image)" },
    "no-cntlibs": { type: "boolean", description: "Accepted for compatibility" },
    rootfs: { type: "positional", required: false, description: "The container's root filesystem (absolute)" },
  },
  repeatable: ["require", "imex-channel", "device"],
  run(c) {
    const a = c.args;
    const g = globals(c);
    const rootfs: string | undefined = a._[0];
    if (a._.length > 1) throw new NvctError("usage", `unexpected argument \`${a._[1]}\``);
    if (!rootfs) throw new NvctError("usage", "configure: missing ROOTFS");
    if (!rootfs.startsWith("/") || rootfs.replace(/\/+$/, "") === "") throw new NvctError("usage", `invalid rootfs \`${rootfs}\`: must be an absolute path other than /`);
    if (!existsSync(rootfs) || !statSync(rootfs).isDirectory()) throw new NvctError("usage", `invalid rootfs \`${rootfs}\`: no such directory`);
    const pidText = a.pid === undefined ? "" : String(a.pid);
    if (!/^[1-9]\d*$/.test(pidText)) throw new NvctError("usage", pidText ? `invalid pid \`${pidText}\`` : "configure: missing --pid");
    const pid = Number(pidText);
    if (!existsSync(`/proc/${pid}`)) throw new NvctError("usage", `invalid pid \`${pid}\`: no such process`);
    const ldconfig = a.ldconfig === undefined ? undefined : String(a.ldconfig);
    if (ldconfig !== undefined && !/^@?\//.test(ldconfig)) throw new NvctError("usage", `invalid ldconfig \`${ldconfig}\`: want an absolute path, or @ and a host path`);
    const compat = a["cuda-compat-mode"];
    if (compat !== undefined && !["mount", "ldconfig", "disabled"].includes(compat)) throw new NvctError("usage", `invalid cuda-compat-mode \`${compat}\`: want mount, ldconfig or disabled`);
    for (const k of ["mig-config", "mig-monitor"]) {
      if (a[k] !== undefined && a[k] !== "all") throw new NvctError("bad-mig-devices", `invalid --${k} \`${a[k]}\`: only \`all\` is supported`);
    }
    const imex = (a["imex-channel"] as string[]).flatMap((x) => x.split(",")).map((x) => x.trim()).filter(Boolean);
    for (const ch of imex) if (!/^\d+$/.test(ch) && ch !== "all") throw new NvctError("usage", `invalid --imex-channel \`${ch}\``);
    const devices = (a.device as string[]).flatMap((d) => d.split(",")).map((d) => d.trim()).filter(Boolean);
    const caps = CAP_FLAGS.filter((cap) => a[cap]);
    g.log.debug("configure", { rootfs, pid, devices, caps });
    inject(
      {
        pid,
        rootfs,
        injection: {
          devices,
          caps,
          requires: a.require as string[],
          migConfig: a["mig-config"] ?? "",
          migMonitor: a["mig-monitor"] ?? "",
          imex,
          noDevbind: !!a["no-devbind"],
          noPersistenced: !!a["no-persistenced"],
          noFabricmanager: !!a["no-fabricmanager"],
          mpsPipeDir: c.env.CUDA_MPS_PIPE_DIRECTORY ?? "",
        },
        driver: g.driver,
        cgroup: a["no-cgroups"] ? null : requireCgroup(pid),
        log: (m, d) => g.log.debug(m, d ?? ""),
      },
      sys,
    );
  },
};

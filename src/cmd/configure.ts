// `nvidia-container-cli configure`: the same engine as the hook, driven by flags (containerd's
// `ctr run --gpus`, the reference Go hook).
import { existsSync, statSync } from "node:fs";
import type { ConsolaInstance } from "consola/core";
import type { DriverRoot } from "../discover/files";
import { NvctError } from "../errors";
import { configure } from "../inject/engine";
import { sys } from "../sys/libc";
import { requireCgroup } from "./hook";

const CAP_FLAGS = ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"] as const;
const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)]);

/** Validates configure's flags (every bad value named), then injects. */
export function configureFromCli(a: Record<string, any>, g: { driver: DriverRoot }, _stdin: () => string, log: ConsolaInstance): void {
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
  if (compat !== undefined && !["mount", "ldconfig", "disabled"].includes(compat)) {
    throw new NvctError("usage", `invalid cuda-compat-mode \`${compat}\`: want mount, ldconfig or disabled`);
  }
  const caps = CAP_FLAGS.filter((c) => a[c]);
  const devices = list(a.device).join(",");
  log.debug("configure", { rootfs, pid, devices, caps });
  configure(
    {
      pid,
      rootfs,
      devices: devices || "none",
      caps,
      requires: list(a.require),
      migConfig: a["mig-config"] ?? "",
      migMonitor: a["mig-monitor"] ?? "",
      imex: list(a["imex-channel"]).flatMap((c) => c.split(",")).filter(Boolean),
      driver: g.driver,
      cgroup: a["no-cgroups"] ? null : requireCgroup(pid),
      env: process.env,
      skip: { devbind: !!a["no-devbind"], persistenced: !!a["no-persistenced"], fabricmanager: !!a["no-fabricmanager"] },
      log: (m, d) => log.debug(m, d ?? ""),
    },
    sys,
  );
}

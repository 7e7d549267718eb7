// The injection shared by the hook and `nvidia-container-cli configure`: the driver's facts and
// the container's, then the core's plan, then apply. The container gets its GPUs or nothing.
import type { Injection, Plan, Request } from "../core";
import { rootfsFacts, type DeviceCgroup } from "../discover/container";
import type { DriverRoot } from "../discover/driver";
import { apply } from "../inject/apply";
import type { Libc } from "../sys/libc";
import { mark } from "../trace";
import { factsAndFingerprint, refuseFailedGpus } from "./facts";
import { Decisions } from "./memo";

export interface InjectRequest {
  pid: number;
  rootfs: string;
  injection: Injection;
  driver: DriverRoot;
  /** The container's device cgroup; null = write no device rules (--no-cgroups). */
  cgroup: DeviceCgroup | null;
  /** The decision cache's directory ("" = none). */
  cacheDir?: string;
  log?: (msg: string, data?: unknown) => void;
}

/** The injection the hook derives from a request (the same fields, the hook's defaults). */
export function injectionOf(req: Request, mpsPipeDir: string): Injection {
  return {
    devices: req.devices, caps: req.caps, requires: req.requires, migConfig: req.migConfig, migMonitor: req.migMonitor, imex: req.imex,
    noDevbind: false, noPersistenced: false, noFabricmanager: false, mpsPipeDir,
  };
}

/** Discovers, plans and applies; returns the plan that was applied. */
export function inject(req: InjectRequest, sys: Libc, decisions = new Decisions(req.cacheDir ?? "", req.log)): Plan {
  const { facts, fingerprint } = factsAndFingerprint({ driver: req.driver, cacheDir: req.cacheDir, mpsPipeDir: req.injection.mpsPipeDir, log: req.log });
  const rootfs = rootfsFacts(req.rootfs);
  const cgroup = req.cgroup === null ? "none" : req.cgroup.version === 1 ? "v1" : "v2";
  const plan = decisions.plan(
    () => {
      const driver = facts();
      refuseFailedGpus(req.injection.devices, driver);
      return { injection: req.injection, driver, rootfs, cgroup, arch: process.arch };
    },
    fingerprint,
    [req.injection, rootfs, cgroup, process.arch],
  );
  mark("plan");
  for (const w of plan.warnings) req.log?.("warning", w);
  req.log?.("plan", plan.ops);
  apply(
    plan,
    {
      pid: req.pid,
      rootfs: req.rootfs,
      cgroup: req.cgroup,
      ldcache: (old, add, candidates) => decisions.ldcache(old, add, candidates, process.arch),
      log: req.log,
    },
    sys,
  );
  mark("applied");
  return plan;
}

// The injection shared by the hook and `nvidia-container-cli configure`: the driver's facts and
// the container's, then the core's plan, then apply. The container gets its GPUs or nothing.
import { core, type Injection, type Plan } from "../core";
import { rootfsFacts } from "../discover/container";
import type { DriverRoot } from "../discover/driver";
import { apply } from "../inject/apply";
import type { DeviceCgroup } from "../inject/cgroup";
import type { Libc } from "../sys/libc";
import { mark } from "../trace";
import { driverFacts } from "./facts";

export interface InjectRequest {
  pid: number;
  rootfs: string;
  injection: Injection;
  driver: DriverRoot;
  /** The container's device cgroup; null = write no device rules (--no-cgroups). */
  cgroup: DeviceCgroup | null;
  inventoryCache?: string;
  log?: (msg: string, data?: unknown) => void;
}

/** Discovers, plans and applies; returns the plan that was applied. */
export function inject(req: InjectRequest, sys: Libc): Plan {
  const c = core();
  const driver = driverFacts({ driver: req.driver, inventoryCache: req.inventoryCache, mpsPipeDir: req.injection.mpsPipeDir, log: req.log });
  const plan = c.plan({
    injection: req.injection,
    driver,
    rootfs: rootfsFacts(req.rootfs),
    cgroup: req.cgroup === null ? "none" : req.cgroup.version === 1 ? "v1" : "v2",
    arch: process.arch,
  });
  mark("plan");
  for (const w of plan.warnings) req.log?.("warning", w);
  req.log?.("plan", plan.ops);
  apply(
    plan,
    {
      pid: req.pid,
      rootfs: req.rootfs,
      cgroup: req.cgroup,
      ldcache: (old, add, candidates) => c.ldcachewrite({ old, add, candidates, arch: process.arch }),
      log: req.log,
    },
    sys,
  );
  mark("applied");
  return plan;
}

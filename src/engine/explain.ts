// What the hook would do for a container, without doing it: the request the core read (and
// where from), the GPUs selected and the plan (every node, mount, link and ld cache entry, with
// its flags), or the failure the hook would report. Reads only; the cache is neither read nor
// written, so the answer is computed from the host as it is now.
import type { Plan, Policy, Request } from "../core";
import { core, preloadCore } from "../core";
import { containerSpec, hostCgroupVersion, readSpec, rootfsFacts, rootfsOf } from "../discover/container";
import type { DriverRoot } from "../discover/driver";
import { asNvctError, classified } from "../errors";
import { factsAndFingerprint } from "./facts";
import { injectionOf } from "./inject";

export interface SelectedGpu {
  index: number;
  minor: number;
  uuid: string;
  busId: string;
  model: string;
}

export interface Explanation {
  bundle: string;
  rootfs: string;
  request: Request;
  /** The device cgroup the rules would go to: as runc decides it on this host, or none. */
  cgroup: "v1" | "v2" | "none";
  gpus: SelectedGpu[];
  plan: Plan | null;
  /** The message the hook would fail with (and its code), when it would. */
  failure: { code: string; message: string } | null;
}

export interface ExplainOptions {
  bundle: string;
  policy: Policy;
  driver: DriverRoot;
  noCgroups: boolean;
  mpsPipeDir: string;
}

export async function explain(o: ExplainOptions): Promise<Explanation> {
  const spec = readSpec(o.bundle);
  const rootfs = rootfsOf(o.bundle, spec);
  await preloadCore();
  const request = core().request(containerSpec(spec, o.policy), o.policy);
  const cgroup = o.noCgroups ? "none" : hostCgroupVersion() === 2 ? "v2" : "v1";
  const x: Explanation = { bundle: o.bundle, rootfs, request, cgroup, gpus: [], plan: null, failure: null };
  if (!request.gpu) return x;
  try {
    const facts = factsAndFingerprint({ driver: o.driver, cacheDir: "", mpsPipeDir: o.mpsPipeDir }).facts();
    x.plan = core().plan({ injection: injectionOf(request, o.mpsPipeDir), driver: facts, rootfs: rootfsFacts(rootfs), cgroup, arch: process.arch });
    x.gpus = x.plan.gpus.map((i) => facts.inventory.gpus[i]).map((g) => ({ index: g.index, minor: g.minor, uuid: g.uuid, busId: g.busId, model: g.model }));
  } catch (e) {
    const err = asNvctError(e);
    x.failure = { code: err.code, message: classified(err) };
  }
  return x;
}

// The core's decisions, memoized in the decision cache (src/cache/store.ts) under a key holding
// everything each depends on: the build, and the decision's whole input (the driver by its
// fingerprint). A container like an earlier one is then decided without compiling the core.
import { readEntry, readJson, writeEntry, type Kind } from "../cache/store";
import { core, preloadCore, type CdiEdits, type ContainerSpec, type HookInput, type LdEntry, type LibCandidate, type Op, type Plan, type PlanInput, type Policy, type Request } from "../core";
import { BUILD } from "../version";


/** JSON with byte arrays (the eBPF prologue) kept as base64. */
const toJson = (v: unknown) => JSON.stringify(v, (_k, x) => (x instanceof Uint8Array ? { $bytes: Buffer.from(x).toString("base64") } : x));
/**
 * The reverse, for the one place a decision holds bytes (a plan's cgroup prologue). A reviver
 * would be called back for every value of the plan, a few hundred calls on every start.
 */
const fromJson = (t: string) => {
  const v = JSON.parse(t);
  const p = v?.cgroup?.prologue;
  if (p && typeof p === "object" && typeof p.$bytes === "string") v.cgroup.prologue = new Uint8Array(Buffer.from(p.$bytes, "base64"));
  return v;
};

const isRequest = (v: any): v is Request => typeof v?.gpu === "boolean" && Array.isArray(v.devices) && Array.isArray(v.caps) && typeof v.mode === "string";
const isPlan = (v: any): v is Plan => Array.isArray(v?.ops) && Array.isArray(v.cgroup?.rules) && v.cgroup.prologue instanceof Uint8Array && Array.isArray(v.warnings);
const isOps = (v: any): v is Op[] => Array.isArray(v) && v.every((o) => typeof o?.tag === "string" && typeof o.val === "object" && o.val !== null);
const isEdits = (v: any): v is CdiEdits => Array.isArray(v?.env) && Array.isArray(v.deviceNodes) && Array.isArray(v.mounts) && Array.isArray(v.hooks);

/**
 * An ld.so.cache as the core's writer makes it: the new format's magic, its table inside the file,
 * every string offset inside the file. An entry holding anything else is not handed to a container.
 */
export function isLdCache(b: Uint8Array): boolean {
  const magic = "glibc-ld.so.cache1.1";
  if (b.length < 48 || Buffer.from(b.subarray(0, magic.length)).toString("latin1") !== magic) return false;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const n = v.getUint32(20, true);
  if (48 + n * 24 > b.length) return false;
  for (let i = 0; i < n; i++) if (v.getUint32(48 + i * 24 + 4, true) >= b.length || v.getUint32(48 + i * 24 + 8, true) >= b.length) return false;
  return true;
}

/**
 * A key for a large input: an image's ld.so.cache. The image chooses those bytes, so the digest is
 * one nobody can collide (SHA-256, 0.1 ms for 200 KB): with a fast hash, an image could be
 * made whose cache collides with another image's and so hand that image its ld.so.cache.
 */
const digest = (b: Uint8Array) => `${Bun.SHA256.hash(b, "hex")}:${b.length}`;

export class Decisions {
  constructor(
    private dir: string,
    private log?: (msg: string, data?: unknown) => void,
  ) {}

  private json<T>(kind: Kind, key: string, valid: (v: any) => v is T, compute: () => T): T {
    const k = `${BUILD}\n${key}`;
    const hit = this.dir ? readEntry(this.dir, kind, k) : null;
    if (hit) {
      try {
        const v = fromJson(Buffer.from(hit).toString());
        if (valid(v)) {
          this.log?.(`${kind} from cache`);
          return v;
        }
      } catch {}
    }
    const v = compute();
    if (this.dir) writeEntry(this.dir, kind, k, toJson(v), (m) => this.log?.(m));
    return v;
  }

  /** The core's reading of a container; the core is compiled only when no earlier one read the same. */
  async request(spec: ContainerSpec, policy: Policy): Promise<Request> {
    const k = `${BUILD}\n${JSON.stringify([spec, policy])}`;
    const hit = this.dir ? readJson(this.dir, "request", k, isRequest) : null;
    if (hit) return hit;
    await preloadCore();
    const r = core().request(spec, policy);
    if (this.dir) writeEntry(this.dir, "request", k, JSON.stringify(r), (m) => this.log?.(m));
    return r;
  }

  /** The plan for an input whose driver facts have this fingerprint. */
  plan(input: () => PlanInput, fingerprint: string, parts: unknown): Plan {
    return this.json("plan", `${fingerprint}\n${JSON.stringify(parts)}`, isPlan, () => core().plan(input()));
  }

  /** jit-cdi's edits for an input whose driver facts have this fingerprint. */
  jitedits(input: () => PlanInput, hookPath: string, fingerprint: string, parts: unknown): CdiEdits {
    return this.json("jit", `${fingerprint}\n${hookPath}\n${JSON.stringify(parts)}`, isEdits, () => core().jitedits(input(), hookPath));
  }

  /**
   * A CDI hook's operations (its arguments checked when the input carries nothing the hook
   * found). Each of a spec's five hooks is a process of its own: from the cache, none compiles
   * the core. An input with a `unique` name (a file the hook makes) is decided anew.
   */
  hook(input: HookInput): Op[] {
    if (input.unique) return core().cdihook(input);
    return this.json("hook", JSON.stringify(input), isOps, () => core().cdihook(input));
  }

  /** A container's new ld.so.cache: images repeat, and so do their caches. */
  ldcache(old: Uint8Array, add: LdEntry[], candidates: LibCandidate[], arch: string): Uint8Array {
    const key = `${BUILD}\n${digest(old)}\n${arch}\n${JSON.stringify(add)}\n${candidates.map((c) => `${c.path} ${Buffer.from(c.head).toString("hex")}`).join("\n")}`;
    const hit = this.dir ? readEntry(this.dir, "ldcache", key) : null;
    if (hit && isLdCache(hit)) return hit;
    const bytes = core().ldcachewrite({ old, add, candidates, arch });
    if (this.dir) writeEntry(this.dir, "ldcache", key, bytes, (m) => this.log?.(m));
    return bytes;
  }
}

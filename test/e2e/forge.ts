// forge.ts CACHE_DIR HOW: rewrites the decision cache's entries as an attacker with root, or a
// stale cache, would: the keys left whole (so that they are the keys nvct asks for), the values
// changed. Run inside the fake host by the cache tests' prepare scripts.
//   wrong-types            every JSON value replaced by one of the wrong shape, ldcache bytes by junk
//   facts-other-gpus       the driver facts name two GPUs of another host (the plans removed)
//   facts-swapped-minors   the driver facts give GPUs 0 and 1 each other's minor numbers
//   inventory-other-gpus   the inventory names another host's GPUs (facts, index, plans removed)
import { readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const [dir, how] = process.argv.slice(2);
const names = readdirSync(dir);
const entry = (kind: string) => names.filter((n) => n.startsWith(`${kind}-`)).map((n) => join(dir, n));
const remove = (...kinds: string[]) => kinds.flatMap(entry).forEach((f) => rmSync(f));

/** An entry's key (its first lines) and its JSON value (its last line). */
function split(file: string): { key: string; value: any } {
  const t = readFileSync(file, "utf8");
  const at = t.lastIndexOf("\n");
  return { key: t.slice(0, at + 1), value: JSON.parse(t.slice(at + 1)) };
}
const write = (file: string, key: string, value: unknown) => writeFileSync(file, key + JSON.stringify(value), { mode: 0o600 });

/** Two GPUs of another host: other UUIDs, minors and bus ids. */
function otherGpus(gpus: any[]): any[] {
  return [0, 1].map((i) => ({ ...gpus[0], index: i, minor: 4 + i, uuid: `GPU-deadbeef-0000-0000-0000-00000000000${i}`, busId: `00000000:8${i}:00.0` }));
}

switch (how) {
  case "wrong-types":
    for (const f of names.map((n) => join(dir, n))) {
      if (f.includes("/ldcache-")) {
        const t = readFileSync(f);
        const at = t.indexOf("glibc-ld.so.cache");
        writeFileSync(f, Buffer.concat([t.subarray(0, at), Buffer.from("not an ld.so.cache")]), { mode: 0o600 });
      } else write(f, split(f).key, { gpu: "yes", devices: 1, ops: {}, inventory: [], inputs: null, fingerprint: 7, driver: 1, gpus: "all" });
    }
    break;
  case "facts-other-gpus":
  case "facts-swapped-minors":
    for (const f of entry("facts")) {
      const { key, value } = split(f);
      const g = value.inventory.gpus;
      if (how === "facts-other-gpus") value.inventory.gpus = otherGpus(g);
      else [g[0].minor, g[1].minor] = [g[1].minor, g[0].minor];
      write(f, key, value);
    }
    remove("plan");
    break;
  case "inventory-other-gpus":
    for (const f of entry("inventory")) {
      const { key, value } = split(f);
      value.gpus = otherGpus(value.gpus);
      write(f, key, value);
    }
    remove("facts", "index", "plan");
    break;
  default:
    throw new Error(`forge.ts: unknown way \`${how}\``);
}

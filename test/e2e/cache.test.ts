// The decision cache is input, not truth: whatever is at its entries' paths (garbage, truncated
// JSON, empty files, links to host files, directories, FIFOs, files others wrote, right keys with
// wrong values, another host's GPUs under this driver's key) or at the directory's own path, a
// container gets exactly the GPUs it asked for, the hook never blocks, never writes through a
// link, and leaves a valid cache (or none). Many hooks writing one cold cache at once leave no
// torn or temporary file. Each case: a start that fills the cache, the cache made hostile at the
// entries' real names, then the start checked, then the next one (test/e2e/faults.sh).
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { FOUR_H100 } from "../fake/driver";
import { FAKEHOST, scene } from "../setup";
import { makeRootfs, parseReport, writeBundle } from "./bundle";
import { cacheProblems, caseBundle, GPU1, readCase, reportOf, runCases, SCRIPT } from "./faultkit";

const S = scene("cache", { h100: FOUR_H100 });
const FORGE = join(import.meta.dir, "forge.ts");

// The image's own ld.so.cache put back (the warm-up start replaced it): every entry is asked for again.
const RESTORE = `cp "$1/image.ld.so.cache" "$1/rootfs/etc/ld.so.cache"`;
const each = (body: string) => `${RESTORE}\nfor f in "$1"/cache/*; do ${body}; done`;
const forge = (how: string) => `${RESTORE}\n"${process.execPath}" "${FORGE}" "$1/cache" ${how}`;

const HOSTILE: [string, string][] = [
  ["garbage", each(`head -c 300 /dev/urandom >"$f"`)],
  ["truncated JSON, the key whole", each(`truncate -s -9 "$f"`)],
  ["empty files", each(`: >"$f"`)],
  ["symlinks to a host file", each(`rm "$f"; ln -s "$1/victim" "$f"`)],
  ["symlinks to host files holding the valid entries", each(`mv "$f" "$1/victimdir/"; ln -s "$1/victimdir/$(basename "$f")" "$f"`)],
  ["empty directories", each(`rm "$f"; mkdir "$f"`)],
  ["FIFOs (an open would block)", each(`rm "$f"; mkfifo "$f"`)],
  ["files others may write", each(`chmod 666 "$f"`)],
  ["files of another user", each(`chown 65534:65534 "$f"`)],
  ["the right keys with values of the wrong types", forge("wrong-types")],
  ["driver facts naming another host's GPUs under this driver's fingerprint", forge("facts-other-gpus")],
  ["driver facts with two GPUs' minor numbers swapped", forge("facts-swapped-minors")],
  ["an inventory of another host's GPUs under this driver's key", forge("inventory-other-gpus")],
  ["a regular file where the cache directory should be", `rm -rf "$1/cache"; echo "not a cache" >"$1/cache"`],
  ["a symlink to a host directory where the cache directory should be", `rm -rf "$1/cache"; ln -s "$1/victimdir" "$1/cache"`],
  ["a cache directory others may write", `${RESTORE}; chmod 777 "$1/cache"`],
];

const dirs = new Map<string, string>();
let seconds = 0;

beforeAll(() => {
  for (const [name, prepare] of HOSTILE) {
    const dir = S.dir("h");
    caseBundle(dir, { cache: join(dir, "cache"), id: `nvct-cache-${process.pid}-${dir.split("/").pop()}`, warmup: "none", prepare: `${prepare}\ncd "$1" && sha256sum victim victimdir/* >victims.sum` });
    writeFileSync(join(dir, "victim"), "host file\n");
    mkdirSync(join(dir, "victimdir"));
    writeFileSync(join(dir, "victimdir/keep"), "host file\n");
    dirs.set(name, dir);
  }
  seconds = runCases(S, [...dirs.values()]);
  console.log(`cache: ${dirs.size} hostile caches in ${seconds.toFixed(1)} s`);
}, 600_000);

describe("the decision cache as input", () => {
  test.each(HOSTILE.map(([n]) => [n]))("%s: the container gets exactly its GPU, nothing blocks, nothing is written through, the cache ends valid", (name) => {
    const dir = dirs.get(name)!;
    const why = `${dir}\n${readCase(dir, "prepare.out")}${readCase(dir, "fail.err")}`;
    expect(readCase(dir, "warm.out"), why).toContain("nvidia1");
    // The start with the hostile cache: exactly GPU 1, within the hook's time.
    expect(readCase(dir, "fail.rc").trim(), why).toBe("0");
    const r = reportOf(dir, "fail");
    expect({ nodes: r.nodes, gpus: r.gpus, dl: r.dl }, why).toEqual(GPU1);
    expect(Number(readCase(dir, "fail.ms")), why).toBeLessThan(10_000);
    // Nothing written through a link: the host files the links led to are as they were.
    const sums = spawnSync("sha256sum", ["-c", "--quiet", "victims.sum"], { cwd: dir, encoding: "utf8" });
    expect(sums.status, why + sums.stderr).toBe(0);
    expect(sums.stdout, why).toBe("");
    expect(readFileSync(join(dir, "victim"), "utf8")).toBe("host file\n");
    // The host as before; nothing left running, nothing temporary; the cache valid (or not there).
    expect(readCase(dir, "host.after"), why).toBe(readCase(dir, "host.before"));
    expect(readCase(dir, "left") + readCase(dir, "temps.after"), why).toBe("");
    const cache = join(dir, "cache");
    if (lstatSync(cache).isSymbolicLink()) expect(readdirSync(join(dir, "victimdir"))).toEqual(["keep"]);
    else if (lstatSync(cache).isFile()) expect(readFileSync(cache, "utf8")).toBe("not a cache\n");
    else expect(cacheProblems(cache), why).toEqual([]);
    // And the next start of the same bundle too.
    expect(readCase(dir, "next.rc").trim(), `${why}\n${readCase(dir, "next.err")}`).toBe("0");
    const n = reportOf(dir, "next");
    expect({ nodes: n.nodes, gpus: n.gpus, dl: n.dl }).toEqual(GPU1);
    if (lstatSync(cache).isDirectory()) expect(cacheProblems(cache), why).toEqual([]);
  });
});

describe("concurrent writers", () => {
  test("8 hooks starting at once on a cold cache: each container gets exactly its GPUs, the cache ends whole, nothing temporary", () => {
    const cache = join(S.work, "shared-cache");
    const uuid3 = FOUR_H100.gpus[3].uuid;
    const asks: [string, string[]][] = [
      ["0", ["nvidia0"]],
      ["1", ["nvidia1"]],
      ["2", ["nvidia2"]],
      ["3", ["nvidia3"]],
      ["all", ["nvidia0", "nvidia1", "nvidia2", "nvidia3"]],
      ["0,2", ["nvidia0", "nvidia2"]],
      [uuid3, ["nvidia3"]],
      ["none", []],
    ];
    const bundles = asks.map(([ask]) => {
      const dir = S.dir("race");
      makeRootfs(dir, { debian: true });
      writeBundle(dir, { env: [`NVIDIA_VISIBLE_DEVICES=${ask}`], script: SCRIPT, config: `[nvct]\ncache-dir = "${cache}"\n` });
      return dir;
    });
    // Two rounds: the first writes the cold cache at once, the second reads it at once.
    const script = [1, 2]
      .map((round) => `${bundles.map((b, i) => `runc --root ${b}/runc-state run --bundle ${b} nvct-race-${process.pid}-${round}-${i} >${b}/out${round} 2>&1 </dev/null &`).join("\n")}\nwait`)
      .join("\n");
    const t0 = performance.now();
    const r = spawnSync(FAKEHOST, [S.driver(), "--", "bash", "-c", script], { encoding: "utf8", timeout: 120_000 });
    console.log(`concurrent writers: 2 rounds of ${bundles.length} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(r.status).toBe(0);
    for (const round of [1, 2])
      bundles.forEach((b, i) => {
        const out = readFileSync(join(b, `out${round}`), "utf8");
        const rep = parseReport(out);
        expect({ round, ask: asks[i][0], nodes: rep.nodes.filter((x) => /^nvidia\d/.test(x)), dl: rep.dl }, out).toEqual({ round, ask: asks[i][0], nodes: asks[i][1], dl: ["dlopen libcuda.so.1: OK"] });
      });
    expect(cacheProblems(cache)).toEqual([]);
    // One entry per distinct request, one plan per distinct request, one facts entry, one index.
    const kinds = readdirSync(cache).map((n) => n.slice(0, n.lastIndexOf("-")));
    expect(kinds.filter((k) => k === "facts").length).toBe(1);
    expect(kinds.filter((k) => k === "index").length).toBe(1);
    expect(kinds.filter((k) => k === "plan").length).toBe(asks.length);
  });
});

// What the fault tests share (faults, cache, nvml): case bundles whose start is made to go wrong,
// all cases of a file run in one fake host session by faults.sh, then read back and checked.
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, lstatSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, FAKEHOST, type Scene } from "../setup";
import { makeRootfs, parseReport, writeBundle, type Report } from "./bundle";

export const HOOK = join(BIN, "nvidia-container-runtime-hook");
const DRIVER = join(import.meta.dir, "faults.sh");
/** The host paths whose state must not change (besides the mount table, /dev and the ld cache). */
export const WATCH = ["/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/lib/firmware", "/run"];
/** What a case's container reports: its GPU nodes, procfs GPU directories, and libcuda found. */
export const SCRIPT = `echo "nodes:" $(ls /dev | grep -E '^nvidia' | sort); echo "gpus:" $(ls /proc/driver/nvidia/gpus 2>/dev/null); probe dlopen libcuda.so.1 | sed 's/^/dl: /'`;

export interface CaseOptions {
  /** The decision cache's directory ("" = none). */
  cache: string;
  /** The container's env (default: NVIDIA_VISIBLE_DEVICES=1); nextEnv: the next start's, when other. */
  env?: string[];
  nextEnv?: string[];
  /** The environment of the case's hook (not the next start's). */
  hookEnv?: string[];
  /** strace's arguments before `--`: config.json runs the hook under strace; none: the plain hook. */
  strace?: string[];
  /** The container's id (unique on the machine: cgroups are shared). */
  id: string;
  /** Started once with the plain hook before the case (the entry kind to name as @ENTRY@, or "none"). */
  warmup?: string;
  /** A shell script run (with the case directory as $1) after the warm-up, before the case. */
  prepare?: string;
}

/**
 * A case: a bundle whose image has its own ld.so.cache (as Debian images do; saved beside as
 * image.ld.so.cache), config.json running the hook as the case says, config.next.json the plain
 * hook for the next start.
 */
export function caseBundle(dir: string, o: CaseOptions): void {
  const rootfs = makeRootfs(dir, { debian: true });
  writeFileSync(join(rootfs, "etc/ld.so.conf"), "/lib/x86_64-linux-gnu\n");
  spawnSync("ldconfig", ["-r", rootfs]);
  copyFileSync(join(rootfs, "etc/ld.so.cache"), join(dir, "image.ld.so.cache"));
  const config = `[nvct]\ncache-dir = "${o.cache}"\n`;
  const env = o.env ?? ["NVIDIA_VISIBLE_DEVICES=1"];
  writeBundle(dir, { env: o.nextEnv ?? env, script: SCRIPT, config });
  renameSync(join(dir, "config.json"), join(dir, "config.next.json"));
  const args = ["strace", "-f", "-qq", ...(o.strace ?? []), "--", HOOK, "-config", join(dir, "nvct-config.toml"), "prestart"];
  // runc kills a hook past its timeout: a hook that blocks fails the start instead of hanging it.
  const hook = {
    ...(o.strace ? { path: "/usr/bin/strace", args } : { path: HOOK, args: [HOOK, "-config", join(dir, "nvct-config.toml"), "prestart"] }),
    timeout: 30,
    ...(o.hookEnv ? { env: o.hookEnv } : {}),
  };
  writeBundle(dir, { env, script: SCRIPT, config, hook: hook as { path: string; args: string[] } });
  writeFileSync(join(dir, "id"), o.id);
  if (o.warmup) writeFileSync(join(dir, "warmup"), o.warmup);
  if (o.prepare) writeFileSync(join(dir, "prepare"), `#!/bin/bash\nset -u\n${o.prepare}\n`, { mode: 0o755 });
}

/** Runs the cases in one fake host session (test/e2e/faults.sh); returns the seconds it took. */
export function runCases(S: Scene, dirs: string[], fake?: string): number {
  const list = join(S.work, `list-${Math.random().toString(36).slice(2)}`);
  writeFileSync(list, dirs.map((d) => d + "\n").join(""));
  const t0 = performance.now();
  const r = spawnSync(FAKEHOST, [S.driver(fake), "--", DRIVER, list], { encoding: "utf8", env: { ...process.env, WATCH: WATCH.join(" ") }, timeout: 600_000 });
  if (r.status !== 0) throw new Error(`faults.sh: ${r.status} ${r.stderr}`);
  return (performance.now() - t0) / 1000;
}

/** A file faults.sh wrote for a case ("" when absent). */
export const readCase = (dir: string, f: string) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), "utf8") : "");

/** The report of the case's faulty start ("fail") or of the next one ("next"). */
export const reportOf = (dir: string, which: "fail" | "next"): Report => parseReport(readCase(dir, `${which}.out`));

/**
 * What is wrong with a cache directory: a temporary file; an entry that is not a regular file of
 * root's that only root may read (0600), whose name is not its key's hash (a torn or foreign
 * file), or whose value does not parse.
 */
export function cacheProblems(dir: string): string[] {
  if (!existsSync(dir) || !lstatSync(dir).isDirectory()) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name.startsWith(".")) {
      out.push(`temporary file ${name}`);
      continue;
    }
    const st = lstatSync(join(dir, name));
    if (!st.isFile() || st.uid !== 0 || (st.mode & 0o777) !== 0o600) {
      out.push(`${name}: not a regular 0600 file of root's`);
      continue;
    }
    const bytes = readFileSync(join(dir, name));
    const kind = name.slice(0, name.lastIndexOf("-"));
    let keyEnd: number;
    if (kind === "ldcache") {
      const at = bytes.indexOf("glibc-ld.so.cache1.1") >= 0 ? bytes.indexOf("glibc-ld.so.cache1.1") : bytes.indexOf("ld.so-1.7.0");
      keyEnd = at - 1;
    } else {
      keyEnd = bytes.lastIndexOf("\n");
      try {
        JSON.parse(bytes.subarray(keyEnd + 1).toString());
      } catch {
        out.push(`${name}: value does not parse`);
      }
    }
    const hash = Bun.hash(bytes.subarray(0, Math.max(0, keyEnd)).toString()).toString(16).padStart(16, "0");
    if (`${kind}-${hash}` !== name) out.push(`${name}: not the entry of its key (torn or foreign)`);
  }
  return out;
}

/** The nodes, procfs directories and libraries of a container that got GPU 1 of FOUR_H100. */
export const GPU1 = { nodes: ["nvidia-uvm", "nvidia-uvm-tools", "nvidia1", "nvidiactl"], gpus: ["0000:28:00.0"], dl: ["dlopen libcuda.so.1: OK"] };

// Real runc containers for the end-to-end tests: a busybox rootfs (Debian-style or not) with a
// dynamically linked probe (test/e2e/probe.c), a bundle whose prestart hook is nvct's, and runc
// run inside the fake host with its state kept under the test's own directory.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { BIN, FAKEHOST } from "../paths";

const BUSYBOX = "/bin/busybox";
const APPLETS = ["sh", "ls", "cat", "echo", "stat", "readlink", "grep", "sort", "test", "wc", "head", "tr", "mount", "id", "sed", "true", "find"];

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

export interface RootfsOptions {
  /** Debian-style: /etc/debian_version and multiarch library dirs. Otherwise libc in /lib. */
  debian: boolean;
}

let probeBuilt: string | undefined;
let lddOut: string | undefined;

/** Builds a rootfs in dir (compiling the probe once per process). */
export function makeRootfs(dir: string, o: RootfsOptions): string {
  const root = join(dir, "rootfs");
  for (const d of ["bin", "etc", "proc", "sys", "dev", "tmp", "usr/bin", "lib64"]) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(BUSYBOX, join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  for (const a of APPLETS) symlinkSync("busybox", join(root, "bin", a));
  // Compiled once per process (while its directory lasts): tests make hundreds of rootfs.
  if (!probeBuilt || !existsSync(probeBuilt)) {
    probeBuilt = join(dir, "probe");
    run("gcc", ["-O2", "-o", probeBuilt, join(import.meta.dir, "probe.c"), "-ldl"]);
  }
  const probe = probeBuilt;
  copyFileSync(probe, join(root, "bin/probe"));
  chmodSync(join(root, "bin/probe"), 0o755);
  const libdir = o.debian ? "lib/x86_64-linux-gnu" : "lib";
  mkdirSync(join(root, libdir), { recursive: true });
  lddOut ??= run("ldd", [probe]);
  const ldd = lddOut;
  for (const m of ldd.matchAll(/(\/\S+) \(0x/g)) {
    const host = m[1];
    const base = host.split("/").pop()!;
    if (base.startsWith("ld-linux")) copyFileSync(host, join(root, "lib64", base));
    else copyFileSync(host, join(root, libdir, base));
  }
  if (o.debian) writeFileSync(join(root, "etc/debian_version"), "12.0\n");
  writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/:/bin/sh\n");
  return root;
}

export interface BundleOptions {
  env?: string[];
  privileged?: boolean;
  /** The hook's config.toml contents, written beside the bundle and passed with -config. */
  config?: string;
  mounts?: { destination: string; source: string; type?: string; options?: string[] }[];
  /** Shell script run in the container. */
  script: string;
  /** Replace the prestart hook (default: nvct's). */
  hook?: { path: string; args: string[] } | null;
  readonly?: boolean;
}

/** Writes config.json for rootfs in dir. */
export function writeBundle(dir: string, o: BundleOptions): string {
  const spec = JSON.parse(specTemplate(dir));
  spec.process.terminal = false;
  spec.process.args = ["/bin/sh", "-c", o.script];
  spec.process.env = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...(o.env ?? [])];
  spec.root = { path: "rootfs", readonly: o.readonly ?? true };
  if (o.privileged) {
    for (const set of ["bounding", "effective", "permitted"]) spec.process.capabilities[set].push("CAP_SYS_ADMIN");
  }
  spec.mounts.push(...(o.mounts ?? []));
  const configFile = join(dir, "nvct-config.toml");
  writeFileSync(configFile, o.config ?? "");
  const hookPath = join(BIN, "nvidia-container-runtime-hook");
  const hook = o.hook === undefined ? { path: hookPath, args: [hookPath, "-config", configFile, "prestart"] } : o.hook;
  spec.hooks = hook ? { prestart: [hook] } : {};
  writeFileSync(join(dir, "config.json"), JSON.stringify(spec, null, 2));
  return dir;
}

let template: string | undefined;
/** runc's default spec (made in the bundle's own directory, once per process). */
function specTemplate(dir: string): string {
  if (template) return template;
  rmSync(join(dir, "config.json"), { force: true });
  run("runc", ["spec", "--bundle", dir]);
  template = readFileSync(join(dir, "config.json"), "utf8");
  return template;
}

/** What the container reports about itself, section by section. */
export const REPORT = `
echo "nodes:" $(ls /dev | grep -E '^nvidia' | sort)
echo "caps:" $(ls /dev/nvidia-caps 2>/dev/null | sort)
probe open $(ls -d /dev/nvidia[0-9]* /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia-modeset /dev/nvidia-caps/* 2>/dev/null) | sed 's/^/opens: /'
echo "libs:" $(ls /usr/lib/x86_64-linux-gnu /usr/lib64 2>/dev/null | grep -E '\\.so\\.550' | sort)
echo "libs32:" $(ls /usr/lib/i386-linux-gnu /usr/lib32 2>/dev/null | grep -E '\\.so\\.550' | sort)
echo "bins:" $(ls /usr/bin | grep -E '^nvidia' | sort)
echo "gpus:" $(ls /proc/driver/nvidia/gpus 2>/dev/null)
echo "procfiles:" $(cd /proc/driver/nvidia 2>/dev/null && find . -type f 2>/dev/null | sed 's#^./##' | grep -v ^capabilities | sort)
echo "procmounts:" $(awk '$5 ~ "^/proc/driver" {print $5 "=" $6}' /proc/self/mountinfo | sort)
echo "params:" $(grep ModifyDeviceFiles /proc/driver/nvidia/params 2>/dev/null)
echo "migcaps:" $(cd /proc/driver/nvidia 2>/dev/null && find capabilities -type f 2>/dev/null | sort)
echo "ipcs:" $(ls -d /run/nvidia-*/socket /var/run/nvidia-*/socket /tmp/nvidia-mps 2>/dev/null | sort)
echo "firmware:" $(ls /lib/firmware/nvidia/*/ 2>/dev/null | sort)
echo "links:" $(cd /usr/lib/x86_64-linux-gnu 2>/dev/null && for f in libcuda.so libnvidia-opticalflow.so libGLX_indirect.so.0; do [ -L $f ] && echo "$f->$(readlink $f)"; done)
echo "profile: $(cat /etc/nvidia/nvidia-application-profiles-rc.d/10-container.conf 2>/dev/null)"
for f in $(ls -d /usr/lib/x86_64-linux-gnu/*.so.550* /usr/lib64/*.so.550* /usr/bin/nvidia-* 2>/dev/null); do probe write $f; done | sed 's/^/ro: /'
probe dlopen libcuda.so.1 libnvidia-ml.so.1 | sed 's/^/dl: /'
`;

export interface Report {
  nodes: string[];
  caps: string[];
  opens: string[];
  libs: string[];
  libs32: string[];
  bins: string[];
  gpus: string[];
  procfiles: string[];
  /** Mount points under /proc/driver, each \`path=options\`. */
  procmounts: string[];
  params: string;
  migcaps: string[];
  ipcs: string[];
  firmware: string[];
  links: string[];
  profile: string;
  ro: string[];
  dl: string[];
}

export function parseReport(out: string): Report {
  const r: any = { nodes: [], caps: [], opens: [], libs: [], libs32: [], bins: [], gpus: [], procfiles: [], procmounts: [], params: "", migcaps: [], ipcs: [], firmware: [], links: [], profile: "", ro: [], dl: [] };
  for (const line of out.split("\n")) {
    const m = /^(\w+): ?(.*)$/.exec(line);
    if (!m || !(m[1] in r)) continue;
    if (["opens", "ro", "dl"].includes(m[1])) r[m[1]].push(m[2]);
    else if (["params", "profile"].includes(m[1])) r[m[1]] = m[2];
    else r[m[1]] = m[2].split(" ").filter(Boolean);
  }
  return r;
}


/**
 * Runs an engine script (docker.sh, podman.sh) in the fake host of `fake`: it imports a fresh
 * image of the REPORT rootfs and prints `=== --<flag> <value>` before each run's output.
 * Returns each run's output by value.
 */
export function runEngine(script: string, fake: string, work: string, values: string[], debian = true): Record<string, string> {
  const img = join(work, "image");
  mkdirSync(img, { recursive: true });
  const rootfs = makeRootfs(img, { debian });
  const r = spawnSync(FAKEHOST, [fake, "--", script, join(work, "engine"), rootfs, REPORT, ...values], {
    encoding: "utf8",
    env: { ...process.env, NVCT_BIN: BIN },
    timeout: 240_000,
  });
  if (r.status !== 0) throw new Error(`${script} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  const runs: Record<string, string> = {};
  for (const part of r.stdout.split(/^=== --\w+ /m).slice(1)) {
    const nl = part.indexOf("\n");
    runs[part.slice(0, nl)] = part.slice(nl + 1);
  }
  return runs;
}

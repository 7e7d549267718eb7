// The packages: from the built binary (dist/nvct and its links in dist/bin), a .deb made with
// dpkg-deb and an .rpm made with rpmbuild, both installing what the NVIDIA Container Toolkit's
// packages install, at the same paths, and declaring that they take its packages' place.
// Run: `npm run package` (builds first), or after a build:
//   bun build/package.ts [--format deb,rpm] [--version V] [--out DIR] [--compress gzip|xz|zstd|none]
// Writes DIR/nvct_<V>_amd64.deb and DIR/nvct-<V>-1.x86_64.rpm (DIR: dist/pkg). No network.
import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { parseArgs } from "node:util";
import { TOOL_NAMES } from "../src/tools";

const top = join(import.meta.dir, "..");
const assets = join(import.meta.dir, "pkg");

/**
 * The NVIDIA Container Toolkit release whose packages nvct stands in for (BEHAVIOUR.md: 1.13 to
 * 1.20; its newest packaging is what these packages follow). Packages that depend on the
 * toolkit's packages at a version find it in nvct's versioned Provides.
 */
export const REFERENCE_VERSION = "1.20.0-1";

/**
 * The packages nvct replaces: every package of the toolkit's stack whose files or commands nvct
 * installs. `provides`: the version nvct answers for (null: none). libnvidia-container1 is the
 * C library libnvidia-container.so.1, which nvct does not ship: it is replaced (removed on
 * install) but not provided, so that nothing that links the library is told it is there.
 * nvidia-container-runtime, nvidia-container-runtime-hook and nvidia-docker2 are provided
 * without a version, as the toolkit's own packages provide the first two.
 */
export const REPLACED: { name: string; provides: string | null }[] = [
  { name: "nvidia-container-toolkit", provides: REFERENCE_VERSION },
  { name: "nvidia-container-toolkit-base", provides: REFERENCE_VERSION },
  { name: "libnvidia-container-tools", provides: REFERENCE_VERSION },
  { name: "libnvidia-container1", provides: null },
  { name: "nvidia-container-runtime", provides: "" },
  { name: "nvidia-container-runtime-hook", provides: "" },
  { name: "nvidia-docker2", provides: "" },
];

/**
 * Tools installed as hard links to the binary rather than symbolic ones. The toolkit's own
 * packages make /usr/bin/nvidia-container-toolkit a symlink from a maintainer script and delete
 * it when they go: with `[ -L ... ] && rm` in the deb's postrm on purge (which dpkg and apt run
 * after nvct is installed, when they clean the removed toolkit's leftovers) and in the rpm's
 * %postun (run in the very transaction that replaces it). A hard link is not what they delete.
 */
export const HARD_LINKED = ["nvidia-container-toolkit"];

export const CONFIG = "/etc/nvidia-container-runtime/config.toml";
export const REFRESH_ENV = "/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env";
export const HOOKS_JSON = "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json";
export const UNITS = ["nvidia-cdi-refresh.path", "nvidia-cdi-refresh.service"];
export const UDEV_RULE = "99-nvidia-cdi-refresh.rules";
export const PRESET = "90-nvidia-container-toolkit.preset";

/** Where each format puts the units and the udev rule: the toolkit's own paths in each. */
const LAYOUT = {
  // The toolkit's .deb installs into /lib (not /usr/lib): on a merged-/usr system dpkg knows a
  // file by the path it was shipped under, and a takeover under the other spelling would let
  // the toolkit's removal delete nvct's file.
  deb: { units: "/lib/systemd/system", udev: "/lib/udev/rules.d", preset: null },
  rpm: { units: "/usr/lib/systemd/system", udev: "/usr/lib/udev/rules.d", preset: "/usr/lib/systemd/system-preset" },
} as const;
type Format = keyof typeof LAYOUT;

const SUMMARY = "NVIDIA GPUs in containers: a drop-in NVIDIA Container Toolkit";
const DESCRIPTION = [
  "nvct replaces the NVIDIA Container Toolkit stack with one binary: the OCI prestart hook",
  "(nvidia-container-runtime-hook, nvidia-container-toolkit), nvidia-container-cli, the runc",
  "shim nvidia-container-runtime, nvidia-ctk and nvidia-cdi-hook, with the same options,",
  "config.toml keys and outputs. It brings the CDI refresh service that keeps",
  "/var/run/cdi/nvidia.yaml current and podman's hook file.",
];

interface Options {
  formats: Format[];
  version: string;
  out: string;
  compress: "gzip" | "xz" | "zstd" | "none";
  maintainer: string;
}

function fail(msg: string): never {
  process.stderr.write(`package: ${msg}\n`);
  process.exit(1);
}

function run(cmd: string, args: string[], opts: { cwd?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? top, encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args.join(" ")} failed (${r.status})\n${r.stdout}${r.stderr}`);
  return r.stdout;
}

/** Runs a command without blocking, so that the two formats are made side by side. */
function runAsync(cmd: string, args: string[], env: Record<string, string> = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: top, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, ...env } });
    let log = "";
    p.stdout.on("data", (d) => (log += d));
    p.stderr.on("data", (d) => (log += d));
    p.on("error", (e) => reject(new Error(`${cmd}: ${e.message}`)));
    p.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} ${args.join(" ")} failed (${code})\n${log}`))));
  });
}

/** The tools: the links the build made in dist/bin, which must be the ones src/tools.ts names. */
export function toolLinks(dist = join(top, "dist")): string[] {
  const bin = join(dist, "bin");
  if (!existsSync(join(dist, "nvct")) || !existsSync(bin)) fail("dist/nvct is missing: run `npm run build` first");
  const links = readdirSync(bin)
    .filter((n) => lstatSync(join(bin, n)).isSymbolicLink() && readlinkSync(join(bin, n)) === "../nvct")
    .sort();
  const named = [...TOOL_NAMES].sort();
  if (links.join(" ") !== named.join(" ")) fail(`dist/bin (${links.join(", ")}) is not src/tools.ts's list (${named.join(", ")}): run \`npm run build\` again`);
  return links;
}

/** Versions: semver's prerelease `-rc.1` sorts before the release as `~rc.1` in dpkg and rpm. */
export function packageVersion(v: string): string {
  if (!/^[0-9][0-9A-Za-z.+~-]*$/.test(v)) fail(`invalid version \`${v}\``);
  const dash = v.indexOf("-");
  const out = dash < 0 ? v : `${v.slice(0, dash)}~${v.slice(dash + 1)}`;
  if (out.includes("-")) fail(`invalid version \`${v}\`: one \`-\` at most`);
  return out;
}

/** libc's version the binary needs: the highest GLIBC_x.y among its dynamic symbols (binutils). */
function glibcNeeded(binary: string): string {
  const r = spawnSync("objdump", ["-T", binary], { encoding: "utf8", maxBuffer: 256 << 20 });
  if (r.status !== 0) fail(`objdump -T ${binary} failed (binutils, which gcc brings, is needed): ${r.error?.message ?? r.stderr}`);
  const versions = [...r.stdout.matchAll(/GLIBC_([0-9]+(?:\.[0-9]+)+)/g)].map((m) => m[1].split(".").map(Number));
  if (versions.length === 0) fail(`${binary} names no GLIBC_ version`);
  versions.sort((a, b) => {
    for (let i = 0; i < Math.max(a.length, b.length); i++) if ((a[i] ?? 0) !== (b[i] ?? 0)) return (a[i] ?? 0) - (b[i] ?? 0);
    return 0;
  });
  return versions[versions.length - 1].join(".");
}

interface Content {
  tools: string[];
  config: string;
  hooksJson: string;
}

/** What both packages hold, made by the built binary itself. */
function content(nvct: string, tools: string[]): Content {
  // The defaults as the binary knows them (the file the reference's postinst would write).
  const config = run(nvct, ["nvidia-ctk", "config", "default"]);
  // podman's hooks.d entry, as `nvidia-ctk runtime configure --runtime=podman` writes it.
  const hooksJson = run(nvct, ["nvidia-ctk", "runtime", "configure", "--runtime=podman", "--dry-run"]);
  JSON.parse(hooksJson);
  if (!config.includes("[nvidia-container-runtime]")) fail("`nvidia-ctk config default` printed no config");
  return { tools, config, hooksJson };
}

function put(root: string, path: string, text: string, mode = 0o644): void {
  const f = join(root, path);
  mkdirSync(dirname(f), { recursive: true, mode: 0o755 });
  writeFileSync(f, text);
  chmodSync(f, mode);
}

function putAsset(root: string, path: string, asset: string): void {
  put(root, path, readFileSync(join(assets, asset), "utf8"));
}

/** The installed tree of a format: the binary once, the links, the config, the units. */
function stage(root: string, format: Format, nvct: string, c: Content): void {
  const bin = join(root, "usr/bin");
  mkdirSync(bin, { recursive: true, mode: 0o755 });
  // Copied, not hard-linked from dist/: a new link to a file changes its ctime, and tar refuses
  // a file whose ctime changes while it reads it (the other format is staged meanwhile).
  copyFileSync(nvct, join(bin, "nvct"));
  chmodSync(join(bin, "nvct"), 0o755);
  for (const t of c.tools) {
    if (HARD_LINKED.includes(t)) linkSync(join(bin, "nvct"), join(bin, t));
    else symlinkSync("nvct", join(bin, t));
  }
  put(root, CONFIG, c.config);
  putAsset(root, REFRESH_ENV, "nvidia-cdi-refresh.env");
  const l = LAYOUT[format];
  for (const u of UNITS) putAsset(root, `${l.units}/${u}`, u);
  putAsset(root, `${l.udev}/${UDEV_RULE}`, UDEV_RULE);
  if (l.preset) putAsset(root, `${l.preset}/${PRESET}`, PRESET);
  put(root, HOOKS_JSON, c.hooksJson);
  if (format === "deb") put(root, "/usr/share/doc/nvct/copyright", COPYRIGHT);
}

const COPYRIGHT = `Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: nvct

Files: *
License: Apache-2.0
 On Debian systems the full text of the Apache License 2.0 is in
 /usr/share/common-licenses/Apache-2.0.
`;

/** Every path under root, files and links (directories not listed), as absolute package paths. */
function walk(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    const st = lstatSync(p);
    if (st.isDirectory()) out.push(...walk(root, p));
    else out.push("/" + relative(root, p));
  }
  return out;
}

function dirsOf(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const n of readdirSync(dir).sort()) {
    const p = join(dir, n);
    if (lstatSync(p).isDirectory()) out.push("/" + relative(root, p), ...dirsOf(root, p));
  }
  return out;
}

const CONFFILES = [CONFIG, REFRESH_ENV];

function debControl(o: Options, root: string, depends: string): string {
  let kib = 0;
  const seen = new Set<number>();
  for (const p of [...walk(root), ...dirsOf(root)]) {
    const st = lstatSync(join(root, p));
    if (seen.has(st.ino)) continue;
    seen.add(st.ino);
    kib += st.isFile() ? Math.ceil(st.size / 1024) : 1;
  }
  const replaced = REPLACED.map((r) => r.name).join(", ");
  const provided = REPLACED.filter((r) => r.provides !== null)
    .map((r) => (r.provides ? `${r.name} (= ${r.provides})` : r.name))
    .join(", ");
  return [
    "Package: nvct",
    `Version: ${packageVersion(o.version)}`,
    "Architecture: amd64",
    `Maintainer: ${o.maintainer}`,
    `Installed-Size: ${kib}`,
    `Depends: ${depends}`,
    `Provides: ${provided}`,
    `Conflicts: ${replaced}`,
    `Replaces: ${replaced}`,
    "Section: utils",
    "Priority: optional",
    `Description: ${SUMMARY}`,
    ...DESCRIPTION.map((l) => ` ${l}`),
    "",
  ].join("\n");
}

function md5sums(root: string): string {
  const lines: string[] = [];
  const byInode = new Map<number, string>();
  for (const p of walk(root)) {
    const st = lstatSync(join(root, p));
    if (CONFFILES.includes(p) || !st.isFile()) continue;
    let h = byInode.get(st.ino);
    if (!h) byInode.set(st.ino, (h = new Bun.CryptoHasher("md5").update(readFileSync(join(root, p))).digest("hex")));
    lines.push(`${h}  ${p.slice(1)}`);
  }
  return lines.join("\n") + "\n";
}

async function buildDeb(o: Options, work: string, nvct: string, c: Content): Promise<string> {
  const root = join(work, "deb");
  stage(root, "deb", nvct, c);
  mkdirSync(join(root, "DEBIAN"), { mode: 0o755 });
  put(root, "DEBIAN/control", debControl(o, root, `libc6 (>= ${glibcNeeded(nvct)})`));
  put(root, "DEBIAN/conffiles", CONFFILES.join("\n") + "\n");
  put(root, "DEBIAN/md5sums", md5sums(root));
  for (const s of ["preinst", "postinst", "prerm", "postrm"]) put(root, `DEBIAN/${s}`, readFileSync(join(assets, "deb", s), "utf8"), 0o755);
  const file = join(o.out, `nvct_${packageVersion(o.version)}_amd64.deb`);
  const z = { gzip: ["-Zgzip", "-z6"], xz: ["-Zxz", "-z2"], zstd: ["-Zzstd", "-z6"], none: ["-Znone"] }[o.compress];
  await runAsync("dpkg-deb", ["--root-owner-group", ...z, "--build", root, file]);
  return file;
}

function rpmSpec(o: Options, root: string, c: Content): string {
  const payload = { gzip: "w6.gzdio", xz: "w2.xzdio", zstd: "w6.zstdio", none: "w0.ufdio" }[o.compress];
  const script = (name: string) => readFileSync(join(assets, "rpm", `${name}.sh`), "utf8").trimEnd();
  const files = walk(root).map((p) => (CONFFILES.includes(p) ? `%config(noreplace) ${p}` : p));
  return [
    // Nothing in the build root is touched: the binary must not be stripped (it breaks it) and
    // has no debug information to split off.
    "%global debug_package %{nil}",
    "%global __os_install_post %{nil}",
    "%global _build_id_links none",
    `%global _binary_payload ${payload}`,
    "%define _build_name_fmt %%{NAME}-%%{VERSION}-%%{RELEASE}.%%{ARCH}.rpm",
    "",
    "Name: nvct",
    `Version: ${packageVersion(o.version)}`,
    "Release: 1",
    `Summary: ${SUMMARY}`,
    "License: Apache-2.0",
    `Packager: ${o.maintainer}`,
    // The binary's shared libraries (libc) are found by rpm's dependency generator.
    "AutoProv: no",
    ...REPLACED.filter((r) => r.provides !== null).map((r) => `Provides: ${r.name}${r.provides ? ` = ${r.provides}` : ""}`),
    ...REPLACED.map((r) => `Obsoletes: ${r.name}`),
    ...REPLACED.map((r) => `Conflicts: ${r.name}`),
    "",
    "%description",
    ...DESCRIPTION,
    "",
    "%install",
    `cp -a ${root}/. %{buildroot}/`,
    "",
    "%files",
    "%defattr(-,root,root,-)",
    // The configuration directories are the package's, so that erasing it leaves none behind.
    `%dir ${dirname(CONFIG)}`,
    `%dir ${dirname(REFRESH_ENV)}`,
    ...files,
    "",
    "%pre",
    script("pre"),
    "",
    "%post",
    script("post"),
    "",
    "%preun",
    script("preun"),
    "",
    "%postun",
    script("postun"),
    "",
    "%posttrans",
    script("posttrans"),
    "",
  ].join("\n");
}

async function buildRpm(o: Options, work: string, nvct: string, c: Content): Promise<string> {
  const root = join(work, "rpm-root");
  stage(root, "rpm", nvct, c);
  const rpmTop = join(work, "rpmbuild");
  mkdirSync(rpmTop);
  const spec = join(work, "nvct.spec");
  writeFileSync(spec, rpmSpec(o, root, c));
  await runAsync("rpmbuild", [
    "-bb", "--quiet", "--target", "x86_64-linux",
    "--define", `_topdir ${rpmTop}`,
    "--define", `_tmppath ${rpmTop}/tmp`,
    "--define", `_rpmdir ${o.out}`,
    "--buildroot", join(rpmTop, "BUILDROOT"),
    spec,
  ], { HOME: work });
  return join(o.out, `nvct-${packageVersion(o.version)}-1.x86_64.rpm`);
}

export async function makePackages(o: Options, dist = join(top, "dist")): Promise<string[]> {
  const nvct = join(dist, "nvct");
  const c = content(nvct, toolLinks(dist));
  for (const f of o.formats) {
    const tool = f === "deb" ? "dpkg-deb" : "rpmbuild";
    if (spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0) fail(`${tool} is missing (bash scripts/setup.sh installs it)`);
  }
  mkdirSync(o.out, { recursive: true });
  const work = mkdtempSync(join(o.out, ".stage-"));
  try {
    return await Promise.all(o.formats.map((f) => (f === "deb" ? buildDeb(o, work, nvct, c) : buildRpm(o, work, nvct, c))));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: {
      format: { type: "string", default: "deb,rpm" },
      version: { type: "string" },
      out: { type: "string" },
      compress: { type: "string", default: "gzip" },
      maintainer: { type: "string" },
    },
  });
  const formats = values.format!.split(",").filter(Boolean);
  for (const f of formats) if (!(f in LAYOUT)) fail(`unknown format \`${f}\` (deb, rpm)`);
  if (!["gzip", "xz", "zstd", "none"].includes(values.compress!)) fail(`unknown compression \`${values.compress}\` (gzip, xz, zstd, none)`);
  const pkg = JSON.parse(readFileSync(join(top, "package.json"), "utf8"));
  const started = performance.now();
  const files = await makePackages({
    formats: formats as Format[],
    version: values.version ?? pkg.version,
    out: values.out ?? join(top, "dist/pkg"),
    compress: values.compress as Options["compress"],
    maintainer: values.maintainer ?? process.env.NVCT_MAINTAINER ?? "nvct maintainers <nvct@localhost>",
  }).catch((e: Error) => fail(e.message));
  const took = ((performance.now() - started) / 1000).toFixed(1);
  for (const f of files) process.stdout.write(`${relative(process.cwd(), f) || f} (${(statSync(f).size / 1048576).toFixed(1)} MiB)\n`);
  process.stdout.write(`packaged in ${took} s\n`);
}

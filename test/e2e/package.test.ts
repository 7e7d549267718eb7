// The packages (`npm run package`, build/package.ts): built from dist/, then installed on this
// machine's Debian inside a writable fake host (its /usr, /etc and /var overlays vanish after):
// dpkg installs the .deb, a GPU container runs through the installed hook, an upgrade keeps a
// changed config.toml, removal and purge leave what Debian's policy keeps and then nothing; the
// .deb replaces the NVIDIA Container Toolkit's packages; the .rpm's metadata, and its install,
// upgrade and erase under rpm with a private database. The machine itself is left untouched.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CONFIG, HARD_LINKED, HOOKS_JSON, packageVersion, REFRESH_ENV, REPLACED, UDEV_RULE, UNITS } from "../../build/package";
import { THREE_MIXED } from "../fake/driver";
import { buildReferenceDebs, REFERENCE_CONFIG, REFERENCE_PACKAGES } from "../fake/reference";
import { FAKEHOST, NVCT, scene, TOP } from "../setup";
import { TOOL_NAMES } from "../../src/tools";
import { parseReport, REPORT } from "./bundle";

const S = scene("package", { mixed: THREE_MIXED });
const SCRIPT = join(import.meta.dir, "package.sh");
const VERSION: string = require("../../package.json").version;
const V2 = `${VERSION}+upgrade`;
const GPU_NODES = ["nvidia-uvm", "nvidia-uvm-tools", "nvidia0", "nvidia1", "nvidia3", "nvidiactl"];

/** Paths a package would leave on the machine if the fake host let it through; podman's cgroups. */
const WATCHED = ["/usr/bin/nvct", ...TOOL_NAMES.map((t) => `/usr/bin/${t}`), CONFIG, REFRESH_ENV, HOOKS_JSON, ...UNITS.map((u) => `/lib/systemd/system/${u}`), `/lib/udev/rules.d/${UDEV_RULE}`, "/var/lib/dpkg/info/nvct.list"];
const present = () => [...WATCHED.filter((p) => existsSync(p)), ...readdirSync("/sys/fs/cgroup/devices").filter((n) => n.startsWith("nvct-pkg-"))];
let before: string[] = [];

function run(cmd: string, args: string[], timeout = 120_000): string {
  const r = spawnSync(cmd, args, { cwd: TOP, encoding: "utf8", timeout, env: { ...process.env, TOOLS: TOOL_NAMES.join(" "), REPORT } });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.status}): ${r.stderr}\n${r.stdout}`);
  return r.stdout;
}

/** Steps of a package.sh run: `=== step` headers, each step's output. */
function steps(out: string): Record<string, string> {
  const s: Record<string, string> = {};
  for (const part of out.split(/^=== /m).slice(1)) {
    const nl = part.indexOf("\n");
    s[part.slice(0, nl)] = part.slice(nl + 1);
  }
  return s;
}
const lines = (t: string) => t.split("\n").filter(Boolean);
/** package.sh in a writable fake host of the mixed driver. */
const inHost = (args: string[]) => steps(run(FAKEHOST, ["--writable", S.driver(), "--", SCRIPT, ...args], 180_000));

const DEB = (dir: string, v = VERSION) => join(dir, `nvct_${v}_amd64.deb`);
const RPM = (dir: string, v = VERSION) => join(dir, `nvct-${v}-1.x86_64.rpm`);
const gpuBundle = (env: string[] = []) =>
  S.bundle({ env: ["NVIDIA_VISIBLE_DEVICES=all", ...env], hook: { path: "/usr/bin/nvidia-container-runtime-hook", args: ["nvidia-container-runtime-hook", "prestart"] } });
const defaultConfig = () => run(NVCT, ["nvidia-ctk", "config", "default"]);

let pkg1 = "";
let pkg2 = "";
let fresh: Record<string, string> = {};
let replace: Record<string, string> = {};
let rpm: Record<string, string> = {};
beforeAll(() => {
  before = present();
  pkg1 = S.dir("pkg");
  pkg2 = S.dir("pkg");
  // The packages as `npm run package` makes them; the upgrade's is the same build with a higher
  // version, uncompressed (quicker; dpkg and rpm read either).
  run("node_modules/.bin/bun", ["build/package.ts", "--out", pkg1]);
  run("node_modules/.bin/bun", ["build/package.ts", "--out", pkg2, "--version", V2, "--compress", "none"]);
  const gpu = gpuBundle();
  fresh = inHost(["fresh", DEB(pkg1), DEB(pkg2, V2), gpu, gpuBundle(["NVIDIA_REQUIRE_CUDA=cuda>=99.0"]), join(S.bundle(), "rootfs")]);
  replace = inHost(["replace", DEB(pkg1), gpu, ...buildReferenceDebs(S.dir("ref"))]);
  rpm = inHost(["rpm", RPM(pkg1), RPM(pkg2, V2), gpu]);
}, 300_000);


describe("npm run package", () => {
  test("builds the .deb and the .rpm with the tools of dist/bin", () => {
    const contents = run("dpkg-deb", ["--contents", DEB(pkg1)]);
    expect(contents).toMatch(/-rwxr-xr-x root\/root +\d+ .* \.\/usr\/bin\/nvct\n/);
    for (const t of TOOL_NAMES) expect(contents).toContain(HARD_LINKED.includes(t) ? `./usr/bin/${t} link to ./usr/bin/nvct` : `./usr/bin/${t} -> nvct`);
    // The binary once: every other tool is a link.
    expect(contents.match(/^-.* \.\/usr\/bin\//gm)?.length).toBe(1);
  });

  test("versions: a semver prerelease sorts before its release (`~`), in dpkg and rpm alike", () => {
    expect(packageVersion("0.2.0")).toBe("0.2.0");
    expect(packageVersion("0.2.0-rc.1")).toBe("0.2.0~rc.1");
    expect(packageVersion("0.2.0+upgrade")).toBe("0.2.0+upgrade");
    expect(spawnSync("dpkg", ["--compare-versions", "0.2.0~rc.1", "lt", "0.2.0"]).status).toBe(0);
  });

  test("the .deb declares the reference's packages replaced, and what it provides", () => {
    const control = run("dpkg-deb", ["--field", DEB(pkg1), "Package", "Version", "Architecture", "Depends", "Provides", "Conflicts", "Replaces"]);
    const f = Object.fromEntries(lines(control).map((l) => [l.slice(0, l.indexOf(":")), l.slice(l.indexOf(":") + 2)]));
    expect(f).toMatchObject({ Package: "nvct", Version: VERSION, Architecture: "amd64" });
    expect(f.Depends).toMatch(/^libc6 \(>= 2\.\d+\)$/);
    const names = REPLACED.map((r) => r.name);
    expect(names).toEqual(["nvidia-container-toolkit", "nvidia-container-toolkit-base", "libnvidia-container-tools", "libnvidia-container1", "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-docker2"]);
    expect(f.Conflicts.split(", ")).toEqual(names);
    expect(f.Replaces.split(", ")).toEqual(names);
    expect(f.Provides.split(", ")).toEqual([
      "nvidia-container-toolkit (= 1.20.0-1)", "nvidia-container-toolkit-base (= 1.20.0-1)", "libnvidia-container-tools (= 1.20.0-1)",
      "nvidia-container-runtime", "nvidia-container-runtime-hook", "nvidia-docker2",
    ]);
  });

  test("the .rpm: files, config files, provides, conflicts, obsoletes", () => {
    const q = (...a: string[]) => lines(run("rpm", ["-qp", ...a, RPM(pkg1)]));
    expect(q("--qf", "%{NAME} %{VERSION} %{RELEASE} %{ARCH}\n")).toEqual([`nvct ${VERSION} 1 x86_64`]);
    expect(q("-l")).toEqual([
      "/etc/nvidia-container-runtime", CONFIG, "/etc/nvidia-container-toolkit", REFRESH_ENV,
      "/usr/bin/nvct", ...[...TOOL_NAMES].sort().map((t) => `/usr/bin/${t}`),
      "/usr/lib/systemd/system-preset/90-nvidia-container-toolkit.preset", ...UNITS.map((u) => `/usr/lib/systemd/system/${u}`),
      `/usr/lib/udev/rules.d/${UDEV_RULE}`, HOOKS_JSON,
    ]);
    expect(q("--configfiles")).toEqual([CONFIG, REFRESH_ENV]);
    const names = REPLACED.map((r) => r.name).sort();
    expect(q("--conflicts")).toEqual(names);
    expect(q("--obsoletes")).toEqual(names);
    expect(q("--provides")).toEqual([
      "libnvidia-container-tools = 1.20.0-1", `nvct = ${VERSION}-1`, `nvct(x86-64) = ${VERSION}-1`, "nvidia-container-runtime",
      "nvidia-container-runtime-hook", "nvidia-container-toolkit = 1.20.0-1", "nvidia-container-toolkit-base = 1.20.0-1", "nvidia-docker2",
    ]);
    // The binary's libraries, found by rpm; nothing else.
    expect(q("--requires").filter((r) => !r.startsWith("rpmlib(") && r !== "/bin/sh" && !r.startsWith("config(")).every((r) => /^(libc|libm|libdl|libpthread|ld-linux-x86-64)\.so/.test(r))).toBe(true);
    // %config(noreplace): an operator's change survives an upgrade.
    expect(run("rpm", ["-qp", "--qf", "[%{FILENAMES} %{FILEFLAGS:fflags}\n]", RPM(pkg1)])).toContain(`${CONFIG} cn\n`);
  });
});

describe("dpkg -i on a machine without the toolkit", () => {
  test("installs: the binary once, each tool a link to it", () => {
    expect(fresh.install).toContain("Setting up nvct");
    expect(fresh.install).toContain("exit: 0");
    expect(fresh.status).toBe(`ii  ${VERSION}\n`);
    expect(fresh.links).toBe(TOOL_NAMES.map((t) => (HARD_LINKED.includes(t) ? `${t} = nvct` : `${t} -> nvct`)).join("\n") + "\n");
    expect(fresh.verify).toBe("exit: 0\n");
  });

  test("the files at the reference's paths: units, udev rule, env file, podman's hooks JSON", () => {
    const files = lines(fresh.files);
    for (const f of [...UNITS.map((u) => `/lib/systemd/system/${u}`), `/lib/udev/rules.d/${UDEV_RULE}`, REFRESH_ENV, HOOKS_JSON, CONFIG, "/usr/share/doc/nvct/copyright"]) expect(files).toContain(f);
    expect(JSON.parse(fresh.hooks)).toMatchObject({ hook: { path: "/usr/bin/nvidia-container-runtime-hook", args: ["nvidia-container-runtime-hook", "prestart"] }, when: { always: true }, stages: ["prestart"] });
  });

  test("config.toml is a conffile holding `nvidia-ctk config default`", () => {
    expect(lines(fresh.conffiles)).toEqual([CONFIG, REFRESH_ENV]);
    expect(fresh.config).toBe(defaultConfig());
  });

  test("the refresh units pass systemd-analyze verify and are enabled", () => {
    expect(fresh.units).toBe("exit: 0\n");
    expect(lines(fresh.enabled)).toEqual(UNITS);
  });

  test("the refresh service's commands write /var/run/cdi/nvidia.yaml with every GPU", () => {
    expect(fresh.refresh).toContain("exit: 0");
    for (const d of ["nvidia.com/gpu=0", "nvidia.com/gpu=2", "nvidia.com/gpu=all", `nvidia.com/gpu=${THREE_MIXED.gpus[1].uuid}`]) expect(lines(fresh.refresh)).toContain(d);
  });

  test("a GPU container through the installed hook (/usr/bin/nvidia-container-runtime-hook, /etc config) sees every GPU", () => {
    const r = parseReport(fresh.container);
    expect(fresh.container).toContain("exit: 0");
    expect(r.nodes).toEqual(GPU_NODES);
    expect(r.gpus).toEqual(["0000:07:00.0", "0000:3b:00.0", "0001:86:00.0"]);
    expect(r.dl).toEqual(["dlopen libcuda.so.1: OK", "dlopen libnvidia-ml.so.1: OK"]);
  });

  test("podman runs the installed hook from the hooks JSON for every container: GPUs when asked", () => {
    const [gpu, none] = fresh.podman.split(/^--- .*\n/m).slice(1);
    expect(gpu).toContain("exit: 0");
    expect(parseReport(gpu).gpus).toEqual(["0000:07:00.0", "0000:3b:00.0", "0001:86:00.0"]);
    expect(none).toContain("exit: 0");
    expect(parseReport(none)).toMatchObject({ nodes: [], gpus: [], libs: [] });
  });

  test("the installed config is the one read: a requirement fails, until disable-require", () => {
    expect(fresh.require).toContain("unsatisfied condition: cuda>=99.0");
    expect(fresh.require).not.toContain("exit: 0");
    expect(fresh.edit).toBe("disable-require = true\n");
  });

  test("an upgrade keeps the changed config.toml, without a question", () => {
    expect(fresh.upgrade).toContain(`Unpacking nvct (${V2.replace("-", "~")}) over (${VERSION})`);
    expect(fresh.upgrade).toContain("exit: 0");
    expect(fresh.upgrade).not.toContain("Configuration file");
    expect(fresh.upgrade).toContain(`ii  ${V2}`);
    expect(fresh.kept).toBe("disable-require = true\nconfig.toml\n");
    const r = parseReport(fresh["require-after"]);
    expect(fresh["require-after"]).toContain("exit: 0");
    expect(r.gpus.length).toBe(3);
  });

  test("dpkg -r leaves the conffiles and the units' enablement (masked), as Debian keeps them", () => {
    expect(fresh.remove).toContain("exit: 0");
    expect(fresh.remove).toContain("rc \n");
    expect(lines(fresh["after-remove"])).toEqual([
      CONFIG, REFRESH_ENV,
      ...UNITS.map((u) => `/etc/systemd/system/${u}`),
      ...UNITS.map((u) => `/etc/systemd/system/multi-user.target.wants/${u}`),
      ...UNITS.map((u) => `/var/lib/systemd/deb-systemd-helper-enabled/${u}.dsh-also`),
      ...UNITS.map((u) => `/var/lib/systemd/deb-systemd-helper-enabled/multi-user.target.wants/${u}`),
      ...UNITS.map((u) => `/var/lib/systemd/deb-systemd-helper-masked/${u}`),
    ].sort());
  });

  test("dpkg -P leaves nothing", () => {
    expect(fresh.purge).toContain("exit: 0");
    expect(fresh["after-purge"]).toBe("");
  });
});

describe("dpkg -i over the NVIDIA Container Toolkit's packages", () => {
  test("the toolkit's packages are removed in nvct's favour", () => {
    expect(replace.reference).toContain("exit: 0");
    expect(replace.reference).toContain('nvidia-ctk: #!/bin/sh echo "reference nvidia-ctk');
    expect(replace.install).toContain("exit: 0");
    for (const p of REFERENCE_PACKAGES) expect(replace.install).toMatch(new RegExp(`dpkg: yes, will remove ${p}(:amd64)? in favour of nvct`));
    // Those with a postrm stay as configuration files until purged, as dpkg keeps every package.
    expect(lines(replace.packages)).toEqual(["nvct ii ", "nvidia-container-toolkit ic ", "nvidia-container-toolkit-base ic "]);
    expect(replace.install).toContain("nvidia-container-toolkit-base was removed but not purged");
  });

  test("every tool is nvct's; the operator's config.toml is kept, without a question", () => {
    expect(replace.links).toBe(TOOL_NAMES.map((t) => (HARD_LINKED.includes(t) ? `${t} = nvct` : `${t} -> nvct`)).join("\n") + "\n");
    expect(replace.install).not.toContain("Configuration file");
    expect(replace.config).toBe(`${REFERENCE_CONFIG}.\n..\nconfig.toml\n`);
    expect(lines(replace.enabled)).toEqual(UNITS);
    expect(replace.verify).toBe(`??5?????? c ${CONFIG}\nexit: 0\n`);
  });

  test("a GPU container through nvct's hook, with the toolkit's config", () => {
    expect(replace.container).toContain("exit: 0");
    expect(parseReport(replace.container).gpus.length).toBe(3);
  });

  test("purging the toolkit's leftovers later keeps nvct's files; their postrm disables the refresh units, as the install warned", () => {
    expect(replace["purge-reference"]).toContain("exit: 0");
    expect(replace["links-after"]).toBe(replace.links);
    expect(replace["enabled-after"]).toBe("");
    expect(replace["container-after"]).toContain("exit: 0");
  });
});

describe("rpm -i / -U / -e (a private rpm database)", () => {
  test("installs the binary and its links, the default config, the refresh units enabled by their preset", () => {
    expect(rpm.install).toContain("exit: 0");
    expect(rpm.query).toBe(`nvct-${VERSION}-1.x86_64\nexit: 0\n`);
    expect(rpm.links).toBe(fresh.links);
    expect(rpm.config).toBe(defaultConfig());
    expect(lines(rpm.enabled)).toEqual(UNITS);
  });

  test("a GPU container through the installed hook", () => {
    expect(rpm.container).toContain("exit: 0");
    expect(parseReport(rpm.container).gpus.length).toBe(3);
  });

  test("an upgrade keeps the changed config.toml (noreplace); erase saves it as .rpmsave and leaves nothing else", () => {
    expect(rpm.upgrade).toContain("exit: 0");
    expect(rpm.upgrade).toContain(`nvct-${V2}-1.x86_64`);
    expect(rpm.kept).toBe("disable-require = true\nconfig.toml\n");
    expect(rpm.erase).toContain("exit: 0");
    expect(rpm.erase).toContain("package nvct is not installed");
    expect(lines(rpm["after-erase"])).toEqual([`${CONFIG}.rpmsave`]);
  });
});

describe("the machine itself", () => {
  test("is untouched: no file of the packages, nvct unknown to its dpkg, no cgroup of podman's runs", () => {
    expect(present()).toEqual(before);
    expect(before).toEqual([]);
    expect(spawnSync("dpkg-query", ["-W", "nvct"]).status).not.toBe(0);
  });
});

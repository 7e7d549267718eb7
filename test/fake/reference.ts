// The NVIDIA Container Toolkit's Debian packages (release 1.20.0, with libnvidia-container's and
// nvidia-docker2's) as dpkg sees them, for the test that installs nvct's package over them: their
// names, versions and relations (their debian/control files), their files at their paths
// (programs are shell scripts here), and maintainer scripts that do what theirs do to the
// machine: base's postinst writes /etc/nvidia-container-runtime/config.toml (no conffile) and
// enables the CDI refresh units as debhelper's systemd snippets do (`dh --with systemd`), its
// postrm masks them on removal and disables them on purge; the toolkit's postinst links
// nvidia-container-toolkit to the hook, and its postrm removes that link on purge.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export const REFERENCE_VERSION = "1.20.0-1";

/** What the toolkit's postinst leaves in config.toml on this fake machine (an operator's file). */
export const REFERENCE_CONFIG = `# config.toml of the NVIDIA Container Toolkit, changed by this machine's operator
disable-require = false

[nvidia-container-runtime]
log-level = "debug"
mode = "auto"
`;

interface FakePackage {
  name: string;
  version: string;
  fields: Record<string, string>;
  files?: Record<string, string>;
  links?: Record<string, string>;
  conffiles?: string[];
  scripts?: Record<string, string>;
}

const program = (name: string) => `#!/bin/sh\necho "reference ${name} $*"\n`;
const UNITS = "nvidia-cdi-refresh.path nvidia-cdi-refresh.service";
const V = REFERENCE_VERSION;

const PACKAGES: FakePackage[] = [
  {
    name: "libnvidia-container1",
    version: V,
    fields: { "Multi-Arch": "same", Section: "libs" },
    files: { "/usr/lib/x86_64-linux-gnu/libnvidia-container.so.1.20.0": "fake library\n" },
    links: { "/usr/lib/x86_64-linux-gnu/libnvidia-container.so.1": "libnvidia-container.so.1.20.0" },
  },
  {
    name: "libnvidia-container-tools",
    version: V,
    fields: { Depends: `libnvidia-container1 (>= ${V})` },
    files: { "/usr/bin/nvidia-container-cli": program("nvidia-container-cli") },
  },
  {
    name: "nvidia-container-toolkit-base",
    version: V,
    fields: {
      Breaks: "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook, nvidia-container-toolkit (<= 1.10.0-1)",
      Replaces: "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook",
    },
    files: {
      "/usr/bin/nvidia-container-runtime": program("nvidia-container-runtime"),
      "/usr/bin/nvidia-ctk": program("nvidia-ctk"),
      "/usr/bin/nvidia-cdi-hook": program("nvidia-cdi-hook"),
      "/lib/systemd/system/nvidia-cdi-refresh.path": "[Path]\nPathChanged=/usr/bin/nvidia-ctk\n[Install]\nWantedBy=multi-user.target\n",
      "/lib/systemd/system/nvidia-cdi-refresh.service": "[Service]\nType=oneshot\nExecStart=/usr/bin/nvidia-ctk cdi generate\n[Install]\nWantedBy=multi-user.target\n",
      "/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env": "# reference\n",
    },
    conffiles: ["/etc/nvidia-container-toolkit/nvidia-cdi-refresh.env"],
    scripts: {
      postinst: `#!/bin/sh
set -e
if [ "$1" = configure ] && [ ! -e /etc/nvidia-container-runtime/config.toml ]; then
  mkdir -p /etc/nvidia-container-runtime
  cat >/etc/nvidia-container-runtime/config.toml <<'EOF'
${REFERENCE_CONFIG}EOF
fi
for u in ${UNITS}; do
  deb-systemd-helper unmask "$u" >/dev/null || true
  if deb-systemd-helper --quiet was-enabled "$u"; then deb-systemd-helper enable "$u" >/dev/null 2>&1 || true; else deb-systemd-helper update-state "$u" >/dev/null || true; fi
done
`,
      postrm: `#!/bin/sh
set -e
if [ "$1" = remove ]; then deb-systemd-helper mask ${UNITS} >/dev/null || true; fi
if [ "$1" = purge ]; then deb-systemd-helper purge ${UNITS} >/dev/null || true; deb-systemd-helper unmask ${UNITS} >/dev/null || true; fi
`,
    },
  },
  {
    name: "nvidia-container-toolkit",
    version: V,
    fields: {
      Depends: `nvidia-container-toolkit-base (= ${V}), libnvidia-container-tools (= ${V}), libnvidia-container-tools (<< 2.0.0)`,
      Breaks: "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook",
      Replaces: "nvidia-container-runtime (<= 3.5.0-1), nvidia-container-runtime-hook",
    },
    files: { "/usr/bin/nvidia-container-runtime-hook": program("nvidia-container-runtime-hook") },
    scripts: {
      postinst: `#!/bin/sh
set -e
if [ "$1" = configure ] && [ -f /usr/bin/nvidia-container-runtime-hook ] && [ ! -e /usr/bin/nvidia-container-toolkit ]; then
  ln -s /usr/bin/nvidia-container-runtime-hook /usr/bin/nvidia-container-toolkit
fi
`,
      postrm: `#!/bin/sh
set -e
if [ "$1" = purge ] && [ -L /usr/bin/nvidia-container-toolkit ]; then rm /usr/bin/nvidia-container-toolkit; fi
exit 0
`,
    },
  },
  {
    name: "nvidia-docker2",
    version: "2.14.0-1",
    fields: { Architecture: "all", Depends: "nvidia-container-toolkit (>= 1.20.0-1)", Breaks: "nvidia-docker (<< 2.0.0)", Replaces: "nvidia-docker (<< 2.0.0)" },
  },
];

/** The package names, in the order they install (dependencies first). */
export const REFERENCE_PACKAGES = PACKAGES.map((p) => p.name);

/** Builds the fake reference packages in dir; returns their .deb files in install order. */
export function buildReferenceDebs(dir: string): string[] {
  return PACKAGES.map((p) => {
    const root = join(dir, `${p.name}-root`);
    rmSync(root, { recursive: true, force: true });
    mkdirSync(join(root, "DEBIAN"), { recursive: true });
    for (const [path, text] of Object.entries(p.files ?? {})) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
      chmodSync(join(root, path), path.includes("/bin/") ? 0o755 : 0o644);
    }
    for (const [path, target] of Object.entries(p.links ?? {})) symlinkSync(target, join(root, path));
    const fields = { Package: p.name, Version: p.version, Architecture: "amd64", Maintainer: "fake <fake@localhost>", ...p.fields, Description: `fake ${p.name} for nvct's package test` };
    writeFileSync(join(root, "DEBIAN/control"), Object.entries(fields).map(([k, v]) => `${k}: ${v}`).join("\n") + "\n");
    if (p.conffiles) writeFileSync(join(root, "DEBIAN/conffiles"), p.conffiles.join("\n") + "\n");
    for (const [name, text] of Object.entries(p.scripts ?? {})) {
      writeFileSync(join(root, "DEBIAN", name), text);
      chmodSync(join(root, "DEBIAN", name), 0o755);
    }
    const deb = join(dir, `${p.name}_${p.version}.deb`);
    const r = spawnSync("dpkg-deb", ["--root-owner-group", "-Znone", "--build", root, deb], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`dpkg-deb ${p.name}: ${r.stderr}`);
    rmSync(root, { recursive: true, force: true });
    return deb;
  });
}

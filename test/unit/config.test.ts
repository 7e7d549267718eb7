import { describe, expect, test } from "bun:test";
import { configPath, defaults, loadConfig, parseConfig } from "../../src/config/config";

describe("config.toml", () => {
  test("search order: -config, $NVIDIA_CTK_CONFIG_FILE_PATH, $XDG_CONFIG_HOME, /etc", () => {
    expect(configPath("/x.toml", { NVIDIA_CTK_CONFIG_FILE_PATH: "/y.toml" })).toBe("/x.toml");
    expect(configPath(undefined, { NVIDIA_CTK_CONFIG_FILE_PATH: "/y.toml", XDG_CONFIG_HOME: "/xdg" })).toBe("/y.toml");
    expect(configPath(undefined, { XDG_CONFIG_HOME: "/xdg" })).toBe("/xdg/nvidia-container-runtime/config.toml");
    expect(configPath(undefined, {})).toBe("/etc/nvidia-container-runtime/config.toml");
  });

  test("a missing file means the defaults", () => {
    expect(loadConfig("/nonexistent/config.toml")).toEqual(defaults());
  });

  test("the reference's sample keys are read", () => {
    const c = parseConfig(`
disable-require = true
swarm-resource = "DOCKER_RESOURCE_GPU"
accept-nvidia-visible-devices-envvar-when-unprivileged = false
accept-nvidia-visible-devices-as-volume-mounts = true
supported-driver-capabilities = "compute,utility"

[nvidia-container-cli]
root = "/run/nvidia/driver"
environment = []
debug = "/var/log/nvidia-container-toolkit.log"
ldcache = "/etc/ld.so.cache"
load-kmods = true
no-cgroups = true
ldconfig = "@/sbin/ldconfig.real"

[nvidia-container-runtime]
debug = "/var/log/nvidia-container-runtime.log"
log-level = "debug"
mode = "cdi"
runtimes = ["crun"]

[nvidia-container-runtime.modes.cdi]
default-kind = "example.com/gpu"
annotation-prefixes = ["cdi.k8s.io/", "x/"]
spec-dirs = ["/opt/cdi"]

[nvidia-container-runtime-hook]
path = "/opt/bin/nvidia-container-runtime-hook"
skip-mode-detection = true

[features]
allow-ldconfig-from-container = false

[nvct]
cache-dir = ""
`);
    expect(c).toMatchObject({
      disableRequire: true, swarmResource: "DOCKER_RESOURCE_GPU", acceptEnvvarUnprivileged: false, acceptVolumeMounts: true,
      supportedDriverCapabilities: "compute,utility",
      cli: { root: "/run/nvidia/driver", debug: "/var/log/nvidia-container-toolkit.log", noCgroups: true, ldconfig: "@/sbin/ldconfig.real" },
      runtime: { mode: "cdi", runtimes: ["crun"], logLevel: "debug", cdi: { defaultKind: "example.com/gpu", annotationPrefixes: ["cdi.k8s.io/", "x/"], specDirs: ["/opt/cdi"] } },
      hook: { path: "/opt/bin/nvidia-container-runtime-hook", skipModeDetection: true },
      features: { "allow-ldconfig-from-container": false },
      nvct: { cacheDir: "" },
    });
  });

  const bad: [string, string, string][] = [
    ["syntax error", "disable-require = ", "invalid config `t.toml`"],
    ["wrong type", "disable-require = \"yes\"", "`disable-require` must be a boolean, got \"yes\""],
    ["wrong type in a table", "[nvidia-container-cli]\nroot = 1", "`nvidia-container-cli.root` must be a string"],
    ["a list of the wrong kind", "[nvidia-container-runtime]\nruntimes = [1]", "`nvidia-container-runtime.runtimes` must be a list of strings"],
    ["a table that is not one", "nvidia-container-cli = 3", "`nvidia-container-cli` must be a table"],
    ["a non-boolean feature", "[features]\nx = 1", "`features.x` must be a boolean"],
  ];
  test.each(bad)("rejects %s, naming the key", (_d, text, msg) => {
    expect(() => parseConfig(text, "t.toml")).toThrow(msg);
  });
});

// Bad input, one clear line: every tool fed what a broken or hostile caller may hand it (the OCI
// state on stdin, a bundle's config.json, config.toml, CDI spec directories, command-line
// garbage). Each answers with the reference's status (non-zero, or what the reference does where
// it reads the input as "no GPU"), exactly one message on stderr that names the input, no stack
// trace, no `undefined`, no wasm trap text, within 10 s, and leaves nothing behind: the mount
// table of the fake host and the work directory are as before. Every case runs in one fake host
// session (test/e2e/cases.sh), the binary spawned directly: no container is needed to read input.
import { beforeAll, describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { THREE_MIXED } from "../fake/driver";
import { BIN, inFakeHost, scene } from "../setup";

const S = scene("badinput", { mixed: THREE_MIXED });
const CASES_SH = join(import.meta.dir, "cases.sh");

type Tool = "nvidia-container-runtime-hook" | "nvidia-container-runtime" | "nvidia-container-cli" | "nvidia-ctk" | "nvidia-cdi-hook";

interface Case {
  tool: Tool;
  name: string;
  /** Arguments; `D` in one is this case's directory, `W` the shared work directory. */
  args: string[];
  stdin?: string;
  env?: Record<string, string>;
  /** Files of the case, made in its directory before the run. */
  setup?: (d: string) => void;
  /** The exit status: a number, or any non-zero one (the default). */
  exit?: number | "nonzero";
  /** What the one message must say (the input it names). */
  says?: string | RegExp;
  /** How many message lines (default 1; 0: silent). */
  messages?: number;
  /** A usage error: the message is followed by the usage text, as the reference prints it. */
  usage?: boolean;
  /** What stdout must hold (the low-level runtime's answer, a listing). */
  stdout?: string | RegExp;
}

/** A tool's message lines: its name in front, or logrus's record (the Go tools). */
const MESSAGE: Record<Tool, RegExp> = {
  "nvidia-container-runtime-hook": /^nvidia-container-runtime-hook: /,
  "nvidia-container-runtime": /^nvidia-container-runtime: /,
  "nvidia-container-cli": /^nvidia-container-cli: /,
  "nvidia-ctk": /^(time="[^"]+" level=(error|warning) msg=|No help topic for )/,
  "nvidia-cdi-hook": /^time="[^"]+" level=(error|warning) msg=/,
};
/** What must never reach a user: a stack, an engine's source excerpt, a trap, a bug's words. */
const NEVER = [/\bundefined\b/, /^\s+at /m, /\.ts:\d+/, /\(In '/, /Unreachable/, /RuntimeError/, /TypeError/, /ReferenceError/, /internal error/];

// ---- the inputs ----

const spec = (env: string[] | unknown, o: Record<string, unknown> = {}) => ({
  ociVersion: "1.0.2",
  process: { args: ["/bin/true"], cwd: "/", env: Array.isArray(env) ? ["PATH=/bin", ...env] : env, capabilities: { bounding: ["CAP_KILL"] } },
  root: { path: "rootfs" },
  mounts: [{ destination: "/proc", type: "proc", source: "proc" }],
  ...o,
});
/** A bundle in d: its config.json (an object, or the raw text). */
function bundle(d: string, config: unknown): void {
  mkdirSync(join(d, "rootfs"), { recursive: true });
  if (config !== undefined) writeFileSync(join(d, "config.json"), typeof config === "string" ? config : JSON.stringify(config));
}
const state = (bundleDir: string, pid: number | string = "@PID@") => `{"ociVersion":"1.0.2","id":"c","status":"creating","pid":${pid},"bundle":"${bundleDir}"}`;
const fifo = (p: string) => spawnSync("mkfifo", [p]);
const KB100 = "x".repeat(100 * 1024);
const MB1_ID = "7".repeat(1 << 20);
const MB1_LIST = "0,1,".repeat(1 << 18);
// The hook reads its config with -config; the runtime from $NVIDIA_CTK_CONFIG_FILE_PATH, and runs a
// stand-in low-level runtime that prints its arguments (no container is made).
function hookCase(name: string, o: Partial<Case> & { config?: unknown; conf?: string }): Case {
  return {
    tool: "nvidia-container-runtime-hook",
    name,
    args: ["-config", o.conf ?? "W/hook.toml", "prestart"],
    stdin: o.stdin ?? state("D"),
    ...o,
    setup: (d) => {
      if ("config" in o) bundle(d, o.config);
      o.setup?.(d);
    },
  };
}

/** toml: the case's own config.toml (W/ and D/ in it are the directories), or "fifo". */
function runtimeCase(name: string, o: Partial<Case> & { config?: unknown; toml?: string }): Case {
  return {
    tool: "nvidia-container-runtime",
    name,
    args: ["create", "--bundle", "D", "c1"],
    env: { NVIDIA_CTK_CONFIG_FILE_PATH: o.toml ? "D/config.toml" : "W/runtime.toml" },
    ...o,
    setup: (d) => {
      if ("config" in o) bundle(d, o.config);
      if (o.toml === "fifo") fifo(join(d, "config.toml"));
      else if (o.toml) writeFileSync(join(d, "config.toml"), o.toml.replaceAll("D/", d + "/").replaceAll("W/", `${S.work}/bad/`));
      o.setup?.(d);
    },
  };
}

const CDI_MODE = `[nvidia-container-runtime]\nmode = "cdi"\nruntimes = ["W/fake-runc"]\n[nvidia-container-runtime.modes.cdi]\nspec-dirs = ["D/cdi"]\n`;
/** A spec directory holding one spec, `a.yaml` (text, or made by a function). */
function specDir(d: string, make: string | ((dir: string) => void)): void {
  const dir = join(d, "cdi");
  mkdirSync(dir, { recursive: true });
  if (typeof make === "string") writeFileSync(join(dir, "a.yaml"), make);
  else make(dir);
}
const CDI_DEVICE = (edits: string) => `cdiVersion: 0.6.0\nkind: nvidia.com/gpu\ndevices:\n- name: "0"\n  containerEdits:\n${edits}`;
const cdiCase = (name: string, make: string | ((dir: string) => void), says: string | RegExp): Case =>
  runtimeCase(name, { config: spec(["NVIDIA_VISIBLE_DEVICES=nvidia.com/gpu=0"]), toml: CDI_MODE, setup: (d) => specDir(d, make), says });

const CASES: Case[] = [
  // ---- nvidia-container-runtime-hook: the OCI state on stdin ----
  hookCase("state: empty", { stdin: "", says: "invalid OCI state on stdin: empty" }),
  hookCase("state: not JSON", { stdin: "pid=1 bundle=/x", says: "invalid OCI state on stdin" }),
  hookCase("state: an array", { stdin: "[1,2]", says: "invalid OCI state on stdin: not a JSON object" }),
  hookCase("state: no bundle", { stdin: '{"pid":1}', says: "no `bundle`" }),
  hookCase("state: a bundle that does not exist", { stdin: state("D/missing"), says: /`\/\S+\/missing\/config.json`: ENOENT/ }),
  hookCase("state: pid 0", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), stdin: state("D", 0), says: "bad `pid` 0" }),
  hookCase("state: a dead pid", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), stdin: state("D", 99999999), says: "no process 99999999" }),
  hookCase("state: 2 MB", { stdin: `{"pid":1,"bundle":"/x","annotations":{"a":"${"x".repeat(2 << 20)}"}}`, says: "larger than" }),
  // ---- the hook: config.json ----
  hookCase("config.json missing", { config: undefined, setup: (d) => mkdirSync(d, { recursive: true }), says: /config.json`: ENOENT/ }),
  hookCase("config.json truncated", { config: JSON.stringify(spec(["NVIDIA_VISIBLE_DEVICES=0"])).slice(0, 60), says: /invalid OCI spec `\S+config.json`/ }),
  hookCase("config.json of 50 MB (read whole, within the time)", { config: spec(["NVIDIA_VISIBLE_DEVICES=7"], { annotations: { pad: "p".repeat(50 << 20) } }), says: "unknown device `7`" }),
  hookCase("config.json over 64 MB", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"], { annotations: { pad: "p".repeat(65 << 20) } }), says: "larger than 67108864 bytes" }),
  hookCase("process is a string", { config: spec([], { process: "x" }), says: "`process` is not an object" }),
  hookCase("process.env is a string", { config: spec("NVIDIA_VISIBLE_DEVICES=all"), says: "`process.env` is not a list of strings" }),
  hookCase("process.env holds a number", { config: spec(["NVIDIA_VISIBLE_DEVICES=all", 7]), says: "`process.env` is not a list of strings" }),
  hookCase("process.capabilities is a list", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { process: { env: ["NVIDIA_VISIBLE_DEVICES=all"], capabilities: ["CAP_SYS_ADMIN"] } }), says: "`process.capabilities` is not an object" }),
  hookCase("mounts is an object", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { mounts: { a: 1 } }), says: "`mounts` is not a list of mounts" }),
  hookCase("entries without `=`: not variables, no GPU (as the reference)", { config: spec(["NVIDIA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICESX"]), exit: 0, messages: 0 }),
  hookCase("NVIDIA_VISIBLE_DEVICES: one id of 1 MB", { config: spec([`NVIDIA_VISIBLE_DEVICES=${MB1_ID}`]), says: /invalid device id `7{100}\.\.\.7+` \(1048576 characters\)/ }),
  hookCase("NVIDIA_VISIBLE_DEVICES: 1 MB of ids", { config: spec([`NVIDIA_VISIBLE_DEVICES=${MB1_LIST}`]), says: /too many devices requested in NVIDIA_VISIBLE_DEVICES \(524288; at most 4096\)/ }),
  hookCase("NVIDIA_VISIBLE_DEVICES with a NUL", { config: spec(["NVIDIA_VISIBLE_DEVICES=0\u00001"]), says: "invalid device id `0\\x001`" }),
  hookCase("NVIDIA_VISIBLE_DEVICES with a newline", { config: spec(["NVIDIA_VISIBLE_DEVICES=0\n1"]), says: "invalid device id `0\\n1`" }),
  hookCase("NVIDIA_VISIBLE_DEVICES not ASCII", { config: spec(["NVIDIA_VISIBLE_DEVICES=GPU-ünïcödé"]), says: "unknown device `GPU-ünïcödé`" }),
  hookCase("NVIDIA_DRIVER_CAPABILITIES not ASCII", { config: spec(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_DRIVER_CAPABILITIES=compute,ütility"]), says: "unknown driver capability `ütility`" }),
  hookCase("NVIDIA_REQUIRE_CUDA garbage", { config: spec(["NVIDIA_VISIBLE_DEVICES=0", "NVIDIA_REQUIRE_CUDA=cuda>>12"]), says: "invalid requirement `cuda>>12`" }),
  // ---- the hook: config.toml ----
  hookCase("config.toml unparsable", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), conf: "D/config.toml", setup: (d) => writeFileSync(join(d, "config.toml"), "[[[\n"), says: /invalid config `\S+config.toml`/ }),
  hookCase("config.toml: a wrong type", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), conf: "D/config.toml", setup: (d) => writeFileSync(join(d, "config.toml"), 'disable-require = "yes"\n'), says: '`disable-require` must be a boolean, got "yes"' }),
  hookCase("config.toml: an unknown key is a warning, the hook goes on", { config: spec(["NVIDIA_VISIBLE_DEVICES=void"]), conf: "D/config.toml", setup: (d) => writeFileSync(join(d, "config.toml"), "acept-nvidia-visible-devices-as-volume-mounts = true\n[nvidia-container-cli]\nrot = \"/\"\n"), exit: 0, messages: 2, says: /warning: unknown key `acept-nvidia-visible-devices-as-volume-mounts` in config `\S+config.toml` ignored/ }),
  hookCase("config.toml is a FIFO: refused at once", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), conf: "D/config.toml", setup: (d) => fifo(join(d, "config.toml")), says: /config `\S+config.toml`: not a regular file/ }),
  hookCase("config.toml is a directory", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), conf: "D/config.toml", setup: (d) => mkdirSync(join(d, "config.toml")), says: /config `\S+config.toml`: not a regular file/ }),
  hookCase("config.toml is a symlink loop", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), conf: "D/config.toml", setup: (d) => symlinkSync("config.toml", join(d, "config.toml")), says: /config `\S+config.toml`: ELOOP/ }),
  // ---- the hook: the command line ----
  hookCase("an unknown flag", { args: ["-bogus", "prestart"], says: "flag provided but not defined: -bogus", usage: true, exit: 2 }),
  hookCase("a flag without its value", { args: ["prestart", "-config"], says: "flag needs an argument: -config", usage: true, exit: 2 }),
  hookCase("an unknown command", { args: ["prestartx"], says: "unknown command `prestartx`", usage: true, exit: 2 }),
  hookCase("a 100 KB argument", { args: ["-config", `/${KB100}`, "prestart"], says: /config `\/x{99}\.\.\.x+` \(102401 characters\): ENAMETOOLONG/ }),

  // ---- nvidia-container-runtime ----
  runtimeCase("config.json missing", { config: undefined, setup: (d) => mkdirSync(d, { recursive: true }), says: /bundle `\S+`: ENOENT/ }),
  runtimeCase("config.json truncated", { config: '{"process": {"env": ["NVIDIA_VISIBLE', says: /OCI spec of bundle `\S+`/ }),
  runtimeCase("config.json of 50 MB", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"], { annotations: { pad: "p".repeat(50 << 20) } }), exit: 0, messages: 0, stdout: /^fake-runc create --bundle/ }),
  runtimeCase("process is a string", { config: spec([], { process: "x" }), says: "`process` is not an object" }),
  runtimeCase("process.env is a string", { config: spec("NVIDIA_VISIBLE_DEVICES=all"), says: "`process.env` is not a list of strings" }),
  runtimeCase("process.env holds a number", { config: spec([1]), says: "`process.env` is not a list of strings" }),
  runtimeCase("mounts holds a number", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { mounts: [1] }), says: "`mounts` is not a list of mounts" }),
  runtimeCase("annotations is a list", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { annotations: [1] }), says: "`annotations` is not a map of strings" }),
  runtimeCase("hooks is a string", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { hooks: "x" }), says: "`hooks` is not an object" }),
  runtimeCase("hooks.prestart is a string", { config: spec(["NVIDIA_VISIBLE_DEVICES=all"], { hooks: { prestart: "x" } }), says: "`hooks.prestart` is not a list of hooks" }),
  runtimeCase("entries without `=`: no GPU, runc runs", { config: spec(["NVIDIA_VISIBLE_DEVICES"]), exit: 0, messages: 0, stdout: /^fake-runc create/ }),
  runtimeCase("NVIDIA_VISIBLE_DEVICES: 1 MB of ids", { config: spec([`NVIDIA_VISIBLE_DEVICES=${MB1_LIST}`]), says: "too many devices requested in NVIDIA_VISIBLE_DEVICES (524288; at most 4096)" }),
  runtimeCase("NVIDIA_VISIBLE_DEVICES with a NUL: jit-cdi (auto) names the id, escaped", { config: spec(["NVIDIA_VISIBLE_DEVICES=0\u00001"]), says: "invalid device id `0\\x001`" }),
  runtimeCase("config.toml unparsable", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), toml: "mode = [\n", says: /invalid config `\S+config.toml`/ }),
  runtimeCase("config.toml: a wrong type", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), toml: "[nvidia-container-runtime]\nruntimes = \"runc\"\n", says: "`nvidia-container-runtime.runtimes` must be a list of strings" }),
  runtimeCase("config.toml: an unknown key is a warning", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), toml: '[nvidia-container-runtime]\nruntimes = ["W/fake-runc"]\nmdoe = "cdi"\n', exit: 0, says: /warning: unknown key `nvidia-container-runtime.mdoe`/, stdout: /^fake-runc create/ }),
  runtimeCase("config.toml is a FIFO", { config: spec(["NVIDIA_VISIBLE_DEVICES=0"]), toml: "fifo", says: /config `\S+config.toml`: not a regular file/ }),
  runtimeCase("--bundle without its value", { args: ["create", "--bundle"], says: "--bundle needs a value" }),
  runtimeCase("a 100 KB bundle path", { args: ["create", "--bundle", `/${KB100}`, "c1"], says: /bundle `\/x{99}\.\.\.x+` \(102401 characters\): ENAMETOOLONG/ }),
  runtimeCase("an unknown flag goes to runc, as the reference", { args: ["--bogus", "state", "c1"], exit: 0, messages: 0, stdout: "fake-runc --bogus state c1\n" }),
  cdiCase("cdi: a spec that is not YAML", "cdiVersion: 0.6.0\nkind: [x\n", /unresolvable CDI device `nvidia.com\/gpu=0` \(invalid CDI spec `\S+a.yaml` skipped: YAML Parse error/),
  cdiCase("cdi: a device named twice", CDI_DEVICE("    env: [A=1]\n") + '- name: "0"\n  containerEdits:\n    env: [A=2]\n', /invalid CDI spec `\S+a.yaml` skipped: devices\[1\]: device `0` defined twice/),
  cdiCase("cdi: a spec that is a symlink loop", (dir) => symlinkSync("a.yaml", join(dir, "a.yaml")), /`\S+a.yaml` skipped: ELOOP/),
  cdiCase("cdi: a spec that is a FIFO", (dir) => fifo(join(dir, "a.yaml")), /`\S+a.yaml` skipped: not a regular file/),
  cdiCase("cdi: a container path that climbs out", CDI_DEVICE("    mounts:\n    - {hostPath: /etc, containerPath: /../../../etc/x}\n"), "mount path `/../../../etc/x` leaves the container's root"),
  cdiCase("cdi: a relative host path", CDI_DEVICE("    mounts:\n    - {hostPath: ../../etc/shadow, containerPath: /x}\n"), "mount host path `../../etc/shadow` is not absolute"),

  // ---- nvidia-container-cli ----
  { tool: "nvidia-container-cli", name: "an unknown option", args: ["--bogus", "info"], says: "unrecognized option '--bogus'", usage: true },
  { tool: "nvidia-container-cli", name: "an option without its value", args: ["configure", "--pid"], says: "option '--pid' requires an argument", usage: true },
  { tool: "nvidia-container-cli", name: "configure --pid=0", args: ["configure", "--pid=0", "--device=0", "D/rootfs"], setup: (d) => bundle(d, undefined), says: "invalid pid `0`", usage: true },
  { tool: "nvidia-container-cli", name: "configure: a dead pid", args: ["configure", "--pid=99999999", "--device=0", "D/rootfs"], setup: (d) => bundle(d, undefined), says: "invalid pid `99999999`: no such process", usage: true },
  { tool: "nvidia-container-cli", name: "configure: a 100 KB device", args: ["configure", "--pid=@PID@", `--device=${KB100}`, "D/rootfs"], setup: (d) => bundle(d, undefined), says: /invalid device id `x{100}\.\.\.x+` \(102400 characters\)/ },
  { tool: "nvidia-container-cli", name: "configure: a device with a newline", args: ["configure", "--pid=@PID@", "--device=0\n1", "D/rootfs"], setup: (d) => bundle(d, undefined), says: "invalid device id `0\\n1`" },
  { tool: "nvidia-container-cli", name: "configure: a bad requirement", args: ["configure", "--pid=@PID@", "--device=0", "--require=cuda>>1", "D/rootfs"], setup: (d) => bundle(d, undefined), says: "invalid requirement `cuda>>1`" },
  { tool: "nvidia-container-cli", name: "configure: the rootfs /", args: ["configure", "--pid=@PID@", "--device=0", "/"], says: "invalid rootfs `/`", usage: true },
  { tool: "nvidia-container-cli", name: "--ldcache is a FIFO", args: ["--ldcache=D/ld.so.cache", "list"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "ld.so.cache")); }, says: /`\S+ld.so.cache`: not a regular file/ },
  { tool: "nvidia-container-cli", name: "--ldcache is garbage", args: ["--ldcache=D/ld.so.cache", "list"], setup: (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, "ld.so.cache"), "garbage\0".repeat(100)); }, says: "invalid ld.so.cache" },
  { tool: "nvidia-container-cli", name: "--debug is a FIFO: the log is dropped, never waited on", args: ["--debug=D/log", "info"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "log")); }, exit: 0, messages: 0, stdout: /NVRM version:/ },
  { tool: "nvidia-container-cli", name: "--root that does not exist", args: ["--root=D/none", "list"], setup: (d) => mkdirSync(d, { recursive: true }), says: /invalid root `\S+\/none`: no such directory/, usage: true },
  { tool: "nvidia-container-cli", name: "list -d an unknown device", args: ["list", "-d", "99"], says: "unknown device `99`" },

  // ---- nvidia-ctk ----
  { tool: "nvidia-ctk", name: "cdi generate --format=xml", args: ["cdi", "generate", "--format=xml"], says: "invalid --format `xml`" },
  { tool: "nvidia-ctk", name: "cdi generate --device-name-strategy=bogus", args: ["cdi", "generate", "--device-name-strategy=bogus"], says: "invalid --device-name-strategy `bogus`" },
  { tool: "nvidia-ctk", name: "cdi generate --output without its value", args: ["cdi", "generate", "--output"], says: "flag needs an argument: -output" },
  { tool: "nvidia-ctk", name: "cdi generate: an unknown flag", args: ["cdi", "generate", "--bogus"], says: "flag provided but not defined: -bogus" },
  { tool: "nvidia-ctk", name: "cdi generate: a bad boolean", args: ["cdi", "generate", "--no-all-device=maybe"], says: 'invalid boolean value \\"maybe\\" for -no-all-device' },
  { tool: "nvidia-ctk", name: "cdi generate: a 100 KB vendor", args: ["cdi", "generate", `--vendor=${KB100}`], says: /invalid --vendor `x{100}\.\.\.x+` \(102400 characters\)/ },
  { tool: "nvidia-ctk", name: "cdi generate: --output is a directory", args: ["cdi", "generate", "--output=D"], setup: (d) => mkdirSync(d, { recursive: true }), says: /failed to write `\S+`: not a regular file/ },
  { tool: "nvidia-ctk", name: "cdi generate: --output is a FIFO", args: ["cdi", "generate", "--output=D/spec.yaml"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "spec.yaml")); }, says: /`\S+spec.yaml`: not a regular file/ },
  { tool: "nvidia-ctk", name: "cdi generate: a driver root that does not exist", args: ["cdi", "generate", "--driver-root=D/none"], setup: (d) => mkdirSync(d, { recursive: true }), says: /`\S+\/none\/etc\/ld.so.cache`: ENOENT/ },
  { tool: "nvidia-ctk", name: "cdi generate: an unknown device id", args: ["cdi", "generate", "--device-id=zz"], says: "invalid device id `zz`" },
  { tool: "nvidia-ctk", name: "cdi list: a spec that is not YAML (warned, skipped, as the reference)", args: ["cdi", "list", "--spec-dir=D/cdi"], setup: (d) => specDir(d, "kind: [x\n"), exit: 0, says: /level=warning msg="invalid CDI spec `\S+a.yaml` skipped: YAML Parse error/ },
  { tool: "nvidia-ctk", name: "cdi list: a device named twice", args: ["cdi", "list", "--spec-dir=D/cdi"], setup: (d) => specDir(d, CDI_DEVICE("    env: [A=1]\n") + '- name: "0"\n  containerEdits: {}\n'), exit: 0, says: "device `0` defined twice" },
  { tool: "nvidia-ctk", name: "cdi list: a symlink loop", args: ["cdi", "list", "--spec-dir=D/cdi"], setup: (d) => specDir(d, (dir) => symlinkSync("a.yaml", join(dir, "a.yaml"))), exit: 0, says: /`\S+a.yaml` skipped: ELOOP/ },
  { tool: "nvidia-ctk", name: "cdi list: a FIFO", args: ["cdi", "list", "--spec-dir=D/cdi"], setup: (d) => specDir(d, (dir) => fifo(join(dir, "a.yaml"))), exit: 0, says: /`\S+a.yaml` skipped: not a regular file/ },
  { tool: "nvidia-ctk", name: "cdi transform root: the input is a FIFO", args: ["cdi", "transform", "root", "--from=/a", "--to=/b", "--input=D/in.yaml"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "in.yaml")); }, says: /`\S+in.yaml`: not a regular file/ },
  { tool: "nvidia-ctk", name: "cdi transform root: the input is not YAML", args: ["cdi", "transform", "root", "--from=/a", "--to=/b", "--input=D/in.yaml"], setup: (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, "in.yaml"), "kind: [x\n"); }, says: /invalid CDI spec `\S+in.yaml`/ },
  { tool: "nvidia-ctk", name: "cdi transform root without --to", args: ["cdi", "transform", "root", "--from=/a"], says: "missing --to" },
  { tool: "nvidia-ctk", name: "runtime configure --runtime=bogus", args: ["runtime", "configure", "--runtime=bogus", "--config=D/daemon.json"], says: "unrecognized runtime 'bogus'" },
  { tool: "nvidia-ctk", name: "runtime configure: daemon.json not JSON (left as it was)", args: ["runtime", "configure", "--runtime=docker", "--config=D/daemon.json"], setup: (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, "daemon.json"), "{not json"); }, says: /`\S+daemon.json`/ },
  { tool: "nvidia-ctk", name: "runtime configure: daemon.json is a FIFO", args: ["runtime", "configure", "--runtime=docker", "--config=D/daemon.json"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "daemon.json")); }, says: /`\S+daemon.json`: not a regular file/ },
  { tool: "nvidia-ctk", name: "config: the file is not TOML", args: ["config", "--config-file=D/c.toml"], setup: (d) => { mkdirSync(d, { recursive: true }); writeFileSync(join(d, "c.toml"), "[[[\n"); }, says: /invalid config `\S+c.toml`/ },
  { tool: "nvidia-ctk", name: "config: the file is a FIFO", args: ["config", "--config-file=D/c.toml"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "c.toml")); }, says: /`\S+c.toml`: not a regular file/ },
  { tool: "nvidia-ctk", name: "config --set an unknown key", args: ["config", "--config-file=D/c.toml", "--set", "bogus=1"], setup: (d) => mkdirSync(d, { recursive: true }), says: "unknown config key `bogus`" },
  { tool: "nvidia-ctk", name: "an unknown command (exit 3, as the reference)", args: ["bogus"], exit: 3, says: "No help topic for 'bogus'" },
  { tool: "nvidia-ctk", name: "hook create-symlinks: a malformed link", args: ["hook", "create-symlinks", "--link", "zz"], says: "invalid --link `zz`" },

  // ---- nvidia-cdi-hook ----
  { tool: "nvidia-cdi-hook", name: "state: empty", args: ["create-symlinks", "--link", "a::/b"], stdin: "", says: "invalid OCI state on stdin: empty" },
  { tool: "nvidia-cdi-hook", name: "state: not JSON", args: ["create-symlinks", "--link", "a::/b"], stdin: "{", says: "invalid OCI state on stdin" },
  { tool: "nvidia-cdi-hook", name: "state: an array", args: ["create-symlinks", "--link", "a::/b"], stdin: "[]", says: "not a JSON object" },
  { tool: "nvidia-cdi-hook", name: "state: no bundle", args: ["create-symlinks", "--link", "a::/b"], stdin: '{"pid":1}', says: "no `bundle`" },
  { tool: "nvidia-cdi-hook", name: "state: a bundle that does not exist", args: ["create-symlinks", "--link", "a::/b"], stdin: state("D/missing"), says: /missing\/config.json`: ENOENT/ },
  { tool: "nvidia-cdi-hook", name: "state: pid 0", args: ["create-symlinks", "--link", "a::/b"], stdin: state("D", 0), setup: (d) => bundle(d, spec([])), says: "bad `pid` 0" },
  { tool: "nvidia-cdi-hook", name: "config.json truncated", args: ["create-symlinks", "--link", "a::/b"], stdin: state("D"), setup: (d) => bundle(d, '{"root": {"pa'), says: /invalid OCI spec `\S+config.json`/ },
  { tool: "nvidia-cdi-hook", name: "process is a string", args: ["create-symlinks", "--link", "a::/b"], stdin: state("D"), setup: (d) => bundle(d, spec([], { process: 1 })), says: "`process` is not an object" },
  { tool: "nvidia-cdi-hook", name: "root.path climbs to the host's root", args: ["create-symlinks", "--link", "a::/b"], stdin: state("D"), setup: (d) => bundle(d, spec([], { root: { path: "../../../../../../../.." } })), says: "root.path is /" },
  { tool: "nvidia-cdi-hook", name: "--link without its value", args: ["create-symlinks", "--link"], says: "flag needs an argument: -link" },
  { tool: "nvidia-cdi-hook", name: "a 100 KB link", args: ["create-symlinks", "--link", KB100], says: /invalid --link `x{100}\.\.\.x+` \(102400 characters\)/ },
  { tool: "nvidia-cdi-hook", name: "chmod --mode 999", args: ["chmod", "--mode", "999", "--path", "/x"], says: "invalid --mode `999`" },
  { tool: "nvidia-cdi-hook", name: "an unknown flag", args: ["create-symlinks", "--bogus"], says: "flag provided but not defined: -bogus" },
  { tool: "nvidia-cdi-hook", name: "update-ldcache --folder relative", args: ["update-ldcache", "--folder", "lib"], says: "invalid --folder `lib`" },
  { tool: "nvidia-cdi-hook", name: "--container-spec is a FIFO", args: ["chmod", "--mode", "755", "--path", "/x", "--container-spec=D/state"], setup: (d) => { mkdirSync(d, { recursive: true }); fifo(join(d, "state")); }, says: /`\S+state`: not a regular file/ },
];

// ---- the run: every case in one fake host ----

interface Result {
  rc: number;
  out: string;
  err: string;
  ms: number;
}
const results: Result[] = [];
let mounts = { before: "", after: "" };
let tree = { before: new Map<string, string>(), after: new Map<string, string>() };
let runMs = 0;

/** The work directory: each path's type, size, mode and mtime, without the runner's result files. */
function listing(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const n of readdirSync(d).sort()) {
      const p = join(d, n);
      if (["rc", "out", "err", "ms", "mounts.before", "mounts.after"].includes(n)) continue;
      const st = lstatSync(p);
      out.set(p.slice(dir.length), `${st.isDirectory() ? "d" : st.isFIFO() ? "p" : st.isSymbolicLink() ? "l" : "f"} ${st.isFile() ? st.size : ""} ${(st.mode & 0o7777).toString(8)} ${st.isFile() ? st.mtimeMs : ""}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

beforeAll(() => {
  const W = join(S.work, "bad");
  mkdirSync(W);
  writeFileSync(join(W, "hook.toml"), "[nvct]\ncache-dir = \"\"\n");
  writeFileSync(join(W, "fake-runc"), "#!/bin/sh\necho fake-runc \"$@\"\n");
  chmodSync(join(W, "fake-runc"), 0o755);
  writeFileSync(join(W, "runtime.toml"), `[nvidia-container-runtime]\nruntimes = ["${W}/fake-runc"]\n[nvct]\ncache-dir = ""\n`);
  const sub = (s: string, d: string) => s.replaceAll("W/", `${W}/`).replace(/^D(?=\/|$)/, d).replaceAll("=D/", `=${d}/`).replaceAll("=D", `=${d}`).replaceAll('"D/', `"${d}/`).replaceAll('"D"', `"${d}"`);
  CASES.forEach((c, i) => {
    const d = join(W, String(i).padStart(3, "0"));
    c.setup?.(d);
    mkdirSync(d, { recursive: true });
    const argv = [join(BIN, c.tool), ...c.args.map((a) => sub(a, d))];
    writeFileSync(join(d, "argv"), argv.join("\0") + "\0");
    if (c.stdin !== undefined) writeFileSync(join(d, "stdin"), sub(c.stdin, d));
    if (c.env) writeFileSync(join(d, "env"), Object.entries(c.env).map(([k, v]) => `${k}=${sub(v, d)}\0`).join(""));
  });
  tree.before = listing(W);
  const t = performance.now();
  const r = inFakeHost(S.driver(), [CASES_SH, W], { timeout: 600_000 });
  runMs = performance.now() - t;
  if (r.status !== 0) throw new Error(`cases.sh failed (${r.status}): ${r.stderr}`);
  tree.after = listing(W);
  mounts = { before: readFileSync(join(W, "mounts.before"), "utf8"), after: readFileSync(join(W, "mounts.after"), "utf8") };
  CASES.forEach((_c, i) => {
    const d = join(W, String(i).padStart(3, "0"));
    results.push({ rc: Number(readFileSync(join(d, "rc"), "utf8")), out: readFileSync(join(d, "out"), "utf8"), err: readFileSync(join(d, "err"), "utf8"), ms: Number(readFileSync(join(d, "ms"), "utf8")) });
  });
  console.log(`bad input: ${CASES.length} cases in ${(runMs / 1000).toFixed(1)} s, the slowest ${Math.max(...results.map((r) => r.ms))} ms`);
}, 600_000);

describe("bad input, one clear line", () => {
  test.each(CASES.map((c, i) => [`${c.tool}: ${c.name}`, i] as const))("%s", (_n, i) => {
    const c = CASES[i];
    const r = results[i];
    const show = `rc ${r.rc}, ${r.ms} ms\nstderr: ${r.err.slice(0, 2000)}\nstdout: ${r.out.slice(0, 500)}`;
    // Within its time: never killed by the timeout (124, 137), well under 10 s.
    expect([124, 137].includes(r.rc), show).toBe(false);
    expect(r.ms, show).toBeLessThan(10_000);
    if (c.exit === undefined || c.exit === "nonzero") expect(r.rc, show).not.toBe(0);
    else expect(r.rc, show).toBe(c.exit);
    const lines = r.err.split("\n").filter((l) => l.length > 0);
    const messages = lines.filter((l) => MESSAGE[c.tool].test(l));
    expect(messages.length, show).toBe(c.messages ?? 1);
    // Nothing but the messages, save the usage text that follows a usage error (as the reference's).
    if (!c.usage) expect(lines.length, show).toBe(messages.length);
    else expect(lines[0], show).toMatch(MESSAGE[c.tool]);
    if (c.says !== undefined) {
      const named = messages.some((m) => (typeof c.says === "string" ? m.includes(c.says) : c.says!.test(m)));
      expect(named, `${show}\nwanted: ${c.says}`).toBe(true);
    }
    for (const bad of NEVER) expect(`${r.err}\n${r.out}`, show).not.toMatch(bad);
    if (c.stdout !== undefined) {
      if (typeof c.stdout === "string") expect(r.out).toBe(c.stdout);
      else expect(r.out).toMatch(c.stdout);
    }
  });

  test("nothing is left: the fake host's mount table as before, no file made or removed, and a failed case's files untouched", () => {
    expect(mounts.after).toBe(mounts.before);
    expect([...tree.after.keys()]).toEqual([...tree.before.keys()]);
    const failed = CASES.map((_c, i) => `/${String(i).padStart(3, "0")}/`).filter((_p, i) => results[i].rc !== 0);
    const changed = [...tree.before].filter(([p, v]) => tree.after.get(p) !== v).map(([p]) => p);
    // Only a case that succeeded may have changed its files (the runtime's edit of config.json).
    expect(changed.filter((p) => failed.some((f) => p.startsWith(f)))).toEqual([]);
  });
});

// nvidia-docker: nvidia-docker2's wrapper script, as a tool of this binary. The commands that
// make a container get `--runtime=nvidia` (and the host's NV_GPU as the container's
// NVIDIA_VISIBLE_DEVICES); then docker is exec'd in this process's place (same pid, stdio and
// exit status), so nothing stands between docker and its caller. Everything else, `--help`
// included, is docker's own: the script had no options of its own and neither does this.
import { asNvctError, NvctError } from "../errors";
import type { Env, Io } from "../io";
import { VERSION } from "../version";
import { lookPath } from "../discover/path";

const TOOL = "nvidia-docker";

/** How one level of docker's flags is spelt (pflag: `--name=v`, `--name v`, `-abc`, `-Hv`, `-H v`). */
interface Flags {
  longBool: Set<string>;
  longValue: Set<string>;
  shortBool: string;
  shortValue: string;
  /** An option not listed takes a value (true) or stops the scan (false: its arity is unknown). */
  unknownTakesValue: boolean;
}

/** docker's global options, the ones allowed before the command word. */
const GLOBAL: Flags = {
  longBool: new Set(["--debug", "--tls", "--tlsverify", "--version", "--help"]),
  longValue: new Set(["--config", "--context", "--host", "--log-level", "--tlscacert", "--tlscert", "--tlskey"]),
  shortBool: "Dvh",
  shortValue: "cHl",
  unknownTakesValue: false,
};

/**
 * `docker run` / `create`: the boolean options are few and listed (docker 20.10 to 28); every
 * other option takes a value, so a new value option of docker's is read right without a release.
 */
const RUN: Flags = {
  longBool: new Set(["--detach", "--disable-content-trust", "--help", "--init", "--interactive", "--no-healthcheck", "--oom-kill-disable", "--privileged", "--publish-all", "--quiet", "--read-only", "--rm", "--sig-proxy", "--tty", "--use-api-socket"]),
  longValue: new Set(),
  shortBool: "diPqt",
  shortValue: "",
  unknownTakesValue: true,
};

/** The words the option at argv[i] spans (1 or 2), or 0 when its arity is not known. */
function optionWords(argv: string[], i: number, f: Flags): number {
  const a = argv[i];
  if (a.startsWith("--")) {
    if (a.includes("=") || f.longBool.has(a)) return 1;
    return f.longValue.has(a) || f.unknownTakesValue ? 2 : 0;
  }
  // A cluster of short options: booleans until one that takes a value, which takes the rest of
  // the word (after an `=`, if any) or, at the end of the word, the next one.
  for (let j = 1; j < a.length; j++) {
    const c = a[j];
    if (f.shortBool.includes(c)) {
      if (a[j + 1] === "=") return 1;
      continue;
    }
    if (!f.shortValue.includes(c) && !f.unknownTakesValue) return 0;
    return j + 1 < a.length ? 1 : 2;
  }
  return 1;
}

const isOperand = (a: string) => a === "-" || !a.startsWith("-");

/**
 * Where docker's command word is: the first operand after its global options, or the word after
 * a `--` that ends them (docker runs `docker -- run IMAGE` as `docker run IMAGE`); -1 when there
 * is none, or when an option of unknown arity comes first (then nothing is added: a guess could
 * read its value as the command).
 */
export function commandIndex(argv: string[]): number {
  for (let i = 0; i < argv.length; ) {
    if (argv[i] === "--") return i + 1 < argv.length ? i + 1 : -1;
    if (isOperand(argv[i])) return i;
    const n = optionWords(argv, i, GLOBAL);
    if (n === 0) return -1;
    i += n;
  }
  return -1;
}

/** The index of the `run`/`create` word of `[container] run|create`, or -1 for any other command. */
function containerCommandIndex(argv: string[]): number {
  const at = commandIndex(argv);
  if (at < 0) return -1;
  const makes = (w: string | undefined) => w === "run" || w === "create";
  if (makes(argv[at])) return at;
  if (argv[at] === "container" && makes(argv[at + 1])) return at + 1;
  return -1;
}

/**
 * The user gave `--runtime` to run/create: looked for among the options only, up to the image
 * (or `--`), since what follows the image is the container's own command line.
 */
function givesRuntime(argv: string[], from: number): boolean {
  for (let i = from; i < argv.length; ) {
    const a = argv[i];
    if (a === "--" || isOperand(a)) return false;
    if (a === "--runtime" || a.startsWith("--runtime=")) return true;
    i += optionWords(argv, i, RUN);
  }
  return false;
}

/** NV_GPU as a device list: `0 1`, `0,1` and `0, 1` alike mean `0,1`; blank means none. */
export function nvGpu(value: string | undefined): string | undefined {
  const ids = (value ?? "").split(/[\s,]+/).filter(Boolean);
  return ids.length ? ids.join(",") : undefined;
}

/**
 * docker's argv for nvidia-docker's: `[container] run|create` gets `--runtime=nvidia` (unless
 * the user chose a runtime) and, with NV_GPU set, `-e NVIDIA_VISIBLE_DEVICES=<NV_GPU>`, right
 * after the command word, so that the user's own options still come later and win. Every other
 * command is returned unchanged.
 */
export function dockerArgs(argv: string[], env: Env): string[] {
  const at = containerCommandIndex(argv);
  if (at < 0) return [...argv];
  const added: string[] = [];
  if (!givesRuntime(argv, at + 1)) added.push("--runtime=nvidia");
  const gpus = nvGpu(env.NV_GPU);
  if (gpus) added.push("-e", `NVIDIA_VISIBLE_DEVICES=${gpus}`);
  return [...argv.slice(0, at + 1), ...added, ...argv.slice(at + 1)];
}

/** A word as a shell would need it written (for the NV_DEBUG trace). */
const quote = (s: string) => (/^[\w@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`);

export async function nvidiaDocker(argv: string[], env: Env, io: Io): Promise<number> {
  try {
    // NV_DOCKER names another docker (a path, or a name looked up in PATH), as the script allowed.
    const name = env.NV_DOCKER || "docker";
    const docker = lookPath(name, env);
    if (!docker) {
      const where = name.includes("/") ? "no such file" : "not found on PATH";
      throw new NvctError("docker", `cannot run \`${name}\`: ${where}${env.NV_DOCKER ? " (NV_DOCKER)" : ""}`);
    }
    const args = dockerArgs(argv, env);
    // The script's own line ahead of docker's version, so that a bug report shows the wrapper.
    if (argv[commandIndex(argv)] === "version") io.stdout(`NVIDIA Docker: ${VERSION}\n`);
    if (env.NV_DEBUG) io.stderr(`+ exec ${[name, ...args].map(quote).join(" ")}\n`);
    const { execve } = await import("../sys/exec");
    const envList = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
    execve(docker, [name, ...args], envList);
  } catch (err) {
    io.stderr(`${TOOL}: ${asNvctError(err).message}\n`);
    return 1;
  }
  return 1;
}

// `nvidia-ctk system create-device-nodes | create-dev-char-symlinks`.
import { existsSync, mkdirSync, readdirSync, symlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { procDevices, statNode } from "../../discover/driver";
import { NvctError } from "../../errors";
import { AT_FDCWD, sys } from "../../sys/libc";
import { logrusLine, noOperands, type Command } from "../runner";

const COMMON = {
  "dev-root": { type: "string", description: "Where /dev is (default: the driver root, /)" },
  "driver-root": { type: "string", alias: "root", description: "The driver root (default /)" },
  "dry-run": { type: "boolean", description: "Print what would be done" },
} as const;

function devRoot(a: Record<string, any>): string {
  const d: string = a["dev-root"] ?? a["driver-root"] ?? "/";
  if (!d.startsWith("/")) throw new NvctError("usage", `invalid --dev-root \`${d}\`: want an absolute path`);
  return d;
}

const CREATE_NODES: Command = {
  name: "create-device-nodes",
  description: "Create the NVIDIA control device nodes (mode 0666)",
  args: {
    ...COMMON,
    "control-devices": { type: "boolean", description: "The control nodes: nvidiactl, nvidia-modeset, nvidia-uvm, nvidia-uvm-tools" },
    "load-kernel-modules": { type: "boolean", description: "Accepted for compatibility: nvct loads no modules" },
  },
  run(c) {
    const a = c.args;
    noOperands(a);
    if (!a["control-devices"]) throw new NvctError("usage", "create-device-nodes: nothing to do (use --control-devices)");
    const root = devRoot(a);
    const majors = new Map(procDevices().map((m) => [m.name, m.value]));
    const nvidia = majors.get("nvidia-frontend") ?? majors.get("nvidia") ?? 195;
    const want: [string, number | undefined, number][] = [
      ["nvidiactl", nvidia, 255],
      ["nvidia-modeset", nvidia, 254],
      ["nvidia-uvm", majors.get("nvidia-uvm"), 0],
      ["nvidia-uvm-tools", majors.get("nvidia-uvm"), 1],
    ];
    for (const [name, major, minor] of want) {
      const path = join(root, "dev", name);
      if (major === undefined) continue;
      if (existsSync(path)) {
        c.io.stderr(logrusLine("info", `Skipping: ${path} already exists`));
        continue;
      }
      if (a["dry-run"]) {
        c.io.stderr(logrusLine("info", `Running: mknod --mode=0666 ${path} c ${major} ${minor}`));
        continue;
      }
      sys.mknodat(AT_FDCWD, path, 0o20666, major, minor);
      // mknod's mode passes through the umask: every process must be able to open these.
      sys.chmod(AT_FDCWD, path, 0o666);
    }
  },
};

const CHAR_LINKS: Command = {
  name: "create-dev-char-symlinks",
  description: "Create the /dev/char/MAJOR:MINOR links of the NVIDIA nodes",
  args: { ...COMMON, "create-all": { type: "boolean", description: "For every NVIDIA node (the default)" } },
  run(c) {
    const a = c.args;
    noOperands(a);
    const root = devRoot(a);
    let names: string[] = [];
    try {
      names = readdirSync(join(root, "dev"));
    } catch (e) {
      throw new NvctError("config", `failed to read \`${join(root, "dev")}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
    }
    for (const n of names.filter((x) => x.startsWith("nvidia")).sort()) {
      const node = statNode(join(root, "dev", n));
      if (!node) continue;
      const link = join(root, "dev", "char", `${node.major}:${node.minor}`);
      if (existsSync(link)) continue;
      if (a["dry-run"]) c.io.stderr(logrusLine("info", `Creating link ${link} => ../${n}`));
      else {
        mkdirSync(dirname(link), { recursive: true });
        symlinkSync(`../${n}`, link);
      }
    }
  },
};

export const SYSTEM: Command = {
  name: "system",
  description: "System settings: device nodes and their /dev/char links",
  sub: {
    "create-device-nodes": { description: CREATE_NODES.description, load: async () => CREATE_NODES },
    "create-dev-char-symlinks": { description: CHAR_LINKS.description, load: async () => CHAR_LINKS },
  },
};

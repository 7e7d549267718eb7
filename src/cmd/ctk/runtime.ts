// `nvidia-ctk runtime configure`: the nvidia runtime in an engine's config (src/engines/), as the
// newest toolkit writes it (containerd and CRI-O: a drop-in file by default); every file written
// atomically, or printed with --dry-run.
import { writeAtomic } from "../../atomic";
import { ENGINES } from "../../engines";
import { readRegularText } from "../../files";
import { NvctError } from "../../errors";
import { logrusReport } from "../runner";
import { logrusLine, noOperands, type Command } from "../runner";

const CONFIGURE: Command = {
  name: "configure",
  description: "Add the NVIDIA runtime to a container engine's config",
  args: {
    runtime: { type: "string", description: "docker | containerd | crio | podman (default docker)" },
    config: { type: "string", description: "The engine's config file (default: its usual path)" },
    "drop-in-config": { type: "string", description: "Where the settings go (containerd, crio; default /etc/containerd/conf.d/99-nvidia.toml, /etc/crio/crio.conf.d/99-nvidia.toml; \"\": the config file itself)" },
    "config-source": { type: "string", description: "Accepted for compatibility (the file is the source)" },
    "config-mode": { type: "string", description: "Accepted for compatibility (config file)" },
    "nvidia-set-as-default": { type: "boolean", alias: "set-as-default", description: "Make the nvidia runtime the default" },
    "nvidia-runtime-name": { type: "string", description: "The runtime's name (default nvidia)" },
    "nvidia-runtime-path": { type: "string", alias: "runtime-path", description: "The runtime binary (default /usr/bin/nvidia-container-runtime)" },
    "nvidia-runtime-hook-path": { type: "string", alias: "hook-path", description: "podman: the prestart hook (default /usr/bin/nvidia-container-runtime-hook)" },
    "cdi.enabled": { type: "boolean", alias: ["cdi.enable", "enable-cdi"], description: "Enable CDI in the engine (docker, containerd)" },
    "oci-hook-path": { type: "string", description: "Accepted for compatibility" },
    "executable-path": { type: "string", description: "Accepted for compatibility" },
    "dry-run": { type: "boolean", description: "Print the result instead of writing it" },
  },
  run(c) {
    const a = c.args;
    noOperands(a);
    const name: string = a.runtime ?? "docker";
    const engine = ENGINES[name];
    if (!engine) throw new NvctError("usage", `unrecognized runtime '${name}'`);
    const runtimeName = a["nvidia-runtime-name"] ?? "nvidia";
    if (!/^[A-Za-z0-9_.-]+$/.test(runtimeName)) throw new NvctError("usage", `invalid --nvidia-runtime-name \`${runtimeName}\``);
    const path: string = a["nvidia-runtime-path"] ?? (name === "docker" ? "nvidia-container-runtime" : "/usr/bin/nvidia-container-runtime");
    if (name !== "docker" && !path.startsWith("/")) throw new NvctError("usage", `the NVIDIA runtime path "${path}" is not an absolute path`);
    const dropIn: string = a["drop-in-config"] ?? engine.dropIn;
    if (dropIn && !dropIn.startsWith("/")) throw new NvctError("usage", `the drop-in-config path "${dropIn}" is not an absolute path`);
    const hookPath: string = a["nvidia-runtime-hook-path"] ?? "/usr/bin/nvidia-container-runtime-hook";
    if (!hookPath.startsWith("/")) throw new NvctError("usage", `invalid --nvidia-runtime-hook-path \`${hookPath}\`: want an absolute path`);
    if (a["cdi.enabled"] && name === "crio") logrusReport("warning", "Ignoring cdi.enabled flag for crio", c.io);
    const file: string = a.config ?? engine.config;
    let text = "";
    try {
      text = readRegularText(file, 16 << 20);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw new NvctError("config", `failed to read \`${file}\`: ${(e as NodeJS.ErrnoException).code ?? e}`, e);
    }
    const outputs = engine.configure({ file, text, dropIn, options: { name: runtimeName, path, setAsDefault: !!a["nvidia-set-as-default"], cdi: !!a["cdi.enabled"] && name !== "crio", hookPath } });
    if (a["dry-run"]) {
      for (const o of outputs) c.io.stdout(outputs.length > 1 ? `# ${o.path}\n${o.text}` : o.text);
      return;
    }
    for (const o of outputs) {
      writeAtomic(o.path, o.text);
      c.io.stderr(logrusLine("info", `Wrote updated config to ${o.path}`));
    }
    c.io.stderr(logrusLine("info", `It is recommended that ${name} daemon be restarted.`));
  },
};

export const RUNTIME: Command = {
  name: "runtime",
  description: "Configure a container engine for the NVIDIA runtime",
  sub: { configure: { description: CONFIGURE.description, load: async () => CONFIGURE } },
};

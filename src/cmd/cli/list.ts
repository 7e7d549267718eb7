// `nvidia-container-cli list`: the host paths a container would get, by the core's listing over
// the same facts as the hook's plan. No option lists everything but the MIG capabilities.
import { core } from "../../core";
import { driverFacts } from "../../engine/facts";
import { noOperands, type Command } from "../runner";
import { globals } from "./index";

export const LIST: Command = {
  name: "list",
  description: "List the driver components a container needs for GPU support.",
  args: {
    device: { type: "string", alias: "d", description: "Device ids to list (repeatable; e.g. all, 0,1, GPU-..., 0:1)" },
    libraries: { type: "boolean", alias: "l", description: "List driver libraries" },
    binaries: { type: "boolean", alias: "b", description: "List driver binaries" },
    ipcs: { type: "boolean", alias: "i", description: "List driver IPCs" },
    firmwares: { type: "boolean", alias: "f", description: "List driver firmware" },
    compat32: { type: "boolean", description: "Include 32-bit libraries" },
    "mig-config": { type: "string", description: "MIG devices to list config capability files for (all)" },
    "mig-monitor": { type: "string", description: "MIG devices to list monitor capability files for (all)" },
    "imex-channel": { type: "string", description: "IMEX channel to list (repeatable)" },
    "no-persistenced": { type: "boolean", description: "Do not list the persistenced socket" },
    "no-fabricmanager": { type: "boolean", description: "Do not list the fabricmanager socket" },
  },
  repeatable: ["device", "imex-channel"],
  run(c) {
    noOperands(c.args);
    const a = c.args;
    const g = globals(c);
    g.log.debug("command", { command: "list" });
    const given = Object.keys(a).filter((k) => k !== "_" && (Array.isArray(a[k]) ? a[k].length > 0 : a[k] !== undefined));
    const everything = given.length === 0;
    const devices: string[] = (a.device as string[]).flatMap((d) => d.split(","));
    const facts = driverFacts({ driver: g.driver, mpsPipeDir: c.env.CUDA_MPS_PIPE_DIRECTORY, log: (m, d) => g.log.debug(m, d ?? "") });
    const paths = core().listing({
      options: {
        devices: everything ? ["all"] : (a.device as string[]).length > 0 ? devices.map((d) => d.trim()).filter(Boolean) : undefined,
        migConfig: a["mig-config"] ?? "",
        migMonitor: a["mig-monitor"] ?? "",
        imex: (a["imex-channel"] as string[]).flatMap((x) => x.split(",")).filter(Boolean),
        libraries: everything || !!a.libraries,
        compat32: everything || !!a.compat32,
        binaries: everything || !!a.binaries,
        ipcs: everything || !!a.ipcs,
        firmware: everything || !!a.firmwares,
        noPersistenced: !!a["no-persistenced"],
        noFabricmanager: !!a["no-fabricmanager"],
        mpsPipeDir: c.env.CUDA_MPS_PIPE_DIRECTORY ?? "",
      },
      driver: facts,
    });
    c.io.stdout(paths.map((p) => p + "\n").join(""));
  },
};

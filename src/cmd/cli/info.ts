// `nvidia-container-cli info [--csv]`: the driver and its GPUs, as libnvidia-container prints them.
import { driverEntries } from "../../engine/facts";
import { NvctError } from "../../errors";
import { nvmlPath, readInventory } from "../../discover/inventory";
import type { NvmlInventory } from "../../sys/nvml";
import { noOperands, type Command } from "../runner";
import { globals } from "./index";

export function formatInfo(inv: NvmlInventory, csv: boolean): string {
  if (csv) {
    const rows = inv.gpus.map((g) => [g.index, g.minor, g.model, g.brand, g.uuid, g.busId, g.arch].join(","));
    return `NVRM version,CUDA version\n${inv.driver},${inv.cuda}\n\nDevice Index,Device Minor,Model,Brand,GPU UUID,Bus Location,Architecture\n${rows.map((r) => r + "\n").join("")}`;
  }
  const f = (label: string, v: string | number) => `${label.padEnd(15)} ${v}\n`;
  let out = f("NVRM version:", inv.driver) + f("CUDA version:", inv.cuda);
  for (const g of inv.gpus) {
    out += "\n" + f("Device Index:", g.index) + f("Device Minor:", g.minor) + f("Model:", g.model) + f("Brand:", g.brand);
    out += f("GPU UUID:", g.uuid) + f("Bus Location:", g.busId) + f("Architecture:", g.arch);
  }
  return out;
}

export const INFO: Command = {
  name: "info",
  description: "Query the driver and report its information and the devices it detected.",
  args: { csv: { type: "boolean", description: "Output in CSV format" } },
  run(c) {
    noOperands(c.args);
    const g = globals(c);
    g.log.debug("command", { command: "info" });
    const entries = driverEntries(g.driver);
    const inv = readInventory(nvmlPath(g.driver.root, entries));
    // info reports every GPU: as the reference, it stops at the first one NVML cannot read.
    if (inv.failed) throw new NvctError("nvml", `nvml error: GPU ${inv.failed[0].index}: ${inv.failed[0].message}`);
    c.io.stdout(formatInfo(inv, !!c.args.csv));
  },
};

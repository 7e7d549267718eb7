// CDI from the driver: a spec for `nvidia-ctk cdi generate`, and the edits of named devices for
// the runtime's cdi mode. The same facts and the same core as the hook's injection.
import { core, type CdiEdits, type CdiOptions, type CdiSpec } from "../core";
import { loadSpecs } from "../discover/cdi";
import type { DriverRoot } from "../discover/driver";
import { NvctError } from "../errors";
import { driverFacts } from "./facts";
import { wslFacts } from "../discover/wsl";

/** A spec for the driver under `driver.root`, its nodes under devRoot. */
export function generateSpec(driver: DriverRoot, devRoot: string, options: CdiOptions): CdiSpec {
  return core().cdispec({ options, driver: driverFacts({ driver, devRoot }) });
}

/** A spec for a WSL2 host: /dev/dxg and the NVIDIA driver store. */
export function generateWslSpec(root: string, devRoot: string, options: CdiOptions): CdiSpec {
  const f = wslFacts(root, devRoot);
  return core().wslspec({ options, root, ...f, dxg: f.dxg ?? undefined });
}

/** The merged edits of the named devices, from the specs of `dirs`. */
export function resolveDevices(names: string[], defaultKind: string, dirs: string[], log?: (m: string) => void): CdiEdits {
  const skipped: string[] = [];
  const specs = loadSpecs(dirs, (m) => {
    skipped.push(m);
    log?.(m);
  });
  try {
    return core().cdiedits({ names, defaultKind, specs });
  } catch (e) {
    // A device the user asked for may be in a spec that was skipped: say which, and why.
    if (e instanceof NvctError && e.code === "unresolvable-cdi-device" && skipped.length) {
      throw new NvctError(e.code, `${e.message} (${skipped.length === 1 ? skipped[0] : `${skipped.length} specs skipped, the first: ${skipped[0]}`})`, e);
    }
    throw e;
  }
}

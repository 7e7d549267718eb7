// A WSL2 host's GPU facts: /dev/dxg, libdxcore.so, and the Windows driver stores WSL mounts
// under /usr/lib/wsl/drivers (the NVIDIA one holds libcuda.so.1.1). Reads only.
import { readdirSync, statSync } from "node:fs";
import type { NodeFact } from "../core";
import { statNode } from "./driver";
import { under } from "./paths";

const DRIVERS = "/usr/lib/wsl/drivers";
const DXCORE = "/usr/lib/wsl/lib/libdxcore.so";

const isFile = (p: string) => {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
};

/** libdxcore.so is there: a WSL2 host (what `--mode=auto` asks first, as the reference). */
export function isWsl(root: string): boolean {
  return isFile(under(root, DXCORE));
}

export interface WslFacts {
  dxg: NodeFact | null;
  dxcore: string[];
  /** Driver stores holding libcuda.so.1.1, as host paths, by name. */
  stores: string[];
  storeFiles: string[];
}

export function wslFacts(root: string, devRoot: string): WslFacts {
  let names: string[] = [];
  try {
    names = readdirSync(under(root, DRIVERS)).sort();
  } catch {}
  const stores = names.map((n) => under(root, `${DRIVERS}/${n}`)).filter((d) => isFile(`${d}/libcuda.so.1.1`));
  let storeFiles: string[] = [];
  if (stores.length) {
    try {
      storeFiles = readdirSync(stores[0]).filter((n) => isFile(`${stores[0]}/${n}`)).sort();
    } catch {}
  }
  return { dxg: statNode(under(devRoot, "/dev/dxg")), dxcore: isWsl(root) ? [under(root, DXCORE)] : [], stores, storeFiles };
}

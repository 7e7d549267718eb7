// WSL2: the GPU is Windows's, reached through /dev/dxg; its driver is a Windows driver store
// mounted under /usr/lib/wsl/drivers, and libdxcore.so under /usr/lib/wsl/lib. A spec names one
// device, `all`, as the newest toolkit's wsl mode writes it.
import { CdiDevice, CdiMount, CdiSpec, Code, NodeFact, Outcome, WslInput, ok } from "../build/out/gen/types";
import { hook, HookChoice, ldcacheHook, minimumVersion, mountOptions, node } from "./cdi";
import { fail } from "./outcome";
import { dirname } from "./text";
import { fileFlags } from "./vocabulary";

/** The driver store's files every CUDA program needs, in the reference's order. */
export const REQUIRED_STORE_FILES: string[] = [
  "libcuda.so.1.1", "libcuda_loader.so", "libnvidia-ptxjitcompiler.so.1", "libnvidia-ml.so.1", "libnvidia-ml_loader.so", "libnvdxgdmal.so.1", "nvcubins.bin", "nvidia-smi",
];

/** The store's other libraries, GPU code and Windows DLLs, which CUDA and NVML load on WSL. */
function additional(name: string): bool {
  return name.indexOf(".so") > 0 || name.endsWith(".bin") || name.endsWith(".dll");
}

/** A host path as the container sees it: without the driver root. */
function inContainer(root: string, host: string): string {
  return root.length > 1 && host.startsWith(root + "/") ? host.substring(root.length) : host;
}

/** The spec's mounts, each host path once, and the folders of the libraries for the ld cache. */
class Mounts {
  list: CdiMount[] = [];
  folders: string[] = [];
  seen: Set<string> = new Set();
  constructor(public root: string) {}
  add(host: string, ldcache: bool): void {
    if (this.seen.has(host)) return;
    this.seen.add(host);
    const m = new CdiMount();
    m.hostPath = host;
    m.containerPath = inContainer(this.root, host);
    m.options = mountOptions(fileFlags());
    this.list.push(m);
    const dir = dirname(m.containerPath);
    if (ldcache && !this.folders.includes(dir)) this.folders.push(dir);
  }
}

/**
 * wslspec(input). One device `all` with /dev/dxg; common edits: the first driver store's
 * required files, libdxcore.so, and the store's other .so, .bin and .dll files, mounted at their
 * own paths (without the driver root); create-symlinks <store>/nvidia-smi -> /usr/bin/nvidia-smi;
 * update-ldcache with the store's folder, then libdxcore's; NVIDIA_VISIBLE_DEVICES=void.
 * Failures: device-missing (no /dev/dxg, no driver store holding libcuda.so.1.1).
 */
export function wslspec(input: WslInput): Outcome<CdiSpec> {
  const o = input.options;
  if (input.dxg === null) return fail<CdiSpec>(Code.DeviceMissing, "no `/dev/dxg`: not a WSL2 host with a GPU");
  if (input.stores.length == 0) return fail<CdiSpec>(Code.DeviceMissing, "failed to locate libcuda.so.1.1 at WSL driver store paths (/usr/lib/wsl/drivers/*)");
  let root = input.root;
  while (root.length > 1 && root.endsWith("/")) root = root.substring(0, root.length - 1);
  const choice = new HookChoice(o.enabledHooks, o.disabledHooks);
  const spec = new CdiSpec();
  spec.kind = o.vendor + "/" + o.class;
  const all = new CdiDevice();
  all.name = "all";
  all.edits.deviceNodes.push(node("/dev/dxg", changetype<NodeFact>(input.dxg).path));
  spec.devices.push(all);

  const store = input.stores[0];
  // The store first: libcuda.so.1 is found there before anywhere else.
  const m = new Mounts(root);
  for (let i = 0; i < REQUIRED_STORE_FILES.length; i++) if (input.storeFiles.includes(REQUIRED_STORE_FILES[i])) m.add(store + "/" + REQUIRED_STORE_FILES[i], true);
  for (let i = 0; i < input.dxcore.length; i++) m.add(input.dxcore[i], true);
  for (let i = 0; i < input.storeFiles.length; i++) if (additional(input.storeFiles[i])) m.add(store + "/" + input.storeFiles[i], false);
  const e = spec.edits;
  e.mounts = m.list;
  if (input.storeFiles.includes("nvidia-smi") && choice.on("create-symlinks")) e.hooks.push(hook(o.hookPath, ["create-symlinks", "--link", inContainer(root, store) + "/nvidia-smi::/usr/bin/nvidia-smi"]));
  if (m.folders.length > 0 && choice.on("update-ldcache")) e.hooks.push(ldcacheHook(o.hookPath, o.ldconfigPath, m.folders));
  e.env = ["NVIDIA_VISIBLE_DEVICES=void"];
  spec.version = minimumVersion(spec);
  return ok<CdiSpec>(spec);
}

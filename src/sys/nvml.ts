// NVML through bun:ffi: the versioned entry points libnvidia-container calls, loaded on first use.
import { dlopen, FFIType, ptr, CString, type Pointer } from "bun:ffi";
import { NvctError } from "../errors";

const { i32, u32, ptr: P, cstring } = FFIType;

const SYMBOLS = {
  nvmlInit_v2: { args: [], returns: i32 },
  nvmlShutdown: { args: [], returns: i32 },
  nvmlErrorString: { args: [i32], returns: cstring },
  nvmlSystemGetDriverVersion: { args: [P, u32], returns: i32 },
  nvmlSystemGetCudaDriverVersion: { args: [P], returns: i32 },
  nvmlDeviceGetCount_v2: { args: [P], returns: i32 },
  nvmlDeviceGetHandleByIndex_v2: { args: [u32, P], returns: i32 },
  nvmlDeviceGetMinorNumber: { args: [P, P], returns: i32 },
  nvmlDeviceGetUUID: { args: [P, P, u32], returns: i32 },
  nvmlDeviceGetName: { args: [P, P, u32], returns: i32 },
  nvmlDeviceGetBrand: { args: [P, P], returns: i32 },
  nvmlDeviceGetPciInfo_v3: { args: [P, P], returns: i32 },
  nvmlDeviceGetCudaComputeCapability: { args: [P, P, P], returns: i32 },
  nvmlDeviceGetMigMode: { args: [P, P, P], returns: i32 },
  nvmlDeviceGetMaxMigDeviceCount: { args: [P, P], returns: i32 },
  nvmlDeviceGetMigDeviceHandleByIndex: { args: [P, u32, P], returns: i32 },
  nvmlDeviceGetGpuInstanceId: { args: [P, P], returns: i32 },
  nvmlDeviceGetComputeInstanceId: { args: [P, P], returns: i32 },
} as const;

const NOT_SUPPORTED = 3;
const NOT_FOUND = 6;
const FUNCTION_NOT_FOUND = 13;

/** nvmlBrandType_t names as libnvidia-container prints them. */
export const BRANDS = [
  "Unknown", "Quadro", "Tesla", "NVS", "GRID", "GeForce", "TITAN", "NvidiaVApps", "NvidiaVPC", "NvidiaVCS",
  "NvidiaVWS", "NvidiaCloudGaming", "QuadroRTX", "NvidiaRTX", "Nvidia", "GeForceRTX", "TitanRTX",
];

export interface NvmlMig {
  index: number;
  gi: number;
  ci: number;
  uuid: string;
}

export interface NvmlGpu {
  index: number;
  minor: number;
  uuid: string;
  model: string;
  brand: string;
  busId: string;
  arch: string;
  /** NVML answers the GPU's MIG mode: it can have MIG devices. */
  migCapable: boolean;
  migEnabled: boolean;
  migs: NvmlMig[];
}

/** A GPU NVML could not read (fallen off the bus, one call failing): its index and NVML's error. */
export interface NvmlFailure {
  index: number;
  /** `nvmlDeviceGetHandleByIndex_v2: GPU is lost` */
  message: string;
}

export interface NvmlInventory {
  driver: string;
  cuda: string;
  /** The GPUs NVML could read, each with its NVML index (one that failed leaves a gap). */
  gpus: NvmlGpu[];
  /** The GPUs it could not; never kept in the decision cache. */
  failed?: NvmlFailure[];
}

/** NVML's answers for a diagnosis (Nvml.probe): what it told, or the error of the call that failed. */
export interface NvmlProbe {
  driver?: string;
  cuda?: string;
  count?: number;
  /** The error of the first system-level call that failed (nvml error: <function>: <NVML's string>). */
  error?: string;
  gpus: (NvmlGpu | { index: number; error: string })[];
}

type Lib = ReturnType<typeof dlopen<typeof SYMBOLS>>["symbols"];

/** One NVML call's failure: the function, nvmlErrorString's text, the nvmlReturn_t. */
export class NvmlError {
  constructor(
    readonly fn: string,
    readonly text: string,
    readonly rc: number,
  ) {}
}

/** An NVML session over the library at `path`; every failure is an NvctError `nvml`. */
export class Nvml {
  private lib: Lib;
  private close: () => void;

  constructor(path: string) {
    let handle;
    try {
      handle = dlopen(path, SYMBOLS);
    } catch (e) {
      throw new NvctError("nvml", `load library failed: ${path}: ${(e as Error).message}`, e);
    }
    this.lib = handle.symbols;
    this.close = () => handle.close();
    this.check("nvmlInit_v2", this.lib.nvmlInit_v2());
  }

  private message(rc: number): string {
    const s = this.lib.nvmlErrorString(rc);
    return s ? s.toString() : `error ${rc}`;
  }

  private check(fn: string, rc: number): void {
    if (rc !== 0) throw new NvctError("nvml", `nvml error: ${fn}: ${this.message(rc)}`, new NvmlError(fn, this.message(rc), rc));
  }

  private str(fn: "nvmlSystemGetDriverVersion", size: number): string;
  private str(fn: "nvmlDeviceGetUUID" | "nvmlDeviceGetName", size: number, dev: Pointer): string;
  private str(fn: string, size: number, dev?: Pointer): string {
    const buf = new Uint8Array(size);
    const rc = dev === undefined ? (this.lib as any)[fn](ptr(buf), size) : (this.lib as any)[fn](dev, ptr(buf), size);
    this.check(fn, rc);
    return new CString(ptr(buf)).toString();
  }

  private u32(fn: keyof Lib, dev: Pointer): number {
    const out = new Uint32Array(1);
    this.check(fn, (this.lib as any)[fn](dev, ptr(out)));
    return out[0];
  }

  private handle(fn: "nvmlDeviceGetHandleByIndex_v2", i: number): Pointer;
  private handle(fn: "nvmlDeviceGetMigDeviceHandleByIndex", i: number, dev: Pointer): Pointer | null;
  private handle(fn: string, i: number, dev?: Pointer): Pointer | null {
    const out = new BigUint64Array(1);
    const rc = dev === undefined ? this.lib.nvmlDeviceGetHandleByIndex_v2(i, ptr(out)) : this.lib.nvmlDeviceGetMigDeviceHandleByIndex(dev, i, ptr(out));
    if (dev !== undefined && rc === NOT_FOUND) return null;
    this.check(fn, rc);
    return Number(out[0]) as Pointer;
  }

  /**
   * The driver, CUDA version and every GPU with its MIG devices. A GPU whose calls fail is left
   * out and listed in `failed` (the driver-wide calls failing fail the whole reading): a container
   * that does not ask for that GPU still gets the ones it asks for.
   */
  /** The CUDA version the driver supports, `major.minor`. */
  private cudaVersion(): string {
    const cv = new Int32Array(1);
    this.check("nvmlSystemGetCudaDriverVersion", this.lib.nvmlSystemGetCudaDriverVersion(ptr(cv)));
    return `${Math.trunc(cv[0] / 1000)}.${Math.trunc((cv[0] % 1000) / 10)}`;
  }

  /** How many GPUs NVML sees. */
  private count(): number {
    const count = new Uint32Array(1);
    this.check("nvmlDeviceGetCount_v2", this.lib.nvmlDeviceGetCount_v2(ptr(count)));
    return count[0];
  }

  inventory(): NvmlInventory {
    const driver = this.str("nvmlSystemGetDriverVersion", 81);
    const cuda = this.cudaVersion();
    const count = this.count();
    const gpus: NvmlGpu[] = [];
    const failed: NvmlFailure[] = [];
    for (let index = 0; index < count; index++) {
      try {
        gpus.push(this.gpu(index));
      } catch (e) {
        if (!(e instanceof NvctError && e.cause instanceof NvmlError)) throw e;
        failed.push({ index, message: `${e.cause.fn}: ${e.cause.text}` });
      }
    }
    return failed.length ? { driver, cuda, gpus, failed } : { driver, cuda, gpus };
  }

  /**
   * What NVML answers, call by call, for a diagnosis: the versions and the count, then each GPU
   * or the error its first failing call gave.
   */
  probe(): NvmlProbe {
    const out: NvmlProbe = { gpus: [] };
    try {
      out.driver = this.str("nvmlSystemGetDriverVersion", 81);
      out.cuda = this.cudaVersion();
      out.count = this.count();
    } catch (e) {
      out.error = (e as Error).message;
      return out;
    }
    for (let index = 0; index < out.count; index++) {
      try {
        out.gpus.push(this.gpu(index));
      } catch (e) {
        out.gpus.push({ index, error: (e as Error).message });
      }
    }
    return out;
  }

  private gpu(index: number): NvmlGpu {
    const dev = this.handle("nvmlDeviceGetHandleByIndex_v2", index);
    const pci = new DataView(new ArrayBuffer(68));
    this.check("nvmlDeviceGetPciInfo_v3", this.lib.nvmlDeviceGetPciInfo_v3(dev, ptr(pci)));
    const hex = (n: number, w: number) => n.toString(16).padStart(w, "0");
    const busId = `${hex(pci.getUint32(16, true), 8)}:${hex(pci.getUint32(20, true), 2)}:${hex(pci.getUint32(24, true), 2)}.0`;
    const cc = new Int32Array(2);
    this.check("nvmlDeviceGetCudaComputeCapability", this.lib.nvmlDeviceGetCudaComputeCapability(dev, ptr(cc), ptr(cc, 4)));
    const brand = this.u32("nvmlDeviceGetBrand", dev);
    const modes = new Uint32Array(2);
    const rc = this.lib.nvmlDeviceGetMigMode(dev, ptr(modes), ptr(modes, 4));
    if (rc !== 0 && rc !== NOT_SUPPORTED && rc !== FUNCTION_NOT_FOUND) this.check("nvmlDeviceGetMigMode", rc);
    const migEnabled = rc === 0 && modes[0] === 1 && modes[0] === modes[1];
    const migs: NvmlMig[] = [];
    if (migEnabled) {
      const max = this.u32("nvmlDeviceGetMaxMigDeviceCount", dev);
      for (let i = 0; i < max; i++) {
        const m = this.handle("nvmlDeviceGetMigDeviceHandleByIndex", i, dev);
        if (m === null) continue;
        migs.push({
          index: i,
          gi: this.u32("nvmlDeviceGetGpuInstanceId", m),
          ci: this.u32("nvmlDeviceGetComputeInstanceId", m),
          uuid: this.str("nvmlDeviceGetUUID", 96, m),
        });
      }
    }
    return {
      index,
      minor: this.u32("nvmlDeviceGetMinorNumber", dev),
      uuid: this.str("nvmlDeviceGetUUID", 96, dev),
      model: this.str("nvmlDeviceGetName", 96, dev),
      brand: BRANDS[brand] ?? "Unknown",
      busId,
      arch: `${cc[0]}.${cc[1]}`,
      migCapable: rc === 0,
      migEnabled,
      migs,
    };
  }

  /** The CUDA version and the GPUs' names only (what an integrated GPU answers). */
  names(): { cuda: string; names: string[] } {
    const cuda = this.cudaVersion();
    const count = this.count();
    const names: string[] = [];
    for (let i = 0; i < count; i++) names.push(this.str("nvmlDeviceGetName", 96, this.handle("nvmlDeviceGetHandleByIndex_v2", i)));
    return { cuda, names };
  }

  shutdown(): void {
    this.lib.nvmlShutdown();
    this.close();
  }
}

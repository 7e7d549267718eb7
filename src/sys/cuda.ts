// libcuda through bun:ffi: the driver's CUDA version and a device's compute capability, as the
// reference's runtime reads them on Jetson (cuDriverGetVersion; cuInit, cuDeviceGet,
// cuDeviceGetAttribute). Each entry point is looked up on its own: a missing one is an error
// of that call only.
import { dlopen, FFIType, ptr } from "bun:ffi";
import { NvctError } from "../errors";

const { i32, u32, ptr: P } = FFIType;
const ATTR_CC_MAJOR = 75;
const ATTR_CC_MINOR = 76;

function open<S extends Record<string, { args: FFIType[]; returns: FFIType }>>(path: string, symbols: S) {
  try {
    return dlopen(path, symbols);
  } catch (e) {
    throw new NvctError("driver", `${path}: ${(e as Error).message}`, e);
  }
}

function check(fn: string, rc: number): void {
  if (rc !== 0) throw new NvctError("driver", `${fn} failed: CUresult ${rc}`, rc);
}

/** cuDriverGetVersion of the library (e.g. 12020 for 12.2). */
export function cudaDriverVersion(path = "libcuda.so.1"): number {
  const lib = open(path, { cuDriverGetVersion: { args: [P], returns: i32 } });
  try {
    const v = new Int32Array(1);
    check("cuDriverGetVersion", lib.symbols.cuDriverGetVersion(ptr(v)));
    return v[0];
  } finally {
    lib.close();
  }
}

/** The compute capability [major, minor] of the device with this ordinal (cuInit first). */
export function cudaComputeCapability(ordinal: number, path = "libcuda.so.1"): [number, number] {
  const lib = open(path, {
    cuInit: { args: [u32], returns: i32 },
    cuDeviceGet: { args: [P, i32], returns: i32 },
    cuDeviceGetAttribute: { args: [P, i32, i32], returns: i32 },
  });
  try {
    const s = lib.symbols;
    check("cuInit", s.cuInit(0));
    const dev = new Int32Array(1);
    check("cuDeviceGet", s.cuDeviceGet(ptr(dev), ordinal));
    const cc = new Int32Array(2);
    check("cuDeviceGetAttribute", s.cuDeviceGetAttribute(ptr(cc), ATTR_CC_MAJOR, dev[0]));
    check("cuDeviceGetAttribute", s.cuDeviceGetAttribute(ptr(cc, 4), ATTR_CC_MINOR, dev[0]));
    return [cc[0], cc[1]];
  } finally {
    lib.close();
  }
}

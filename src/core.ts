// Host side of the WIT contract in assembly/core.wit. The canonical ABI is lifted by hand over the
// plain core module (no jco glue at run time: see README "Binding cost"); test/unit/core-abi.test.ts
// checks that this binding and jco's transpiled one agree on every case.
import { readFileSync } from "node:fs";
// @ts-ignore: a file import, embedded in the compiled binary
import wasmPath from "../build/out/core.wasm" with { type: "file" };
import { NvctError } from "./errors";

interface Exports {
  memory: WebAssembly.Memory;
  cabi_realloc(old: number, oldSize: number, align: number, size: number): number;
  requirement(ptr: number, len: number): number;
  devices(ptr: number, len: number): number;
  capabilities(ptr: number, len: number): number;
  ldcache(ptr: number, len: number): number;
}

let core: Exports | undefined;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

function instance(): Exports {
  if (!core) {
    const module = new WebAssembly.Module(readFileSync(wasmPath));
    core = new WebAssembly.Instance(module, {}).exports as unknown as Exports;
  }
  return core;
}

function readString(mem: WebAssembly.Memory, at: number): string {
  const view = new DataView(mem.buffer);
  const ptr = view.getUint32(at, true);
  const len = view.getUint32(at + 4, true);
  return decoder.decode(new Uint8Array(mem.buffer, ptr, len));
}

/** Calls one export with a string or byte list; returns the parsed ok value or throws NvctError. */
function call<T>(name: "requirement" | "devices" | "capabilities" | "ldcache", arg: string | Uint8Array): T {
  const c = instance();
  const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
  const ptr = c.cabi_realloc(0, 0, 1, Math.max(bytes.length, 1));
  new Uint8Array(c.memory.buffer, ptr, bytes.length).set(bytes);
  const area = c[name](ptr, bytes.length);
  const tag = new DataView(c.memory.buffer).getUint8(area);
  if (tag === 0) return JSON.parse(readString(c.memory, area + 4)) as T;
  throw new NvctError(readString(c.memory, area + 4), readString(c.memory, area + 12));
}

export interface Term {
  name: "cuda" | "driver" | "arch" | "brand";
  op: string;
  value: string;
}

/** Parses a requirement expression; the outer list is ORed, the inner ANDed. */
export function parseRequirement(expr: string): Term[][] {
  return call<{ any: Term[][] }>("requirement", expr).any;
}

export interface GpuFacts {
  cuda: string;
  driver: string;
  arch: string;
  brand: string;
}

/** Checks an expression against one GPU's facts; throws `unsatisfied` naming the expression. */
export function checkRequirement(expr: string, facts: GpuFacts): void {
  const lines = [expr.replaceAll("\n", " ")];
  for (const [k, v] of Object.entries(facts)) lines.push(`${k}=${v}`);
  call("requirement", lines.join("\n"));
}

export interface InventoryEntry {
  index: number;
  minor: number;
  uuid: string;
  busId: string;
  migs: { index: number; uuid: string }[];
}

export interface Selection {
  kind: "void" | "none" | "all" | "list";
  ids: { type: string; id: string }[];
  gpus: number[];
  migs: [number, number][];
}

/** Interprets a device request against an inventory (see assembly/devices.ts for the grammar). */
export function selectDevices(request: string, inventory: InventoryEntry[]): Selection {
  const lines = [request.replaceAll("\n", " ")];
  for (const g of inventory) {
    lines.push(["gpu", g.index, g.minor, g.uuid, g.busId].join("\t"));
    for (const m of g.migs) lines.push(["mig", g.index, m.index, m.uuid].join("\t"));
  }
  return call<Selection>("devices", lines.join("\n"));
}

/** Interprets a capability list; `supported` defaults to every capability. */
export function driverCapabilities(list: string, supported?: string): string[] {
  const input = list.replaceAll("\n", " ") + (supported ? "\n" + supported.replaceAll("\n", " ") : "");
  return call<{ caps: string[] }>("capabilities", input).caps;
}

export interface LdCacheEntry {
  name: string;
  path: string;
  bits: 32 | 64;
}

/** Reads the bytes of a glibc ld.so.cache. */
export function readLdCache(bytes: Uint8Array): LdCacheEntry[] {
  return call<{ entries: LdCacheEntry[] }>("ldcache", bytes).entries;
}

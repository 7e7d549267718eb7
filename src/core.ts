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
  ldcache(ptr: number, len: number, fPtr: number, fLen: number): number;
  ldcachewrite(oldPtr: number, oldLen: number, addPtr: number, addLen: number): number;
  request(ptr: number, len: number): number;
  plan(ptr: number, len: number): number;
}

let core: Exports | undefined;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

let compiling: Promise<WebAssembly.Module> | undefined;

/**
 * Starts compiling the core off the main thread (JSC compiles a module whole before its first
 * call); the hook calls this first thing and awaits it just before its first decision.
 */
export function preloadCore(): Promise<void> {
  compiling ??= WebAssembly.compile(readFileSync(wasmPath));
  return compiling.then((m) => {
    core ??= new WebAssembly.Instance(m, {}).exports as unknown as Exports;
  });
}

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

/** Copies a string or byte list into the core's memory: [ptr, len]. */
function put(c: Exports, arg: string | Uint8Array): [number, number] {
  const bytes = typeof arg === "string" ? encoder.encode(arg) : arg;
  const ptr = c.cabi_realloc(0, 0, 1, Math.max(bytes.length, 1));
  new Uint8Array(c.memory.buffer, ptr, bytes.length).set(bytes);
  return [ptr, bytes.length];
}

/** Lifts a result<_, failure> return area: the ok payload's (ptr, len), or throws NvctError. */
function lift(c: Exports, area: number): [number, number] {
  const view = new DataView(c.memory.buffer);
  if (view.getUint8(area) === 0) return [view.getUint32(area + 4, true), view.getUint32(area + 8, true)];
  throw new NvctError(readString(c.memory, area + 4), readString(c.memory, area + 12));
}

type StringExport = "requirement" | "devices" | "capabilities" | "request" | "plan";

/** Calls one single-argument export; returns the parsed ok value or throws NvctError. */
function call<T>(name: StringExport, arg: string | Uint8Array): T {
  const c = instance();
  const [ptr, len] = lift(c, c[name](...put(c, arg)));
  return JSON.parse(decoder.decode(new Uint8Array(c.memory.buffer, ptr, len))) as T;
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

/** Reads the bytes of a glibc ld.so.cache; with stems, only entries named `<stem>.so[.*]`. */
export function readLdCache(bytes: Uint8Array, stems: string[] = []): LdCacheEntry[] {
  const c = instance();
  const a = put(c, bytes);
  const b = put(c, stems.join("\n"));
  const [ptr, len] = lift(c, c.ldcache(a[0], a[1], b[0], b[1]));
  return (JSON.parse(decoder.decode(new Uint8Array(c.memory.buffer, ptr, len))) as { entries: LdCacheEntry[] }).entries;
}

/** Adds libraries to a container's ld.so.cache (`old` may be empty or corrupt); returns the new file. */
export function writeLdCache(old: Uint8Array, add: LdCacheEntry[]): Uint8Array {
  const c = instance();
  const a = put(c, old);
  // Entry flags: libc6 plus the architecture's 64-bit flag (x86-64 0x0300, aarch64 0x0a00).
  const width = (bits: 32 | 64) => (bits === 32 ? "32" : process.arch === "arm64" ? "0x0a03" : "64");
  const b = put(c, add.map((e) => `${e.name}\t${e.path}\t${width(e.bits)}`).join("\n"));
  const [ptr, len] = lift(c, c.ldcachewrite(a[0], a[1], b[0], b[1]));
  return new Uint8Array(c.memory.buffer, ptr, len).slice();
}

export interface RequestFacts {
  env: string[];
  mounts: { destination: string; source?: string }[];
  privileged: boolean;
  policy: {
    acceptEnvvarUnprivileged: boolean;
    acceptVolumeMounts: boolean;
    disableRequire: boolean;
    swarmResource: string;
    supportedCapabilities: string;
  };
}

export type Request =
  | { gpu: false; reason: string }
  | {
      gpu: true;
      devices: string;
      source: string;
      legacy: boolean;
      caps: string[];
      requires: string[];
      migConfig: string;
      migMonitor: string;
      imex: string[];
    };

const oneLine = (s: string) => s.replace(/[\t\n]/g, " ");

/** What the container asks for (see assembly/request.ts). */
export function interpretRequest(f: RequestFacts): Request {
  const p = f.policy;
  const lines = [
    `policy\taccept-envvar-unprivileged\t${p.acceptEnvvarUnprivileged}`,
    `policy\taccept-volume-mounts\t${p.acceptVolumeMounts}`,
    `policy\tdisable-require\t${p.disableRequire}`,
    `policy\tswarm-resource\t${oneLine(p.swarmResource)}`,
    `policy\tsupported-capabilities\t${oneLine(p.supportedCapabilities)}`,
    `privileged\t${f.privileged}`,
  ];
  for (const e of f.env) lines.push(`env\t${oneLine(e)}`);
  for (const m of f.mounts) lines.push(`mount\t${oneLine(m.destination)}\t${oneLine(m.source ?? "")}`);
  return call<Request>("request", lines.join("\n"));
}

export type PlanOp =
  | { op: "device"; src: string; dst: string; major: number; minor: number; flags: string[]; bind?: boolean }
  | { op: "bind"; kind: "file" | "socket" | "dir"; src: string; dst: string; flags: string[] }
  | { op: "symlink"; dir: string; name: string; target: string }
  | { op: "procfs"; dst: string; files: [string, string][] }
  | { op: "ldcache"; entries: [string, string, 32 | 64][]; folders?: string[] }
  | { op: "chmod"; path: string; mode: number };

/** The plan for a set of facts in the grammar of assembly/plan.ts (one fact per line). */
export function makePlan(facts: string[][]): PlanOp[] {
  return call<{ ops: PlanOp[] }>("plan", facts.map((f) => f.map(oneLine).join("\t")).join("\n")).ops;
}

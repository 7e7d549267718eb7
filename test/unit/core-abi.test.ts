// The hand-written canonical-ABI binding (src/core.ts) against jco's transpiled binding of the
// same component: both must lift the same values from every export, ok and error alike.
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";

const out = join(import.meta.dir, "../../build/out");

async function jcoBinding() {
  const glue = await import(join(out, "jco/core.component.js"));
  const getCoreModule = (p: string) => new WebAssembly.Module(readFileSync(join(out, "jco", p)));
  return glue.instantiate(getCoreModule, {});
}

async function handBinding() {
  const wasm = readFileSync(join(out, "core.wasm"));
  const e: any = new WebAssembly.Instance(new WebAssembly.Module(wasm), {}).exports;
  return (name: string, arg: string | Uint8Array) => {
    const bytes = typeof arg === "string" ? new TextEncoder().encode(arg) : arg;
    const p = e.cabi_realloc(0, 0, 1, Math.max(1, bytes.length));
    new Uint8Array(e.memory.buffer, p, bytes.length).set(bytes);
    // ldcache takes a second argument, the stem filter (empty here).
    const area = name === "ldcache" ? e[name](p, bytes.length, e.cabi_realloc(0, 0, 1, 1), 0) : e[name](p, bytes.length);
    const v = new DataView(e.memory.buffer);
    const s = (at: number) => new TextDecoder().decode(new Uint8Array(e.memory.buffer, v.getUint32(at, true), v.getUint32(at + 4, true)));
    return v.getUint8(area) === 0 ? { tag: "ok", val: s(area + 4) } : { tag: "err", val: { code: s(area + 4), message: s(area + 12) } };
  };
}

const CASES: [string, string | Uint8Array][] = [
  ["requirement", "cuda>=12.4 brand=tesla,driver>=470"],
  ["requirement", "cuda>=13\ncuda=12.4"],
  ["requirement", "nonsense"],
  ["devices", "0,GPU-x\ngpu\t0\t0\tGPU-x\t0000:18:00.0"],
  ["devices", "7\ngpu\t0\t0\tGPU-x\t0000:18:00.0"],
  ["devices", "all"],
  ["capabilities", "compute,video"],
  ["capabilities", "warp"],
  ["ldcache", new Uint8Array([1, 2, 3])],
  ["ldcache", readFileSync("/etc/ld.so.cache")],
  ["requirement", "ünïcödé>=1"],
];

describe("core ABI", () => {
  test("hand binding and jco binding agree on every case", async () => {
    const jco = await jcoBinding();
    const hand = await handBinding();
    for (const [fn, arg] of CASES) {
      let want: unknown;
      try {
        want = { tag: "ok", val: fn === "ldcache" ? jco[fn](arg, "") : jco[fn](arg) };
      } catch (e: any) {
        want = { tag: "err", val: e.payload ?? e };
      }
      expect({ fn, got: hand(fn, arg) }).toEqual({ fn, got: want as any });
    }
  });
});

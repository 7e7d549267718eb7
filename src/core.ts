// The decision core: the plain WebAssembly module, instantiated once, behind the host binding
// that build/binding.ts generates from assembly/core.wit. A failure of the core is an NvctError
// with the core's own code.
import { readFileSync } from "node:fs";
// @ts-ignore: a file import, embedded in the compiled binary
import wasmPath from "../build/out/core.wasm" with { type: "file" };
import { bind, type CoreExports } from "../build/out/gen/host";
import { NvctError } from "./errors";

export type * from "../build/out/gen/host";

export type Core = ReturnType<typeof bind>;

let compiling: Promise<WebAssembly.Module> | undefined;
let api: Core | undefined;

function instantiate(m: WebAssembly.Module): Core {
  const e = new WebAssembly.Instance(m, {}).exports as unknown as CoreExports;
  return bind(e, (f) => {
    throw new NvctError(f.code, f.message);
  });
}

/**
 * Starts compiling the core off the main thread (JSC compiles a module whole before its first
 * call); the hook calls this first thing and awaits it just before its first decision.
 */
export function preloadCore(): Promise<void> {
  compiling ??= WebAssembly.compile(readFileSync(wasmPath));
  return compiling.then((m) => {
    api ??= instantiate(m);
  });
}

let compiled: WebAssembly.Module | undefined;

/** The core, compiled now if preloadCore did not run. */
export function core(): Core {
  api ??= freshCore();
  return api;
}

/**
 * A new instance of the core, with memory of its own. The core's runtime never frees (a process
 * makes a handful of decisions), so a long run of calls (the fuzz test) takes a fresh one now
 * and then; a trap also leaves an instance unusable.
 */
export function freshCore(): Core {
  compiled ??= new WebAssembly.Module(readFileSync(wasmPath));
  return instantiate(compiled);
}

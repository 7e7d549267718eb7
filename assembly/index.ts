// Exports of the nvct core, one per function of the `core` world in core.wit. Each takes its
// argument as (ptr, len) in linear memory and returns the address of a result<string, failure>
// return area (see abi.ts). The grammars are documented on the functions they forward to.
import { argString, lower, realloc } from "./abi";
import { capabilities as caps } from "./capabilities";
import { devices as devs } from "./devices";
import { ldcache as ldc, ldcacheWrite } from "./ldcache";
import { plan as pl } from "./plan";
import { request as rq } from "./request";
import { requirement as req } from "./requirement";


/** cabi_realloc of the canonical ABI: the host allocates argument buffers through it. */
export function cabi_realloc(old: usize, oldSize: usize, align: usize, size: usize): usize {
  return realloc(old, oldSize, align, size);
}

/** requirement(input: string) -> result<string, failure>; see requirement.ts. */
export function requirement(ptr: usize, len: usize): usize {
  return lower(req(argString(ptr, len)));
}

/** devices(input: string) -> result<string, failure>; see devices.ts. */
export function devices(ptr: usize, len: usize): usize {
  return lower(devs(argString(ptr, len)));
}

/** capabilities(input: string) -> result<string, failure>; see capabilities.ts. */
export function capabilities(ptr: usize, len: usize): usize {
  return lower(caps(argString(ptr, len)));
}

/** ldcache(data: list<u8>, prefixes: string) -> result<string, failure>; see ldcache.ts. */
export function ldcache(ptr: usize, len: usize, fPtr: usize, fLen: usize): usize {
  return lower(ldc(ptr, len, argString(fPtr, fLen)));
}

/** request(input: string) -> result<string, failure>; see request.ts. */
export function request(ptr: usize, len: usize): usize {
  return lower(rq(argString(ptr, len)));
}

/** plan(input: string) -> result<string, failure>; see plan.ts. */
export function plan(ptr: usize, len: usize): usize {
  return lower(pl(argString(ptr, len)));
}

/** ldcachewrite(old: list<u8>, add: string) -> result<list<u8>, failure>; see ldcache.ts. */
export function ldcachewrite(oldPtr: usize, oldLen: usize, addPtr: usize, addLen: usize): usize {
  return lower(ldcacheWrite(oldPtr, oldLen, argString(addPtr, addLen)));
}

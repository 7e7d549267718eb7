// The canonical ABI of the component model, by hand: strings and byte lists cross as (ptr, len)
// in linear memory, and `result<string, failure>` returns through a 20-byte return area:
//   u8 discriminant @0 (0 ok, 1 err); ok: string @4; err: code @4, message @12 (ptr, len each).
// The stub runtime never frees, which suits a process that makes a handful of decisions.

/** Allocation entry point the component model requires (cabi_realloc). */
export function realloc(old: usize, oldSize: usize, align: usize, size: usize): usize {
  if (old != 0) return heap.realloc(old, size);
  return heap.alloc(size);
}

/** Decodes the UTF-8 argument the host wrote at (ptr, len). */
export function argString(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len, false);
}

function putString(area: usize, offset: usize, s: string): void {
  const buf = String.UTF8.encode(s, false);
  store<u32>(area + offset, <u32>changetype<usize>(buf));
  store<u32>(area + offset + 4, <u32>buf.byteLength);
}

/** A decision: a JSON text or raw bytes (ok), or a failure with a stable code. */
export class Outcome {
  raw: usize = 0;
  rawLen: usize = 0;
  constructor(public ok: bool, public value: string, public code: string) {}
  static bytes(ptr: usize, len: usize): Outcome {
    const o = new Outcome(true, "", "");
    o.raw = ptr;
    o.rawLen = len;
    return o;
  }
  static success(json: string): Outcome {
    return new Outcome(true, json, "");
  }
  static failure(code: string, message: string): Outcome {
    return new Outcome(false, message, code);
  }
}

/** Lowers an Outcome into a fresh return area and returns its address. */
export function lower(o: Outcome): usize {
  const area = heap.alloc(20);
  if (o.ok && o.raw != 0) {
    store<u8>(area, 0);
    store<u32>(area + 4, <u32>o.raw);
    store<u32>(area + 8, <u32>o.rawLen);
  } else if (o.ok) {
    store<u8>(area, 0);
    putString(area, 4, o.value);
  } else {
    store<u8>(area, 1);
    putString(area, 4, o.code);
    putString(area, 12, o.value);
  }
  return area;
}

/** Replaces AssemblyScript's env.abort import: a failed assertion traps, with no host import. */
export function abort(msg: usize, file: usize, line: u32, col: u32): void {
  unreachable();
}

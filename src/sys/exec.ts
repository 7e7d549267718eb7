// execve(2) alone: the runtime shim's passthrough and the docker wrapper replace themselves with
// another program. Only these symbols are bound, so that such a process spends nothing on the
// rest of libc's surface before it is gone.
import { dlopen, FFIType, ptr, read, type Pointer } from "bun:ffi";
import { SysError } from "./errno";

const { i32, ptr: P } = FFIType;

// ptr() keeps only a number: the buffers stay referenced here, so that no collection between
// ptr() and the call hands the kernel freed memory.
const held: unknown[] = [];

/**
 * Replaces this process with `path` (same pid, stdio and exit status), argv and env as given;
 * returns only by throwing the SysError of a failed execve.
 */
export function execve(path: string, argv: string[], env: string[]): never {
  const l = dlopen("libc.so.6", {
    __errno_location: { args: [], returns: P },
    execve: { args: [P, P, P], returns: i32 },
    signal: { args: [i32, P], returns: P },
    sigprocmask: { args: [i32, P, P], returns: i32 },
  }).symbols;
  // NULL-terminated arrays of C strings; every buffer stays referenced here until the call.
  const strings = [...argv, ...env].map((s) => Buffer.from(s + "\0"));
  const table = (list: Buffer[]) => {
    const t = new BigUint64Array(list.length + 1);
    list.forEach((b, i) => (t[i] = BigInt(ptr(b))));
    return t;
  };
  const av = table(strings.slice(0, argv.length));
  const ev = table(strings.slice(argv.length));
  const file = Buffer.from(path + "\0");
  const mask = new Uint8Array(128);
  held.push(strings, av, ev, file, mask);
  // Bun ignores SIGPIPE and SIGXFSZ, and an ignored signal stays ignored across execve: give
  // the runtime (and what it starts) the default dispositions and an empty signal mask.
  for (const sig of [13, 25]) l.signal(sig, null);
  l.sigprocmask(2, ptr(mask), null);
  l.execve(ptr(file), ptr(av), ptr(ev));
  const errno = read.i32(l.__errno_location() as Pointer, 0);
  throw new SysError("execute", path, errno, "execve");
}

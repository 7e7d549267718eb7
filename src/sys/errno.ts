// The failure of a system call: one error type whose message names the call, its input and the
// errno. Its own module so that a process that only execs another program (the runtime shim's
// passthrough) loads no more than this and src/sys/exec.ts.
import { NvctError } from "../errors";

// Linux errno names (a table, not node:os: every builtin module the bundle imports loads at start).
const ERRNO_NAMES = new Map<number, string>(
  (
    "EPERM ENOENT ESRCH EINTR EIO ENXIO E2BIG ENOEXEC EBADF ECHILD EAGAIN ENOMEM EACCES EFAULT ENOTBLK EBUSY EEXIST " +
    "EXDEV ENODEV ENOTDIR EISDIR EINVAL ENFILE EMFILE ENOTTY ETXTBSY EFBIG ENOSPC ESPIPE EROFS EMLINK EPIPE EDOM ERANGE " +
    "EDEADLK ENAMETOOLONG ENOLCK ENOSYS ENOTEMPTY ELOOP"
  )
    .split(" ")
    .map((name, i) => [i + 1, name] as [number, string])
    .concat([[95, "EOPNOTSUPP"], [110, "ETIMEDOUT"], [122, "EDQUOT"]]),
);

/** The name of an errno value (`ENOENT`), or `errno N` for one the table lacks. */
export const errnoName = (errno: number) => ERRNO_NAMES.get(errno) ?? `errno ${errno}`;

/** The failure of one libc call: code `sys`, errno kept, message naming the call and its input. */
export class SysError extends NvctError {
  constructor(
    readonly call: string,
    readonly subject: string,
    readonly errno: number,
    /** The system call's own name (`move_mount`), when it is not the words of `call`. */
    readonly syscall?: string,
  ) {
    super(
      "sys",
      `failed to ${call} \`${subject}\`: ${errnoName(errno)}${syscall ? ` (${syscall})` : ""}` +
        (errno === 38 ? " (this kernel lacks the call: nvct needs Linux 5.12 or later for openat2 and the new mount API)" : ""),
      errno,
    );
  }

  /** The same failure naming what it was about (a container path, not the name under a dirfd). */
  about(subject: string): SysError {
    return new SysError(this.call, subject, this.errno, this.syscall);
  }
}

/** Runs f; a SysError it throws names `subject` instead (the whole path the caller knows). */
export function about<T>(subject: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    throw e instanceof SysError ? e.about(subject) : e;
  }
}

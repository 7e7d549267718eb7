import { fs } from "./files";

/** What a tool's main may touch of its process: injectable so tests run tools in-process. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Reads all of standard input (the OCI state for hooks). */
  stdin(): string;
  /** Standard error is a terminal (the Go tools print their logs differently there). */
  stderrIsTty?(): boolean;
}

export type Env = Record<string, string | undefined>;

/** A tool entry point: argv without the program name; resolves to the exit status. */
export type ToolMain = (argv: string[], env: Env, io: Io, argv0?: string) => Promise<number>;

/**
 * Writes all of s to standard output (1) or error (2). Not process.stdout: in a compiled Bun
 * binary its first use sets up stream machinery that costs about 25 ms, more than the rest of the
 * hook. Whole lines go through console, Bun's own writer: it writes before it returns (a process
 * that execs right after, as the runtime shim does after its version line, loses nothing), prints
 * a lone string as it is, and costs nothing to load, where node:fs costs 0.7 ms. console ends what
 * it writes with a newline, so anything else is written through node:fs.
 */
function writeAll(fd: 1 | 2, s: string): void {
  if (s.endsWith("\n")) {
    (fd === 1 ? console.log : console.error)(s.slice(0, -1));
    return;
  }
  let buf = Buffer.from(s);
  while (buf.length > 0) {
    try {
      buf = buf.subarray(fs().writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
    }
  }
}

export const processIo: Io = {
  stdout: (s) => writeAll(1, s),
  stderr: (s) => writeAll(2, s),
  stdin: () => fs().readFileSync(0, "utf8"),
  stderrIsTty: () => require("node:tty").isatty(2),
};

/** An Io that records what a tool printed, for tests. */
export function recordingIo(stdin = ""): Io & { out: string; err: string } {
  const io = {
    out: "",
    err: "",
    stdout: (s: string) => void (io.out += s),
    stderr: (s: string) => void (io.err += s),
    stdin: () => stdin,
  };
  return io;
}

/** What a tool's main may touch of its process: injectable so tests run tools in-process. */
export interface Io {
  stdout(s: string): void;
  stderr(s: string): void;
  /** Reads all of standard input (the OCI state for hooks). */
  stdin(): string;
}

export type Env = Record<string, string | undefined>;

/** A tool entry point: argv without the program name; resolves to the exit status. */
export type Tool = (argv: string[], env: Env, io: Io) => Promise<number>;

export const processIo: Io = {
  stdout: (s) => void process.stdout.write(s),
  stderr: (s) => void process.stderr.write(s),
  stdin: () => require("node:fs").readFileSync(0, "utf8"),
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

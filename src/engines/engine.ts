// The container engines nvct configures (docker, containerd, CRI-O, podman) behind one
// interface: given the engine's current file and the options, the files to write. Plain data in,
// plain data out; the caller reads and writes.
import { NvctError } from "../errors";

export interface RuntimeOptions {
  /** The runtime's name in the engine (nvidia). */
  name: string;
  /** The runtime binary. */
  path: string;
  setAsDefault: boolean;
  cdi: boolean;
  /** The prestart hook (podman's hooks directory). */
  hookPath: string;
}

export interface EngineInput {
  /** The engine's main config file. */
  file: string;
  /** Its text ("" when missing). */
  text: string;
  /** Where the nvidia settings go instead of the main file ("" = the main file). */
  dropIn: string;
  options: RuntimeOptions;
}

export interface Output {
  path: string;
  text: string;
}

export interface Engine {
  name: string;
  /** The engine's main config file. */
  config: string;
  /** The default drop-in file ("" = none: the main file is edited). */
  dropIn: string;
  configure(input: EngineInput): Output[];
}

export type Table = Record<string, any>;

/** The table at path, made where missing; a non-table on the way is an error naming the key. */
export function table(t: Table, ...path: string[]): Table {
  let cur = t;
  for (const p of path) {
    const next = cur[p];
    if (next === undefined) cur = cur[p] = {};
    else if (typeof next === "object" && next !== null && !Array.isArray(next)) cur = next as Table;
    else throw new NvctError("config", `\`${path.join(".")}\` is not a table in the existing config`);
  }
  return cur;
}

/** Parses a file's text with parse, naming the file on error; "" is an empty config. */
export function parseWith<T>(file: string, text: string, parse: (t: string) => T, empty: T): T {
  if (text.trim() === "") return empty;
  try {
    return parse(text);
  } catch (e) {
    throw new NvctError("config", `invalid \`${file}\`: ${(e as Error).message}`, e);
  }
}

// Command-line parsing for every tool, in the spelling of the program it replaces: argp's for
// nvidia-container-cli (`-rPATH`, `-r PATH`, `--root=PATH`, `--root PATH`, grouped short flags,
// operands anywhere), Go's flag package for the hook, nvidia-ctk and nvidia-cdi-hook (`-name` and
// `--name` alike, `-name=value`, booleans given `=false`). citty holds the definitions and
// renders the help; unknown options are rejected by name, as each original words it.
import type { ArgsDef, CommandDef } from "citty";
import { NvctError } from "./errors";

export type Style = "argp" | "go";

type Kind = "string" | "boolean";

interface Known {
  /** Long names and aliases of more than one letter (go: every name). */
  long: Map<string, [string, Kind]>;
  short: Map<string, [string, Kind]>;
}

const aliases = (a: ArgsDef[string]): string[] => ("alias" in a && a.alias ? [a.alias].flat() : []);

function known(def: ArgsDef): Known {
  const long = new Map<string, [string, Kind]>();
  const short = new Map<string, [string, Kind]>();
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") continue;
    const kind: Kind = a.type === "boolean" ? "boolean" : "string";
    long.set(name, [name, kind]);
    for (const al of aliases(a)) (al.length === 1 ? short : long).set(al, [name, kind]);
  }
  if (!long.has("help")) long.set("help", ["help", "boolean"]);
  if (!short.has("h")) short.set("h", ["help", "boolean"]);
  return { long, short };
}

export interface Parsed {
  [name: string]: any;
  /** Operands, in order. */
  _: string[];
}

function usageError(msg: string): NvctError {
  return new NvctError("usage", msg);
}

const GO_BOOL: Record<string, boolean> = { "1": true, t: true, T: true, TRUE: true, true: true, True: true, "0": false, f: false, F: false, FALSE: false, false: false, False: false };

/** A boolean as Go's strconv.ParseBool reads it; undefined for anything else. */
export const goBool = (s: string): boolean | undefined => (Object.hasOwn(GO_BOOL, s) ? GO_BOOL[s] : undefined);

/**
 * Parses argv against a definition. `repeatable` options collect every value into a list (others
 * keep the last). With `stopAtOperand`, parsing ends at the first operand (the rest is returned
 * as operands unparsed): a command's global options end where its subcommand begins.
 */
export function parse(style: Style, def: ArgsDef, argv: string[], repeatable: string[] = [], stopAtOperand = false): Parsed {
  const k = known(def);
  const out: Parsed = { _: [] };
  for (const name of repeatable) out[name] = [];
  const set = (name: string, value: string | boolean) => {
    if (repeatable.includes(name)) (out[name] as unknown[]).push(value);
    else out[name] = value;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") {
      out._.push(...argv.slice(i + 1));
      break;
    }
    if (!a.startsWith("-") || a === "-") {
      if (stopAtOperand) {
        out._.push(...argv.slice(i));
        break;
      }
      out._.push(a);
      continue;
    }
    if (style === "go") {
      const body = a.replace(/^--?/, "");
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      const hit = k.long.get(name) ?? k.short.get(name);
      if (!hit || name === "") throw usageError(`flag provided but not defined: -${name}`);
      const [canon, kind] = hit;
      if (kind === "boolean") {
        if (eq < 0) set(canon, true);
        else {
          const v = body.slice(eq + 1);
          const b = goBool(v);
          if (b === undefined) throw usageError(`invalid boolean value "${v}" for -${name}: parse error`);
          set(canon, b);
        }
      } else if (eq >= 0) set(canon, body.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw usageError(`flag needs an argument: -${name}`);
        set(canon, argv[++i]);
      }
      continue;
    }
    // argp
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const hit = k.long.get(name);
      if (!hit) throw usageError(`unrecognized option '--${name}'`);
      const [canon, kind] = hit;
      if (kind === "boolean") {
        if (eq >= 0) throw usageError(`option '--${name}' doesn't allow an argument`);
        set(canon, true);
      } else if (eq >= 0) set(canon, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw usageError(`option '--${name}' requires an argument`);
        set(canon, argv[++i]);
      }
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const hit = k.short.get(a[j]);
      if (!hit) throw usageError(`invalid option -- '${a[j]}'`);
      const [canon, kind] = hit;
      if (kind === "boolean") {
        set(canon, true);
        continue;
      }
      if (j < a.length - 1) set(canon, a.slice(j + 1));
      else {
        if (i + 1 >= argv.length) throw usageError(`option requires an argument -- '${a[j]}'`);
        set(canon, argv[++i]);
      }
      break;
    }
  }
  return out;
}

/** citty's usage text without colour codes: help is read in pipes and logs as often as on a tty. */
export async function usage(cmd: CommandDef<any>, parent?: CommandDef<any>): Promise<string> {
  // Loaded only to print help: every module parsed at start costs a container's start time.
  const { renderUsage } = await import("citty");
  return (await renderUsage(cmd, parent)).replace(/\x1b\[[0-9;]*m/g, "") + "\n";
}

/** True when argv (before any `--`) asks for help. */
export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h" || a === "-help");
}

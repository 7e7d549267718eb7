// Command-line parsing for every tool: citty's definitions and usage, argp-compatible spelling
// (`-rPATH`, `-r PATH`, `--root=PATH`, `--root PATH`), and unknown options rejected by name.
import { parseArgs, renderUsage, type ArgsDef, type CommandDef } from "citty";
import { NvctError } from "./errors";

/** The aliases of an option (citty allows one or a list). */
const aliases = (a: ArgsDef[string] | undefined): string[] => (a && "alias" in a && a.alias ? [a.alias].flat() : []);

function known(def: ArgsDef) {
  const long = new Map<string, string>();
  const short = new Map<string, string>();
  for (const [name, a] of Object.entries(def)) {
    if (a.type === "positional") continue;
    const type = a.type ?? "string";
    long.set(name, type);
    for (const al of aliases(a)) (al.length === 1 ? short : long).set(al, type);
  }
  long.set("help", "boolean");
  short.set("h", "boolean");
  return { long, short };
}

/**
 * Splits argv at the first operand that is not an option value: [options, rest].
 * Used to separate global options from a subcommand and its own arguments.
 */
export function splitAtCommand(def: ArgsDef, argv: string[]): [string[], string[]] {
  const { long, short } = known(def);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") return [argv.slice(0, i), argv.slice(i + 1)];
    if (!a.startsWith("-") || a === "-") return [argv.slice(0, i), argv.slice(i)];
    if (a.startsWith("--")) {
      if (!a.includes("=") && long.get(a.slice(2)) === "string") i++;
    } else if (a.length === 2 && short.get(a[1]) === "string") i++;
  }
  return [argv, []];
}

/** Rejects options the definition does not know, naming them. */
export function checkOptions(tool: string, def: ArgsDef, argv: string[]): void {
  const { long, short } = known(def);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--") break;
    if (!a.startsWith("-") || a === "-") continue;
    if (a.startsWith("--")) {
      const name = a.slice(2).split("=")[0];
      const type = long.get(name);
      if (!type) throw new NvctError("usage", `${tool}: unrecognized option '--${name}'`);
      if (type === "string" && !a.includes("=")) {
        if (i + 1 >= argv.length) throw new NvctError("usage", `${tool}: option '--${name}' requires an argument`);
        i++;
      }
      if (type === "boolean" && a.includes("=")) throw new NvctError("usage", `${tool}: option '--${name}' doesn't allow an argument`);
      continue;
    }
    for (let j = 1; j < a.length; j++) {
      const type = short.get(a[j]);
      if (!type) throw new NvctError("usage", `${tool}: invalid option -- '${a[j]}'`);
      if (type === "string") {
        if (j === a.length - 1) {
          if (i + 1 >= argv.length) throw new NvctError("usage", `${tool}: option requires an argument -- '${a[j]}'`);
          i++;
        }
        break;
      }
    }
  }
}

/** Every value given to option `name` (for repeatable options such as `--require`). */
export function valuesOf(def: ArgsDef, argv: string[], name: string): string[] {
  const shorts = aliases(def[name]).filter((x) => x.length === 1);
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === "--") break;
    if (t === `--${name}`) out.push(argv[++i]);
    else if (t.startsWith(`--${name}=`)) out.push(t.slice(name.length + 3));
    else if (!t.startsWith("--") && t.length >= 2 && t[0] === "-" && shorts.includes(t[1])) out.push(t.length > 2 ? t.slice(2) : argv[++i]);
  }
  return out.filter((v) => v !== undefined);
}

/**
 * Parses argv against a command definition after checking its options. Options named `no-*`
 * are flags of their own (argp's `--no-cgroups`), not negations; `repeatable` options collect
 * every value into a list.
 */
export function parse<T = Record<string, any>>(tool: string, def: ArgsDef, argv: string[], repeatable: string[] = []): T & { _: string[] } {
  checkOptions(tool, def, argv);
  const out = parseArgs(argv, def) as Record<string, any>;
  for (const [name, a] of Object.entries(def)) {
    if (name.startsWith("no-") && a.type === "boolean") {
      const shorts = aliases(a).map((x) => `-${x}`);
      out[name] = argv.some((t) => t === `--${name}` || shorts.includes(t)) || undefined;
    }
  }
  for (const name of repeatable) out[name] = valuesOf(def, argv, name);
  return out as T & { _: string[] };
}

/** citty's usage text without colour codes: help is read in pipes and logs as often as on a tty. */
export async function usage(cmd: CommandDef<any>, parent?: CommandDef<any>): Promise<string> {
  return (await renderUsage(cmd, parent)).replace(/\x1b\[[0-9;]*m/g, "") + "\n";
}

export function wantsHelp(argv: string[]): boolean {
  const end = argv.indexOf("--");
  return (end < 0 ? argv : argv.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

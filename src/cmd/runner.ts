// The one command runner: walks a tool's command tree (subcommands loaded only when named),
// parses each level's options in the tool's style, prints help, awaits the handler, and turns
// whatever it throws into one message, the tool's name in front once, and the exit status the
// original program gives.
import type { ArgsDef, CommandDef } from "citty";
import { parse, usage, wantsHelp, type Parsed, type Style } from "../args";
import { asNvctError, NvctError } from "../errors";
import type { Env, Io } from "../io";

export interface Context {
  /** This command's options and operands. */
  args: Parsed;
  /** Each ancestor's options, the root's first. */
  globals: Parsed[];
  env: Env;
  io: Io;
  /** The name the binary was invoked by. */
  argv0: string;
  tool: Tool;
}

export interface Command {
  name: string;
  description: string;
  args?: ArgsDef;
  /** Options that may be given more than once (their values collect into a list). */
  repeatable?: string[];
  /** Subcommands, each loaded only when named. */
  sub?: Record<string, { description: string; load: () => Promise<Command> }>;
  /** Other names of subcommands. */
  aliases?: Record<string, string>;
  run?(c: Context): Promise<number | void> | number | void;
}

export interface Tool {
  name: string;
  style: Style;
  /** The exit status of a usage error. */
  usageExit: number;
  /** Printed for the root's `version` option. */
  version: () => string;
  root: Command;
  /** A command with subcommands given none: print its help to this stream, exit with this. */
  bare: { to: "stdout" | "stderr"; exit: number };
  /** An unknown subcommand: the status, after `report`. */
  unknownExit: number;
  /** Handles an unknown subcommand itself (returns the status), instead of reporting it. */
  unknownCommand?(name: string, c: { io: Io; env: Env }): number;
  /** Writes one error. */
  report(e: NvctError, c: { io: Io; env: Env; usage: () => Promise<string> }): void | Promise<void>;
}

function citty(cmd: Command): CommandDef<any> {
  const subCommands = cmd.sub ? Object.fromEntries(Object.entries(cmd.sub).map(([n, s]) => [n, { meta: { name: n, description: s.description } }])) : undefined;
  return { meta: { name: cmd.name, description: cmd.description }, args: cmd.args ?? {}, subCommands };
}

/** Runs a tool over argv; returns the exit status. */
export async function runTool(tool: Tool, argv: string[], env: Env, io: Io, argv0 = tool.name): Promise<number> {
  let cmd = tool.root;
  let parent: Command | undefined;
  let rest = argv;
  const globals: Parsed[] = [];
  // The help text, rendered only when it is printed.
  let helpOf: () => Promise<string> = () => usage(citty(cmd));
  try {
    for (;;) {
      const [c, p] = [cmd, parent];
      helpOf = () => usage(citty(c), p ? citty(p) : undefined);
      if (cmd.sub) {
        const opts = parse(tool.style, cmd.args ?? {}, rest, cmd.repeatable, true);
        const before = rest.slice(0, rest.length - opts._.length);
        if (wantsHelp(before)) return io.stdout(await helpOf()), 0;
        if (cmd === tool.root && opts.version) return io.stdout(tool.version()), 0;
        const [name, ...more] = opts._;
        if (name === undefined) {
          if (cmd.run) return (await cmd.run({ args: opts, globals, env, io, argv0, tool })) ?? 0;
          io[tool.bare.to](await helpOf());
          return tool.bare.exit;
        }
        const real = cmd.aliases?.[name] ?? name;
        const entry = Object.hasOwn(cmd.sub, real) ? cmd.sub[real] : undefined;
        if (!entry) {
          if (tool.unknownCommand) return tool.unknownCommand(name, { io, env });
          await tool.report(new NvctError("usage", `unknown command \`${[...pathOf(cmd, tool), name].join(" ")}\``), { io, env, usage: helpOf });
          return tool.unknownExit;
        }
        globals.push(opts);
        parent = cmd;
        cmd = await entry.load();
        rest = more;
        continue;
      }
      if (wantsHelp(rest)) return io.stdout(await helpOf()), 0;
      const args = parse(tool.style, cmd.args ?? {}, rest, cmd.repeatable);
      if (cmd === tool.root && args.version) return io.stdout(tool.version()), 0;
      return (await cmd.run!({ args, globals, env, io, argv0, tool })) ?? 0;
    }
  } catch (err) {
    const e = asNvctError(err);
    await tool.report(e, { io, env, usage: helpOf });
    return e.code === "usage" ? tool.usageExit : 1;
  }
}

function pathOf(cmd: Command, tool: Tool): string[] {
  return cmd === tool.root ? [] : [cmd.name];
}

/** A usage error naming an operand the command does not take. */
export function noOperands(args: Parsed): void {
  if (args._.length) throw new NvctError("usage", `unexpected argument \`${args._[0]}\``);
}

/** logrus's text form of one record, as the Go tools print it to a file or a pipe. */
export function logrusLine(level: "debug" | "info" | "warning" | "error", msg: string, now = new Date()): string {
  const time = now.toISOString().replace(/\.\d{3}Z$/, "Z");
  const quoted = /^[A-Za-z0-9\-._/@^+]+$/.test(msg) ? msg : JSON.stringify(msg);
  return `time="${time}" level=${level} msg=${quoted}\n`;
}

/** How the Go tools print: logrus's text form on stderr (its terminal form on a terminal). */
export function logrusReport(level: "error" | "warning", msg: string, io: Io): void {
  if (io.stderrIsTty?.()) {
    const tag = level === "error" ? "\x1b[31mERRO\x1b[0m" : "\x1b[33mWARN\x1b[0m";
    io.stderr(`${tag}[0000] ${msg}\n`);
  } else io.stderr(logrusLine(level, msg));
}

// The multi-call entry point: dispatches on the name the binary was invoked by, or on
// `nvct <tool> ...`. Tools are imported on demand so that each pays only for its own modules.
import type { Env, Io } from "./io";
import { COMMANDS, TOOLS } from "./tools";
import { VERSION_TEXT } from "./version";

const HELP = `nvct: NVIDIA Container Toolkit, in one binary

Usage: nvct <tool> [args...]   or invoke through a link named after the tool
       nvct <command> [args...]

Tools:
${Object.keys(TOOLS)
  .map((t) => `  ${t}`)
  .join("\n")}

Commands:
  doctor          Say what stops a GPU container on this host, and how to fix it

Options:
  -h, --help      Show this help
  -V, --version   Print the version and commit
`;

/** Runs the tool named by argv[0] (a path or a name); returns the exit status. */
export async function main(argv: string[], env: Env, io: Io): Promise<number> {
  let [arg0, ...rest] = argv;
  // Its last component (not node:path's basename: one module less to load on every start).
  const invoked = arg0 || "nvct";
  let name = invoked.slice(invoked.lastIndexOf("/") + 1);
  if (!(name in TOOLS)) {
    const [sub, ...more] = rest;
    if (sub === "--version" || sub === "-V" || sub === "version") {
      io.stdout(VERSION_TEXT);
      return 0;
    }
    if (sub === undefined || sub === "--help" || sub === "-h" || sub === "help") {
      io[sub === undefined ? "stderr" : "stdout"](HELP);
      return sub === undefined ? 2 : 0;
    }
    if (Object.hasOwn(COMMANDS, sub)) return (await COMMANDS[sub]())(more, env, io, arg0);
    if (!(sub in TOOLS)) {
      io.stderr(`nvct: unknown tool \`${sub}\`\n\n${HELP}`);
      return 2;
    }
    name = sub;
    rest = more;
  }
  const tool = await TOOLS[name]();
  return tool(rest, env, io, arg0);
}

// The binary's start: hand the process to main() and exit with its status. argv0 is the name the
// binary was invoked by (a tool link, or nvct; `bun` when run from source).
import { dumpTrace, mark } from "./trace";
mark("entry");
import { processIo } from "./io";
import { main } from "./main";

const code = await main([process.argv0, ...process.argv.slice(2)], process.env, processIo);
mark("exit");
dumpTrace(process.env, processIo.stderr);
process.exit(code);

// The build: AssemblyScript core -> WebAssembly component checked against the WIT contract (jco)
// -> one compiled executable (bun build --compile) and its tool links. Run: `npm run build`.
import { spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { TOOL_NAMES } from "../src/tools";

const top = join(import.meta.dir, "..");
const out = join(top, "build/out");
const bin = (n: string) => join(top, "node_modules/.bin", n);

function run(cmd: string, args: string[]) {
  const r = spawnSync(cmd, args, { cwd: top, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" });
  if (r.status !== 0) {
    process.stderr.write(`build: ${cmd} ${args.join(" ")} failed\n${r.stdout}${r.stderr}`);
    process.exit(1);
  }
  return r.stdout;
}

mkdirSync(out, { recursive: true });

// 1. The core module. The stub runtime never frees: each process makes a handful of decisions.
// -Oz: JSC compiles the whole module before its first call, and size is what that costs.
run(bin("asc"), ["assembly/index.ts", "-o", "build/out/core.wasm", "--runtime", "stub", "-Oz", "--converge", "--noAssert", "--use", "abort=assembly/abi/abort"]);

// 2. The component: embed the WIT world, build the component (jco checks every export's
// signature against the world), then read its WIT back and compare with the contract.
run(bin("jco"), ["embed", "build/out/core.wasm", "--wit", "assembly/core.wit", "-n", "core", "-o", "build/out/core.embedded.wasm"]);
run(bin("jco"), ["new", "build/out/core.embedded.wasm", "-o", "build/out/core.component.wasm"]);
const wit = run(bin("jco"), ["wit", "build/out/core.component.wasm"]);
const exportsOf = (text: string) =>
  [...text.matchAll(/^\s*export (\w+): (func\(.*;)$/gm)].map((m) => `${m[1]}: ${m[2]}`).sort();
const want = exportsOf(readFileSync(join(top, "assembly/core.wit"), "utf8"));
const got = exportsOf(wit);
if (JSON.stringify(want) !== JSON.stringify(got) || want.length === 0) {
  process.stderr.write(`build: the component does not match assembly/core.wit\nwant ${want.join("\n")}\ngot  ${got.join("\n")}\n`);
  process.exit(1);
}
// jco's own JS binding, for the conformance test and the binding-cost measurement (not shipped).
rmSync(join(out, "jco"), { recursive: true, force: true });
run(bin("jco"), ["transpile", "build/out/core.component.wasm", "-o", "build/out/jco", "--instantiation", "sync", "--no-nodejs-compat", "--quiet"]);

// 3. The executable.
const pkg = JSON.parse(readFileSync(join(top, "package.json"), "utf8"));
const git = spawnSync("git", ["rev-parse", "--short=12", "HEAD"], { cwd: top, encoding: "utf8" });
const commit = git.status === 0 ? git.stdout.trim() : "unknown";
const dist = join(top, "dist");
rmSync(dist, { recursive: true, force: true });
mkdirSync(join(dist, "bin"), { recursive: true });
run(bin("bun"), [
  "build", "--compile", "--bytecode", "--format=esm", "--minify",
  "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig",
  "--define", `NVCT_VERSION=${JSON.stringify(pkg.version)}`,
  "--define", `NVCT_COMMIT=${JSON.stringify(commit)}`,
  "src/entry.ts", "--outfile", "dist/nvct",
]);
for (const t of TOOL_NAMES) symlinkSync("../nvct", join(dist, "bin", t));
writeFileSync(join(out, "BUILD"), `${pkg.version} ${commit}\n`);
process.stdout.write(`built dist/nvct (${pkg.version}, ${commit}) and links: ${TOOL_NAMES.join(", ")}\n`);

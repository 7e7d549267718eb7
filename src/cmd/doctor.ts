// `nvct doctor` (also `nvidia-ctk doctor`): looks at the host and says what stops a GPU container
// and how to fix it, most likely cause first. Facts from src/engine/host.ts, verdicts from
// src/engine/doctor.ts; text for people, --json for tools; exit 0 only when nothing failed.
import type { Check } from "../engine/doctor";
import type { Env, Io } from "../io";
import { VERSION_TEXT } from "../version";
import { noOperands, runTool, type Command, type Tool } from "./runner";

const MARK: Record<Check["status"], string> = { fail: "FAIL", warn: "WARN", ok: "ok", skip: "skip" };

/** One line per check, failures first with their fix under them, then a summary line. */
export function renderChecks(checks: Check[], ordered: Check[], wouldStart: boolean): string {
  const width = Math.max(...checks.map((c) => c.id.length));
  const out: string[] = [];
  for (const c of ordered) {
    out.push(`${MARK[c.status].padEnd(4)}  ${c.id.padEnd(width)}  ${c.finding}`);
    if ((c.status === "fail" || c.status === "warn") && c.fix) out.push(`${" ".repeat(6 + width)}fix: ${c.fix}`);
  }
  const n = (s: Check["status"]) => checks.filter((c) => c.status === s).length;
  const parts = [`${n("fail")} failed`, `${n("warn")} warning${n("warn") === 1 ? "" : "s"}`, `${n("ok")} ok`, `${n("skip")} skipped`];
  out.push("", `${parts.join(", ")}: ${wouldStart ? "a GPU container would start" : "a GPU container would not start"}`);
  return out.join("\n") + "\n";
}

export const DOCTOR: Command = {
  name: "doctor",
  description: "Look at this host and say what stops a GPU container, and how to fix it (exit 0: a GPU container would start)",
  args: {
    json: { type: "boolean", description: "The checks as JSON: a list of {id, status, finding, fix}" },
    config: { type: "string", description: "config.toml (default: $NVIDIA_CTK_CONFIG_FILE_PATH, else /etc/nvidia-container-runtime/config.toml)" },
    facts: { type: "boolean", description: "Print the facts gathered (JSON) instead of the verdicts" },
  },
  async run(c) {
    noOperands(c.args);
    const { hostFacts } = await import("../engine/host");
    const { diagnose, forPeople, wouldStart } = await import("../engine/doctor");
    const facts = await hostFacts({ config: c.args.config, env: c.env });
    if (c.args.facts) {
      c.io.stdout(JSON.stringify(facts, null, 2) + "\n");
      return 0;
    }
    const checks = diagnose(facts);
    const start = wouldStart(checks);
    c.io.stdout(c.args.json ? JSON.stringify(checks, null, 2) + "\n" : renderChecks(checks, forPeople(checks), start));
    return start ? 0 : 1;
  },
};

const TOOL: Tool = {
  name: "nvct doctor",
  style: "go",
  usageExit: 2,
  version: () => VERSION_TEXT,
  root: DOCTOR,
  bare: { to: "stdout", exit: 0 },
  unknownExit: 2,
  report(e, { io }) {
    io.stderr(`nvct doctor: ${e.message}\n`);
  },
};

/** `nvct doctor [--json] [--config F]`. */
export function doctor(argv: string[], env: Env, io: Io): Promise<number> {
  return runTool(TOOL, argv, env, io);
}

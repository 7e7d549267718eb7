// Dispatch of the multi-call binary, in-process through main(argv, env, io) and as built.
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { recordingIo } from "../src/io";
import { main } from "../src/main";
import { BIN, NVCT } from "./paths";

describe("main dispatch", () => {
  const cases: [string, string[], number, string, string][] = [
    ["--version", ["nvct", "--version"], 0, "stdout", "nvct version"],
    ["help", ["nvct", "--help"], 0, "stdout", "nvidia-container-cli"],
    ["no tool", ["nvct"], 2, "stderr", "Usage: nvct <tool>"],
    ["unknown tool", ["/usr/bin/nvct", "nvidia-frobnicator"], 2, "stderr", "nvct: unknown tool `nvidia-frobnicator`"],
    ["tool by link name", ["/usr/bin/nvidia-container-cli", "--version"], 0, "stdout", "cli-version: "],
    ["the hook by its other name", ["/usr/bin/nvidia-container-toolkit", "--version"], 0, "stdout", "NVIDIA Container Runtime Hook version"],
    ["nvidia-ctk's version", ["nvidia-ctk", "--version"], 0, "stdout", "NVIDIA Container Toolkit CLI version"],
    ["tool as subcommand", ["nvct", "nvidia-container-cli", "--help"], 0, "stdout", "USAGE nvidia-container-cli"],
    ["tool help per command", ["nvidia-container-cli", "info", "--help"], 0, "stdout", "--csv"],
  ];
  test.each(cases)("%s", async (_d, argv, status, stream, text) => {
    const io = recordingIo();
    expect(await main(argv, {}, io)).toBe(status);
    expect(stream === "stdout" ? io.out : io.err).toContain(text);
  });

  test("the compiled binary dispatches on its link name and as `nvct <tool>`", () => {
    const viaLink = spawnSync(`${BIN}/nvidia-container-cli`, ["--help"], { encoding: "utf8" });
    const viaSub = spawnSync(NVCT, ["nvidia-container-cli", "--help"], { encoding: "utf8" });
    expect(viaLink.status).toBe(0);
    expect(viaLink.stdout).toContain("USAGE nvidia-container-cli");
    expect(viaSub.stdout).toBe(viaLink.stdout);
    const v = spawnSync(NVCT, ["--version"], { encoding: "utf8" });
    expect(v.stdout).toMatch(/^nvct version 0\.1\.0\ncommit: [0-9a-f]{12}\n$/);
  });

  test("the binary ignores a .env and bunfig.toml in its working directory", () => {
    const fs = require("node:fs");
    const dir = fs.mkdtempSync("/tmp/nvct-cwd-");
    // Were .env read, the runtime would load this broken config and say so; were bunfig.toml
    // read, its missing preload would fail the start.
    fs.writeFileSync(`${dir}/broken.toml`, "mode = [\n");
    fs.writeFileSync(`${dir}/.env`, `NVIDIA_CTK_CONFIG_FILE_PATH=${dir}/broken.toml\n`);
    fs.writeFileSync(`${dir}/bunfig.toml`, "preload = ['./nope.ts']\n");
    const env = { ...process.env, NVIDIA_CTK_CONFIG_FILE_PATH: "" };
    const r = spawnSync(`${BIN}/nvidia-container-runtime`, ["--version"], { encoding: "utf8", cwd: dir, env });
    fs.rmSync(dir, { recursive: true });
    expect(r.stderr).toBe("");
    expect(r.stdout).toContain("runc version");
    expect(r.status).toBe(0);
  });
});

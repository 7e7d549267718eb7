// nvidia-docker's rewriting of docker's argv, one case a row; then the tool itself, in-process
// (docker not found) and as built (exec'd in place: same pid, the exit status passed back).
import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { commandIndex, dockerArgs, nvGpu, nvidiaDocker } from "../../src/cmd/docker";
import { recordingIo } from "../../src/io";
import { BIN } from "../paths";

const R = "--runtime=nvidia";
const E = (v: string) => ["-e", `NVIDIA_VISIBLE_DEVICES=${v}`];

describe("dockerArgs: what nvidia-docker hands docker", () => {
  const cases: [string, string[], Record<string, string>, string[]][] = [
    ["run gets the runtime", ["run", "--rm", "img"], {}, ["run", R, "--rm", "img"]],
    ["create gets the runtime", ["create", "img"], {}, ["create", R, "img"]],
    ["container run", ["container", "run", "img", "sh"], {}, ["container", "run", R, "img", "sh"]],
    ["container create", ["container", "create", "img"], {}, ["container", "create", R, "img"]],
    ["-H SOCK before the command", ["-H", "unix:///s", "run", "img"], {}, ["-H", "unix:///s", "run", R, "img"]],
    ["--host=, --config DIR, --context X, -D, --log-level X", ["--host=unix:///s", "--config", "/c", "--context", "ctx", "-D", "--log-level", "debug", "run", "img"], {}, ["--host=unix:///s", "--config", "/c", "--context", "ctx", "-D", "--log-level", "debug", "run", R, "img"]],
    ["-c X, -l X, the --tls options", ["-c", "ctx", "-l", "info", "--tls", "--tlsverify", "--tlscacert", "/ca", "--tlscert", "/c", "--tlskey", "/k", "create", "img"], {}, ["-c", "ctx", "-l", "info", "--tls", "--tlsverify", "--tlscacert", "/ca", "--tlscert", "/c", "--tlskey", "/k", "create", R, "img"]],
    ["short options run together: -Hsock, -DH sock", ["-Hunix:///s", "-DH", "unix:///t", "run", "img"], {}, ["-Hunix:///s", "-DH", "unix:///t", "run", R, "img"]],
    ["a boolean global option with =", ["--tlsverify=false", "-D=true", "run", "img"], {}, ["--tlsverify=false", "-D=true", "run", R, "img"]],
    ["a global option's value named run is not the command", ["--context", "run", "ps"], {}, ["--context", "run", "ps"]],
    ["NV_GPU=0,1: the container's NVIDIA_VISIBLE_DEVICES", ["run", "img"], { NV_GPU: "0,1" }, ["run", R, ...E("0,1"), "img"]],
    ["NV_GPU=all", ["-H", "unix:///s", "container", "run", "img"], { NV_GPU: "all" }, ["-H", "unix:///s", "container", "run", R, ...E("all"), "img"]],
    ["NV_GPU with spaces, as the script took it: 0 1", ["create", "img"], { NV_GPU: "0 1" }, ["create", R, ...E("0,1"), "img"]],
    ["NV_GPU=GPU-uuid,  MIG-uuid (blanks after commas dropped)", ["run", "img"], { NV_GPU: "GPU-a,  MIG-b" }, ["run", R, ...E("GPU-a,MIG-b"), "img"]],
    ["NV_GPU unset: the runtime only", ["run", "img"], {}, ["run", R, "img"]],
    ["NV_GPU empty: the runtime only", ["run", "img"], { NV_GPU: "" }, ["run", R, "img"]],
    ["NV_GPU blank: the runtime only", ["run", "img"], { NV_GPU: "  " }, ["run", R, "img"]],
    ["NV_GPU on a command that makes no container: nothing", ["ps"], { NV_GPU: "1" }, ["ps"]],
    ["--runtime=X given: no second runtime, NV_GPU still passed", ["run", "--runtime=runc", "img"], { NV_GPU: "1" }, ["run", ...E("1"), "--runtime=runc", "img"]],
    ["--runtime X given (two words), after other options", ["run", "-it", "-e", "A=1", "--name", "n", "--runtime", "nvidia", "img"], {}, ["run", "-it", "-e", "A=1", "--name", "n", "--runtime", "nvidia", "img"]],
    ["--runtime after the image is the container's own argument", ["run", "--rm", "img", "prog", "--runtime=x"], {}, ["run", R, "--rm", "img", "prog", "--runtime=x"]],
    ["--runtime as an option's value is not an option", ["run", "-e", "--runtime", "img"], {}, ["run", R, "-e", "--runtime", "img"]],
    ["--runtime after run's -- is the image's business", ["run", "--", "img", "--runtime=x"], {}, ["run", R, "--", "img", "--runtime=x"]],
    ["-- before the command ends the global options (docker runs the command after it)", ["-H", "unix:///s", "--", "run", "img"], {}, ["-H", "unix:///s", "--", "run", R, "img"]],
    ["-- alone", ["--"], {}, ["--"]],
    ["images unchanged", ["-H", "unix:///s", "images"], { NV_GPU: "1" }, ["-H", "unix:///s", "images"]],
    ["version unchanged", ["version", "--format", "{{.Server.Version}}"], {}, ["version", "--format", "{{.Server.Version}}"]],
    ["exec with a word run later unchanged", ["exec", "ctr", "run"], {}, ["exec", "ctr", "run"]],
    ["container ls unchanged", ["container", "ls"], {}, ["container", "ls"]],
    ["compose run unchanged (compose has no --runtime)", ["compose", "run", "svc"], {}, ["compose", "run", "svc"]],
    ["--help passes to docker", ["--help"], {}, ["--help"]],
    ["run --help: docker's help of run", ["run", "--help"], {}, ["run", R, "--help"]],
    ["an unknown global option: unchanged (its arity is unknown)", ["--frobnicate", "x", "run", "img"], {}, ["--frobnicate", "x", "run", "img"]],
    ["no arguments", [], {}, []],
  ];
  test.each(cases)("%s", (_d, argv, env, want) => expect(dockerArgs(argv, env)).toEqual(want));

  test("the argv given is not modified", () => {
    const argv = ["run", "img"];
    dockerArgs(argv, { NV_GPU: "1" });
    expect(argv).toEqual(["run", "img"]);
  });

  test("commandIndex: after global options, -- or none", () => {
    expect(commandIndex(["-D", "-H", "s", "ps"])).toBe(3);
    expect(commandIndex(["--", "ps"])).toBe(1);
    expect(commandIndex(["-D"])).toBe(-1);
    expect(commandIndex(["--bogus", "ps"])).toBe(-1);
  });

  test("nvGpu", () => {
    expect(nvGpu(" 0, 1 ,2 ")).toBe("0,1,2");
    expect(nvGpu(undefined)).toBeUndefined();
  });
});

describe("nvidia-docker, the tool", () => {
  test("docker not on PATH: one line naming it, exit 1", async () => {
    const io = recordingIo();
    expect(await nvidiaDocker(["ps"], { PATH: "/nonexistent" }, io)).toBe(1);
    expect(io.err).toBe("nvidia-docker: cannot run `docker`: not found on PATH\n");
    expect(io.out).toBe("");
  });

  test("NV_DOCKER naming a missing file", async () => {
    const io = recordingIo();
    expect(await nvidiaDocker(["ps"], { NV_DOCKER: "/nonexistent/docker" }, io)).toBe(1);
    expect(io.err).toBe("nvidia-docker: cannot run `/nonexistent/docker`: no such file (NV_DOCKER)\n");
  });

  test("as built: docker exec'd in place with the new argv, its exit status passed back", () => {
    const dir = mkdtempSync(join(tmpdir(), "nvct-nvdocker-"));
    try {
      // A docker that reports its pid, argv[0], argv and one variable of the environment.
      const fake = join(dir, "docker");
      writeFileSync(fake, '#!/bin/sh\necho "pid $$"\necho "argv0 $0"\nfor a in "$@"; do echo "arg $a"; done\necho "keep $KEEP"\nexit 7\n');
      chmodSync(fake, 0o755);
      const env = { PATH: `${dir}:/usr/bin:/bin`, NV_GPU: "0 1", KEEP: "yes" };
      const r = spawnSync(`${BIN}/nvidia-docker`, ["-H", "unix:///s", "run", "--rm", "img", "sh", "-c", "echo 'a b'"], { encoding: "utf8", env });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(7);
      expect(r.stdout).toBe(
        [`pid ${r.pid}`, `argv0 ${fake}`, ...["-H", "unix:///s", "run", R, ...E("0,1"), "--rm", "img", "sh", "-c", "echo 'a b'"].map((a) => `arg ${a}`), "keep yes", ""].join("\n"),
      );
      // `version`: the script's line first, then docker's own; NV_DEBUG traces the command.
      const v = spawnSync(`${BIN}/nvidia-docker`, ["version"], { encoding: "utf8", env: { ...env, NV_DEBUG: "1" } });
      expect(v.stdout).toMatch(/^NVIDIA Docker: \d+\.\d+\.\d+\npid \d+\n/);
      expect(v.stderr).toBe("+ exec docker version\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

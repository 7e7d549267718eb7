// nvidia-cdi-hook (also `nvidia-ctk hook`): the createContainer hooks a CDI spec names. Each
// reads the container's state on stdin and works inside its root through the injection engine's
// own resolution (openat2 RESOLVE_IN_ROOT): no image content can make it write outside the root,
// and it runs nothing from the image (it writes ld.so.cache itself instead of running ldconfig).
import { defineCommand, type ArgsDef } from "citty";
import { parse, usage, wantsHelp } from "../args";
import type { PlanOp } from "../core";
import { parseState, readSpec, rootfsOf } from "../discover/container";
import { NvctError } from "../errors";
import type { Env, Io } from "../io";
import { VERSION_TEXT } from "../version";

const HOOKS = {
  "create-symlinks": {
    args: { link: { type: "string", description: "TARGET::LINK: create LINK (a container path) pointing at TARGET (repeatable)" } },
    description: "Create symlinks in the container",
  },
  "update-ldcache": {
    args: { folder: { type: "string", description: "A container folder whose libraries to add to /etc/ld.so.cache (repeatable)" } },
    description: "Add libraries to the container's ld.so.cache",
  },
  chmod: {
    args: {
      mode: { type: "string", description: "The mode, in octal (e.g. 755)" },
      path: { type: "string", description: "A container path (repeatable)" },
    },
    description: "Change the mode of paths in the container",
  },
} satisfies Record<string, { args: ArgsDef; description: string }>;

type HookName = keyof typeof HOOKS;

/** The hook's operations, from its arguments (validated; every bad value named). */
export function hookOps(name: HookName, a: Record<string, any>): PlanOp[] {
  if (name === "create-symlinks") {
    return (a.link as string[]).map((l) => {
      const [target, link, ...rest] = l.split("::");
      if (!target || !link || rest.length || !link.startsWith("/")) throw new NvctError("usage", `invalid --link \`${l}\`: want TARGET::/ABSOLUTE/LINK`);
      const i = link.lastIndexOf("/");
      return { op: "symlink", dir: link.slice(0, i) || "/", name: link.slice(i + 1), target };
    });
  }
  if (name === "update-ldcache") {
    const folders = a.folder as string[];
    for (const f of folders) if (!f.startsWith("/")) throw new NvctError("usage", `invalid --folder \`${f}\`: want an absolute container path`);
    return [{ op: "ldcache", entries: [], folders }];
  }
  const mode = String(a.mode ?? "");
  if (!/^[0-7]{1,4}$/.test(mode)) throw new NvctError("usage", mode ? `invalid --mode \`${mode}\`: want octal` : "chmod: missing --mode");
  const paths = a.path as string[];
  if (paths.length === 0) throw new NvctError("usage", "chmod: missing --path");
  for (const p of paths) if (!p.startsWith("/")) throw new NvctError("usage", `invalid --path \`${p}\`: want an absolute container path`);
  return paths.map((p) => ({ op: "chmod", path: p, mode: parseInt(mode, 8) }));
}

const top = defineCommand({
  meta: { name: "nvidia-cdi-hook", description: "createContainer hooks for CDI specs (nvct)" },
  subCommands: Object.fromEntries(Object.entries(HOOKS).map(([n, h]) => [n, defineCommand({ meta: { name: n, description: h.description }, args: h.args })])),
});

export async function cdiHook(argv: string[], env: Env, io: Io): Promise<number> {
  return runHook(argv, env, io, "nvidia-cdi-hook");
}

/** The hooks under a tool name (`nvidia-cdi-hook`, or `nvidia-ctk hook`). */
export async function runHook(argv: string[], _env: Env, io: Io, tool: string): Promise<number> {
  try {
    const [name, ...rest] = argv;
    if (name === "--version" || name === "-V") {
      io.stdout(VERSION_TEXT);
      return 0;
    }
    if (name === undefined || name === "--help" || name === "-h") {
      io[name ? "stdout" : "stderr"](await usage(top));
      return name ? 0 : 2;
    }
    if (!(name in HOOKS)) throw new NvctError("usage", `unknown hook \`${name}\` (want ${Object.keys(HOOKS).join(", ")})`);
    const h = HOOKS[name as HookName];
    if (wantsHelp(rest)) {
      io.stdout(await usage(defineCommand({ meta: { name, description: h.description }, args: h.args }), top));
      return 0;
    }
    const a = parse(tool, h.args, rest, Object.keys(h.args).filter((k) => k !== "mode"));
    if (a._.length) throw new NvctError("usage", `unexpected argument \`${a._[0]}\``);
    const ops = hookOps(name as HookName, a);
    const state = parseState(io.stdin());
    const rootfs = rootfsOf(state.bundle, readSpec(state.bundle));
    const { apply } = await import("../inject/apply");
    const { sys } = await import("../sys/libc");
    // createContainer hooks run in the container's mount namespace already, before pivot_root.
    apply(ops, { pid: null, rootfs, cgroup: null, procContents: new Map() }, sys);
    return 0;
  } catch (e) {
    if (!(e instanceof NvctError)) throw e;
    io.stderr(`${tool}: ${e.message}\n`);
    return e.code === "usage" ? 2 : 1;
  }
}

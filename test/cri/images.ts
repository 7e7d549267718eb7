// Images for the CRI test, made here without a registry: a rootfs as one layer in a docker-archive
// tarball (`docker save`'s format: manifest.json, the image config, the layer), which
// `ctr images import` reads; a pause image whose only file is the static busybox.
import { spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

function run(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")}: ${r.stderr}`);
}

export interface ImageConfig {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
}

const PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Writes `out`, a docker-archive of `rootfs` named `ref` (e.g. `nvct.local/pause:1`). */
export function dockerArchive(out: string, rootfs: string, ref: string, config: ImageConfig = {}): string {
  const d = `${out}.d`;
  mkdirSync(d, { recursive: true });
  run("tar", ["--numeric-owner", "-C", rootfs, "-cf", join(d, "layer.tar"), "."]);
  const diffId = `sha256:${new Bun.CryptoHasher("sha256").update(readFileSync(join(d, "layer.tar"))).digest("hex")}`;
  const image = {
    architecture: "amd64",
    os: "linux",
    config: { Env: [PATH_ENV], ...config },
    rootfs: { type: "layers", diff_ids: [diffId] },
    history: [{ created_by: "nvct test/cri/images.ts" }],
  };
  const configText = JSON.stringify(image);
  const configName = `${new Bun.CryptoHasher("sha256").update(configText).digest("hex")}.json`;
  writeFileSync(join(d, configName), configText);
  writeFileSync(join(d, "manifest.json"), JSON.stringify([{ Config: configName, RepoTags: [ref], Layers: ["layer.tar"] }]));
  run("tar", ["--numeric-owner", "-C", d, "-cf", out, "manifest.json", configName, "layer.tar"]);
  rmSync(d, { recursive: true, force: true });
  return out;
}

/** The pod's sandbox image: the static busybox sleeping until the sandbox is killed. */
export function pauseImage(dir: string, ref: string): string {
  const root = join(dir, "pause-rootfs");
  mkdirSync(join(root, "bin"), { recursive: true });
  copyFileSync("/bin/busybox", join(root, "bin/busybox"));
  chmodSync(join(root, "bin/busybox"), 0o755);
  return dockerArchive(join(dir, "pause.tar"), root, ref, { Entrypoint: ["/bin/busybox", "sleep", "inf"] });
}

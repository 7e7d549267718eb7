// Every engine nvct configures, by the name `runtime configure --runtime` takes.
import { containerd } from "./containerd";
import { crio } from "./crio";
import { docker } from "./docker";
import type { Engine } from "./engine";
import { podman } from "./podman";

export const ENGINES: Record<string, Engine> = { docker, containerd, crio, podman };

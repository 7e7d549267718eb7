// podman (and CRI-O's OCI hooks): a hooks.d entry that runs nvct's prestart hook for every
// container; the hook itself decides whether the container asks for a GPU.
import type { Engine } from "./engine";

const PATH = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"];

/** The hooks.d JSON of the reference's oci-nvidia-hook.json. */
export function hookJson(hookPath: string): string {
  const dir = hookPath.slice(0, hookPath.lastIndexOf("/")) || "/";
  const path = PATH.includes(dir) ? PATH.join(":") : `${PATH.join(":")}:${dir}`;
  const hook = {
    version: "1.0.0",
    hook: { path: hookPath, args: [hookPath.split("/").pop(), "prestart"], env: [`PATH=${path}`] },
    when: { always: true, commands: [".*"] },
    stages: ["prestart"],
  };
  return JSON.stringify(hook, null, 2) + "\n";
}

export const podman: Engine = {
  name: "podman",
  config: "/usr/share/containers/oci/hooks.d/oci-nvidia-hook.json",
  dropIn: "",
  configure({ file, options: o }) {
    return [{ path: file, text: hookJson(o.hookPath) }];
  },
};

// The injection plan: which driver files and nodes a container gets, where, and with which flags.
import { Outcome } from "./abi";
import { wantsGroup } from "./groups";
import { joinJson, lines, q } from "./text";

const FILE_FLAGS = '["ro","nosuid","nodev"]';
const NODE_FLAGS = '["ro","nosuid","noexec"]';
const SOCKET_FLAGS = '["nosuid","nodev","noexec"]';

function basename(p: string): string {
  return p.substring(p.lastIndexOf("/") + 1);
}

function bind(src: string, dst: string, kind: string, flags: string): string {
  return '{"op":"bind","kind":' + q(kind) + ',"src":' + q(src) + ',"dst":' + q(dst) + ',"flags":' + flags + "}";
}

/**
 * plan(input). Grammar of input, one fact a line, tab-separated (host paths are as the shell can
 * open them; container paths are absolute inside the rootfs):
 *   `layout <libdir64> <libdir32>`   where the container keeps its libraries;
 *   `caps <comma list>`              the granted driver capabilities;
 *   `node <host> <container> <major> <minor> <need>`  need: always, compute (uvm), display (modeset);
 *   `lib <group> <32|64> <host> <soname>`;  `bin <group> <host>`;
 *   `fw <host> <container>`;  `ipc <group> <host> <container> <socket|dir>`;
 *   `procfile <relative path> <host>`    a file of the /proc/driver/nvidia the container sees.
 * Result: `{"ops":[...]}`, in order: `device` (bind the node, allow it in the device cgroup),
 * `bind` (kind file/socket/dir, flags), `symlink` (SONAME and libcuda.so links), `procfs` (a
 * tmpfs at /proc/driver/nvidia holding the listed files), `ldcache` (entries to add).
 * Failures: `bad-plan` naming the malformed line.
 */
export function plan(input: string): Outcome {
  const ls = lines(input);
  let lib64 = "";
  let lib32 = "";
  let caps = new Array<string>();
  const devices = new Array<string>();
  const binds = new Array<string>();
  const links = new Array<string>();
  const cache = new Array<string>();
  const procfiles = new Array<string>();
  const linkSeen = new Array<string>();
  for (let i = 0; i < ls.length; i++) {
    const f = ls[i].split("\t");
    const k = f[0];
    if (k == "layout" && f.length == 3) {
      lib64 = f[1];
      lib32 = f[2];
    } else if (k == "caps" && f.length == 2) {
      caps = f[1].length > 0 ? f[1].split(",") : new Array<string>();
    } else if (k == "node" && f.length == 6) {
      const need = f[5];
      if (need == "compute" && !caps.includes("compute") && !caps.includes("video")) continue;
      if (need == "display" && !caps.includes("display")) continue;
      devices.push('{"op":"device","src":' + q(f[1]) + ',"dst":' + q(f[2]) + ',"major":' + f[3] + ',"minor":' + f[4] + ',"flags":' + NODE_FLAGS + "}");
    } else if (k == "lib" && f.length == 5) {
      const bits = f[2];
      if (!wantsGroup(caps, f[1])) continue;
      if (bits == "32" && !caps.includes("compat32")) continue;
      const dir = bits == "32" ? lib32 : lib64;
      if (dir.length == 0) return Outcome.failure("bad-plan", "library `" + f[3] + "` before the layout line");
      const name = basename(f[3]);
      const dst = dir + "/" + name;
      binds.push(bind(f[3], dst, "file", FILE_FLAGS));
      const soname = f[4];
      if (soname.length > 0 && soname != name && !linkSeen.includes(dir + "/" + soname)) {
        linkSeen.push(dir + "/" + soname);
        links.push('{"op":"symlink","dir":' + q(dir) + ',"name":' + q(soname) + ',"target":' + q(name) + "}");
        cache.push("[" + q(soname) + "," + q(dir + "/" + soname) + "," + bits + "]");
      }
      if (soname.startsWith("libcuda.so.") && !linkSeen.includes(dir + "/libcuda.so")) {
        linkSeen.push(dir + "/libcuda.so");
        links.push('{"op":"symlink","dir":' + q(dir) + ',"name":"libcuda.so","target":' + q(soname) + "}");
      }
    } else if (k == "bin" && f.length == 3) {
      if (!wantsBinary(caps, f[1])) continue;
      binds.push(bind(f[2], "/usr/bin/" + basename(f[2]), "file", FILE_FLAGS));
    } else if (k == "fw" && f.length == 3) {
      if (!caps.includes("utility") && !caps.includes("compute")) continue;
      binds.push(bind(f[1], f[2], "file", FILE_FLAGS));
    } else if (k == "ipc" && f.length == 5) {
      if (!wantsBinary(caps, f[1])) continue;
      binds.push(bind(f[2], f[3], f[4] == "dir" ? "dir" : "socket", SOCKET_FLAGS));
    } else if (k == "procfile" && f.length == 3) {
      procfiles.push("[" + q(f[1]) + "," + q(f[2]) + "]");
    } else if (ls[i].length > 0) {
      return Outcome.failure("bad-plan", "invalid plan line `" + ls[i] + "`");
    }
  }
  const ops = devices.concat(binds).concat(links);
  if (procfiles.length > 0) ops.push('{"op":"procfs","dst":"/proc/driver/nvidia","files":' + joinJson(procfiles) + "}");
  if (cache.length > 0) ops.push('{"op":"ldcache","entries":' + joinJson(cache) + "}");
  return Outcome.success('{"ops":' + joinJson(ops) + "}");
}

/** Binaries and IPCs come with utility or compute (video implies compute). */
function wantsBinary(caps: string[], group: string): bool {
  if (group == "compute") return caps.includes("compute") || caps.includes("video");
  return caps.includes(group);
}


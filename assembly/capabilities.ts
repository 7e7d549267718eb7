// NVIDIA_DRIVER_CAPABILITIES and supported-driver-capabilities.
import { Capability, CAPABILITY_NAMES, Code, Outcome, ok } from "../build/out/gen/types";
import { fail } from "./outcome";

function indexOf(name: string): i32 {
  return CAPABILITY_NAMES.indexOf(name);
}

/**
 * capabilities(list, supported). Grammar: `list` is a comma list whose trimmed, non-empty items
 * are capability names (compat32, compute, display, graphics, ngx, utility, video) or `all`; an
 * empty list means `utility,compute`. `supported` is the comma list `all` expands to and the only
 * names allowed (empty: every capability). Result: the capabilities in the contract's order,
 * without duplicates. Failures: `bad-capability` naming the first unknown or unsupported value.
 */
export function capabilities(list: string, supported: string): Outcome<Capability[]> {
  const allowed = new Array<bool>(CAPABILITY_NAMES.length);
  const s = supported.split(",");
  let anySupported = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i].trim();
    if (c.length == 0) continue;
    const k = indexOf(c);
    if (k < 0) return fail<Capability[]>(Code.BadCapability, "unknown supported capability `" + c + "`");
    allowed[k] = true;
    anySupported = true;
  }
  if (!anySupported) for (let i = 0; i < allowed.length; i++) allowed[i] = true;
  const want = new Array<bool>(CAPABILITY_NAMES.length);
  let any = false;
  const items = list.split(",");
  for (let i = 0; i < items.length; i++) {
    const c = items[i].trim();
    if (c.length == 0) continue;
    any = true;
    if (c == "all") {
      for (let k = 0; k < allowed.length; k++) if (allowed[k]) want[k] = true;
      continue;
    }
    const k = indexOf(c);
    if (k < 0) return fail<Capability[]>(Code.BadCapability, "unknown driver capability `" + c + "`");
    if (!allowed[k]) return fail<Capability[]>(Code.BadCapability, "unsupported driver capability `" + c + "`");
    want[k] = true;
  }
  if (!any) {
    want[<i32>Capability.Compute] = true;
    want[<i32>Capability.Utility] = true;
  }
  const out = new Array<Capability>();
  for (let k = 0; k < want.length; k++) if (want[k]) out.push(<Capability>k);
  return ok<Capability[]>(out);
}

/** compute or video (video brings compute's libraries, nodes and IPC). */
export function computeLike(caps: Capability[]): bool {
  return caps.includes(Capability.Compute) || caps.includes(Capability.Video);
}

/** graphics or display. */
export function graphicsLike(caps: Capability[]): bool {
  return caps.includes(Capability.Graphics) || caps.includes(Capability.Display);
}

/** The library groups (vocabulary.ts LIBRARY_GROUPS) a set of capabilities brings. */
export function wantsLibraryGroup(caps: Capability[], group: string): bool {
  if (group == "utility") return caps.includes(Capability.Utility);
  if (group == "compute") return computeLike(caps);
  if (group == "video") return caps.includes(Capability.Video);
  if (group == "graphics") return graphicsLike(caps);
  if (group == "ngx") return caps.includes(Capability.Ngx);
  return false;
}

// NVIDIA_DRIVER_CAPABILITIES and the capability flags of `configure`.
import { Outcome } from "./abi";
import { lines, quoteAll } from "./text";

/** Every capability nvct knows, in the order results are reported. */
export const ALL_CAPS: string[] = ["compat32", "compute", "display", "graphics", "ngx", "utility", "video"];

/**
 * capabilities(input). Grammar: line 1 is a comma list of capabilities (items trimmed, empty items
 * ignored), each one of ALL_CAPS or `all`; an empty list means the default `utility,compute`.
 * Optional line 2 is the comma list of supported capabilities (default: all of them); `all`
 * expands to those. Result: `{"caps":[...]}` in ALL_CAPS order, without duplicates.
 * Failures: `bad-capability` naming the first unknown or unsupported value.
 */
export function capabilities(input: string): Outcome {
  const ls = lines(input);
  const supported = new Array<string>();
  if (ls.length > 1 && ls[1].trim().length > 0) {
    const s = ls[1].split(",");
    for (let i = 0; i < s.length; i++) {
      const c = s[i].trim();
      if (c.length == 0) continue;
      if (!ALL_CAPS.includes(c)) return Outcome.failure("bad-capability", "unknown supported capability `" + c + "`");
      supported.push(c);
    }
  } else {
    for (let i = 0; i < ALL_CAPS.length; i++) supported.push(ALL_CAPS[i]);
  }
  let want = new Array<string>();
  const items = (ls.length > 0 ? ls[0] : "").split(",");
  for (let i = 0; i < items.length; i++) {
    const c = items[i].trim();
    if (c.length == 0) continue;
    if (c == "all") {
      want = want.concat(supported);
      continue;
    }
    if (!ALL_CAPS.includes(c)) return Outcome.failure("bad-capability", "unknown driver capability `" + c + "`");
    if (!supported.includes(c)) return Outcome.failure("bad-capability", "unsupported driver capability `" + c + "`");
    want.push(c);
  }
  if (want.length == 0) {
    want.push("compute");
    want.push("utility");
  }
  const out = new Array<string>();
  for (let i = 0; i < ALL_CAPS.length; i++) if (want.includes(ALL_CAPS[i])) out.push(ALL_CAPS[i]);
  return Outcome.success('{"caps":' + quoteAll(out) + "}");
}

/** Replaces AssemblyScript's env.abort import: a failed assertion traps, with no host import. */
export function abort(msg: usize, file: usize, line: u32, col: u32): void {
  unreachable();
}

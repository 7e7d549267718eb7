// JSON that round-trips: numbers beyond what a double holds exactly (a uint64 rlimit such as
// 18446744073709551615, written by `docker run --ulimit memlock=-1`) keep their text, so that
// the spec nvct writes back is the spec it read.

/** JSON.parse, with numbers a double would change kept as raw JSON text. */
export function parseLossless(text: string): any {
  return JSON.parse(text, function (_k, v, ctx?: { source?: string }) {
    if (typeof v === "number" && ctx?.source !== undefined && String(v) !== ctx.source && !/[.eE]/.test(ctx.source)) {
      return (JSON as any).rawJSON(ctx.source);
    }
    return v;
  });
}

// The implementation of each export of core.wit; build/out/gen/guest.ts (generated) lifts the
// arguments, calls these, and lowers their results.
export { request } from "./request";
export { plan } from "./plan";
export { listing } from "./listing";
export { cdispec, cdiedits, featureedits, jitedits } from "./cdi";
export { wslspec } from "./wsl";
export { ldcacheRead as ldcacheread, ldcacheWrite as ldcachewrite } from "./ldcache";
export { prologue as deviceprogram } from "./bpf";
export { cdihook } from "./hooks";
export { vocabulary } from "./vocabulary";
export { csvparse, csvedits, csvspec } from "./csv";

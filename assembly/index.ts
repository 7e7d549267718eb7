// The core module's exports: the generated wrappers of core.wit (build/binding.ts writes them).
import "./abort";
export * from "../build/out/gen/exports";

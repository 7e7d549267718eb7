// The wasm-bindgen entry of @rainbowatcher/toml-edit-js (toml_edit in WebAssembly), which the
// package ships without types (its types describe the auto-initialising shim nvct does not use).
declare module "@rainbowatcher/toml-edit-js/index" {
  /** The document with the value at a dotted path (quoted segments allowed) set, formatting kept. */
  export function edit(input: string, path: string, value: unknown, opts?: { finalNewline?: boolean; inline?: boolean } | null): string;
  /** Instantiates the module from its bytes; once. */
  export function initSync(module: { module: BufferSource | WebAssembly.Module }): unknown;
}

declare module "@rainbowatcher/toml-edit-js/index_bg.wasm" {
  /** Imported `with { type: "file" }`: the module's path (inside a compiled binary, in its embedded files). */
  const path: string;
  export default path;
}

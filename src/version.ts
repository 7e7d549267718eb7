// Filled in at build time by build/build.ts (`--define`); "dev" when run from source.
declare const NVCT_VERSION: string | undefined;
declare const NVCT_COMMIT: string | undefined;

export const VERSION = typeof NVCT_VERSION === "string" ? NVCT_VERSION : "0.0.0-dev";
export const COMMIT = typeof NVCT_COMMIT === "string" ? NVCT_COMMIT : "dev";
/** The first line of every decision cache entry's key: another build's entries are never read. */
export const BUILD = `nvct ${VERSION} ${COMMIT}`;
export const VERSION_TEXT = `nvct version ${VERSION}\ncommit: ${COMMIT}\n`;

// Where the tests find what the build made and the scripts they run.
import { join } from "node:path";

export const TOP = join(import.meta.dir, "..");
export const NVCT = join(TOP, "dist/nvct");
export const BIN = join(TOP, "dist/bin");
export const FAKEHOST = join(TOP, "scripts/fakehost.sh");

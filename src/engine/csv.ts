// Jetson / Tegra (csv mode): the CSV mount specs read, their entries located on the host, and
// the core's edits of them, for the runtime (a container's spec edited in memory) and for
// `nvidia-ctk cdi generate --mode=csv` (a spec).
import { core, type CdiEdits, type CdiOptions, type CdiSpec, type CsvHost, type CsvSpecs, type Request } from "../core";
import { DEFAULT_FILES, DEFAULT_MOUNT_SPEC_PATH, listCsvFiles, locateEntries, readCsvFiles } from "../discover/csv";
import { hasTegraRelease, isTegraHost } from "../discover/tegra";
import { cudaFacts, nvmlFacts } from "../discover/tegra-libs";

export { DEFAULT_FILES, DEFAULT_MOUNT_SPEC_PATH };

export interface CsvSource {
  /** The runtime: the mount-spec directory, whose `*.csv` files are read. */
  mountSpecPath?: string;
  /** `cdi generate --csv.file`: these files, in order. */
  files?: string[];
  /** The container's process.env (NVIDIA_REQUIRE_JETPACK=csv-mounts=all reads every file). */
  env?: string[];
  /** `--csv.ignore-pattern`: sym entries to leave out. */
  ignorePatterns?: string[];
}

export interface CsvHostOptions extends CsvSource {
  root: string;
  devRoot: string;
  librarySearchPaths?: string[];
  /** `--csv.compat-container-root`. */
  compatRoot?: string;
  log?: Log;
}

type Log = (level: "debug" | "info" | "warning", msg: string) => void;

/** The CSV files' entries (the default files when a listed directory has none to read). */
export function loadCsvSpecs(s: CsvSource, log?: Log): CsvSpecs {
  const c = core();
  const env = s.env ?? [];
  const ignorePatterns = s.ignorePatterns ?? [];
  let specs = s.files
    ? c.csvparse({ files: readCsvFiles(s.files), listed: false, env, ignorePatterns })
    : c.csvparse({ files: listCsvFiles(s.mountSpecPath ?? DEFAULT_MOUNT_SPEC_PATH), listed: true, env, ignorePatterns });
  if (specs.useDefaults) {
    log?.("info", `No CSV files to read in ${s.mountSpecPath}; using ${DEFAULT_FILES.join(", ")}`);
    specs = c.csvparse({ files: readCsvFiles(DEFAULT_FILES), listed: false, env, ignorePatterns });
  }
  for (const w of specs.skipped) log?.("debug", w);
  for (const w of specs.warnings) log?.("warning", w);
  return specs;
}

/** The host's files for the CSV entries, with NVML's facts for the CUDA compat hook. */
export function csvHost(o: CsvHostOptions): CsvHost {
  const specs = loadCsvSpecs(o, o.log);
  o.log?.("info", `CSV files: ${specs.files.join(", ") || "none"}`);
  const nvml = nvmlFacts(o.root);
  return {
    root: o.root,
    devRoot: o.devRoot,
    found: locateEntries(specs.entries, { root: o.root, devRoot: o.devRoot, librarySearchPaths: o.librarySearchPaths }),
    tegraRelease: hasTegraRelease(),
    nvmlCuda: nvml.cuda,
    orin: nvml.names.some((n) => n.includes("Orin (nvgpu)")),
    compatRoot: o.compatRoot ?? "",
  };
}

/**
 * The runtime's csv mode for a container that asks for devices: its requirements checked against
 * libcuda (cuda, and device 0's arch when a requirement names it), then the edits.
 */
export function csvEdits(req: Request, env: string[], o: { root: string; mountSpecPath: string; hookPath: string; log?: Log }): CdiEdits {
  const host = csvHost({ root: o.root, devRoot: "/", mountSpecPath: o.mountSpecPath, env, log: o.log });
  const facts = req.requires.length ? cudaFacts(req.requires.some((r) => r.includes("arch"))) : { cuda: "", arch: "" };
  if (req.requires.length) o.log?.("info", `Requirements ${req.requires.join("; ")} against cuda ${facts.cuda || "(unknown)"}, arch ${facts.arch || "(unknown)"}`);
  return core().csvedits({ host, hookPath: o.hookPath, devices: req.devices, requires: req.requires, cuda: facts.cuda, arch: facts.arch });
}

/** `cdi generate --mode=csv`: the spec of the CSV files' devices and files. */
export function csvSpec(o: CsvHostOptions, options: CdiOptions): CdiSpec {
  return core().csvspec({ host: csvHost(o), options });
}

/** A Tegra host under the driver root (auto is csv there). */
export function tegraHost(root: string): boolean {
  return isTegraHost(root, nvmlFacts);
}

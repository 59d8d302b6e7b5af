import { existsSync, mkdirSync, readdirSync, realpathSync, statSync, symlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { put, sharedLibraries } from "./agent-root.ts";

/**
 * Which of iptables' two back ends the building host's `iptables` is: Debian's
 * `xtables-nft-multi` (rules through nf_tables) or `xtables-legacy-multi` (the
 * old kernel interface, serialised by `/run/xtables.lock`). The agent must
 * write its rules with the back end its node's engine writes Docker's with,
 * or it would not see Docker's `DOCKER-USER` chain, nor its rules be seen.
 */
export type IptablesBackend = "nft" | "legacy";

/** The host's `iptables`, as the agent's image takes it. */
export interface IptablesRuntime {
  readonly backend: IptablesBackend;
  /** The multi-call binary the host's `iptables` resolves to, e.g. `/usr/sbin/xtables-nft-multi`. */
  readonly binary: string;
  /** Its extension modules' directory (`-m comment`, `-j REJECT` are modules), e.g. `/usr/lib/x86_64-linux-gnu/xtables`. */
  readonly modules: string;
  /** The shared libraries of the binary and of every module, as `ldd` names them. */
  readonly libraries: readonly string[];
  /** What the image's hash takes for it: back end, files and sizes. */
  readonly identity: string;
}

/** Where the image has the name the agent runs (`iptables`, found on the image's PATH). */
export const IPTABLES_IN_IMAGE = "/usr/sbin/iptables";
/** The name a host's `iptables` has, in the places distributions put it. */
const HOST_IPTABLES = ["/usr/sbin/iptables", "/sbin/iptables", "/usr/local/sbin/iptables"];

/**
 * The building host's `iptables`, or undefined when it has none (the image
 * is then built without one, and its agents refuse outbound workloads).
 * Throws when there is an `iptables` this build does not know how to carry
 * (not one of xtables' multi-call binaries): better no image than one whose
 * filter silently differs from its node's.
 */
export function iptablesRuntime(): IptablesRuntime | undefined {
  const name = HOST_IPTABLES.find((path) => existsSync(path));
  if (name === undefined) return undefined;
  const binary = realpathSync(name);
  const backend = /^xtables-(nft|legacy)-multi$/.exec(basename(binary))?.[1] as IptablesBackend | undefined;
  if (backend === undefined)
    throw new Error(
      `${name} resolves to ${binary}, not xtables-nft-multi or xtables-legacy-multi: the agent image cannot carry it`,
    );
  const libraries = sharedLibraries(binary);
  // Modules are looked for in the directory built into libxtables: its own directory's `xtables`.
  const libxtables = libraries.find((l) => /\/libxtables\.so/.test(l));
  const modules = libxtables ? join(dirname(realpathSync(libxtables)), "xtables") : undefined;
  if (modules === undefined || !existsSync(modules))
    throw new Error(
      `${binary}: no extension modules found beside libxtables (${libxtables ?? "not linked"})`,
    );
  const moduleFiles = readdirSync(modules)
    .filter((f) => f.endsWith(".so"))
    .sort();
  const all = new Set(libraries);
  for (const file of moduleFiles) for (const lib of sharedLibraries(join(modules, file))) all.add(lib);
  const sizes = [binary, ...all, ...moduleFiles.map((f) => join(modules, f))].map(
    (path) => `${path}:${statSync(path).size}`,
  );
  return {
    backend,
    binary,
    modules,
    libraries: [...all].sort(),
    identity: `iptables ${backend} ${sizes.join(" ")}`,
  };
}

/**
 * Puts the host's iptables into the image's root as the host has it: the
 * multi-call binary at its own path, `iptables` a link to it (the binary
 * picks its command from the name it is run as), its modules at the path
 * libxtables looks in, and every library they link. No shell: the agent runs
 * it with an argument list (src/network/iptables.ts).
 */
export function addIptablesRuntime(runtime: IptablesRuntime, stage: string): void {
  put(runtime.binary, join(stage, runtime.binary), 0o755);
  mkdirSync(join(stage, dirname(IPTABLES_IN_IMAGE)), { recursive: true });
  symlinkSync(runtime.binary, join(stage, IPTABLES_IN_IMAGE));
  for (const file of readdirSync(runtime.modules).filter((f) => f.endsWith(".so")))
    put(join(runtime.modules, file), join(stage, runtime.modules, file), 0o644);
  for (const library of runtime.libraries) put(realpathSync(library), join(stage, library), 0o755);
}

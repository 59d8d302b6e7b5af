import { type EnvOf, envInt, MiB } from "../env-values.ts";

/** How much code an owner may upload at once, and how many releases of it berth keeps. */
export const CodeEnv = {
  BERTH_MAX_CODE_BYTES: envInt(8 * MiB, 1),
  BERTH_MAX_CODE_FILES: envInt(10_000, 1),
  BERTH_KEEP_RELEASES: envInt(5, 1, 1000),
};

export interface CodeConfig {
  readonly maxCodeBytes: number;
  readonly maxCodeFiles: number;
  readonly keepReleases: number;
}

export function codeConfig(e: EnvOf<typeof CodeEnv>): CodeConfig {
  return {
    maxCodeBytes: e.BERTH_MAX_CODE_BYTES,
    maxCodeFiles: e.BERTH_MAX_CODE_FILES,
    keepReleases: e.BERTH_KEEP_RELEASES,
  };
}

/**
 * Why a fault test is skipped, or undefined when it can run: starting a
 * second dockerd and mounting file systems (read-only binds, a tiny tmpfs)
 * need root. CI and the project's machines run the suite as root.
 *
 * @example
 *   describe.skipIf(NEEDS_ROOT)("when the disk is full", () => { … });
 */
export const NEEDS_ROOT: string | undefined =
  typeof process.getuid === "function" && process.getuid() === 0
    ? undefined
    : "needs root: fault tests start a private dockerd and mount file systems";

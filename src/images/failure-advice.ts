import { CODE_DIR_IN_CONTAINER, SOCKET_DIR_IN_CONTAINER } from "../containers/container-config.ts";
import { BerthError } from "../errors/berth-error.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { Redactor } from "../logging/redactor.ts";

/** Shells berth's runtime images do not have: a shell-form CMD runs through one of them. */
const SHELLS = new Set(["/bin/sh", "sh", "/bin/bash", "bash"]);

/**
 * What to do about a workload that exited before it connected. 127 is what
 * the init process (berth runs the engine's) exits with when it cannot
 * execute the command at all.
 *
 * @example exitedFix(127, ["/bin/sh", "-c", "python3 main.py"]) // "… write it in exec form …"
 */
export function exitedFix(exitCode: number | undefined, command: readonly string[]): string {
  if (exitCode === 127 && SHELLS.has(command[0] ?? ""))
    return `The image runs its command through ${command[0]} (a shell-form CMD or ENTRYPOINT), and an image without a shell cannot: write it in exec form, e.g. CMD ["python3", "main.py"].`;
  if (exitCode === 127)
    return `The program ${JSON.stringify(command[0] ?? "")} could not be executed: it is not in the image, not on its PATH, or not executable by any uid.`;
  return "Read its output below: a missing interpreter or SDK, a file it cannot find, or a write outside /tmp (the root filesystem is read-only).";
}

/**
 * The engine's own words on why it refused a create or a start, for the
 * admin who asked (they stay out of every other answer: to-docker-error.ts):
 * the check's host directories shown as where they are mounted, the data and
 * run directories by name, then sanitised, redacted and cut as any output line.
 */
export function engineReason(
  err: unknown,
  hostPaths: { socketDir: string; codeDir: string; runDir: string; dataDir: string },
  redactor: Redactor,
): string {
  const cause =
    err instanceof BerthError
      ? (err.cause as { json?: { message?: unknown }; message?: unknown })
      : undefined;
  let text = String(
    cause?.json?.message ?? cause?.message ?? (err as Error | undefined)?.message ?? "unknown",
  );
  for (const [host, shown] of [
    [hostPaths.socketDir, SOCKET_DIR_IN_CONTAINER],
    [hostPaths.codeDir, CODE_DIR_IN_CONTAINER],
    [hostPaths.runDir, "<run dir>"],
    [hostPaths.dataDir, "<data dir>"],
  ] as const)
    text = text.replaceAll(host, shown);
  return presentOutputLine(text, redactor, { maxLength: 500 });
}

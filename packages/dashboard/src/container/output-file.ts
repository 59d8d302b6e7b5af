import type { LogLine } from "@berth/client";

/**
 * The text of a download of the output: one line each, as `time stream text`
 * (ISO time, UTC), the way `docker logs --timestamps` reads.
 *
 * @example
 *   outputText([{ ts: 0, stream: "stdout", text: "ready" }]); // "1970-01-01T00:00:00.000Z stdout ready\n"
 */
export function outputText(lines: readonly LogLine[]): string {
  return lines.map((line) => `${new Date(line.ts).toISOString()} ${line.stream} ${line.text}\n`).join("");
}

/** The download's file name: the container's name (berth's names are already safe in a file name) and the time. */
export function outputFileName(container: string, now: number): string {
  const stamp = new Date(now).toISOString().replace(/[:.]/g, "-");
  return `${container}-output-${stamp}.log`;
}

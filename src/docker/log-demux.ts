export interface LogLine {
  stream: "stdout" | "stderr";
  text: string;
}

/**
 * Splits the engine's multiplexed log stream (8-byte headers: stream type,
 * three zero bytes, big-endian length) into lines. A container with a TTY has
 * no headers; berth never gives containers a TTY, but a raw buffer still reads
 * as stdout rather than as garbage.
 */
export function demuxLogs(raw: Buffer): LogLine[] {
  const lines: LogLine[] = [];
  const looksFramed =
    raw.length >= 8 && (raw[0] === 1 || raw[0] === 2) && raw[1] === 0 && raw[2] === 0 && raw[3] === 0;
  if (!looksFramed) {
    for (const text of splitLines(raw.toString("utf8"))) lines.push({ stream: "stdout", text });
    return lines;
  }
  let offset = 0;
  const pending: Record<LogLine["stream"], string> = { stdout: "", stderr: "" };
  while (offset + 8 <= raw.length) {
    const stream = raw[offset] === 2 ? "stderr" : "stdout";
    const size = raw.readUInt32BE(offset + 4);
    const chunk = raw.subarray(offset + 8, offset + 8 + size).toString("utf8");
    offset += 8 + size;
    const parts = (pending[stream] + chunk).split("\n");
    pending[stream] = parts.pop() ?? "";
    for (const text of parts) lines.push({ stream, text });
  }
  for (const stream of ["stdout", "stderr"] as const)
    if (pending[stream]) lines.push({ stream, text: pending[stream] });
  return lines;
}

function splitLines(text: string): string[] {
  const parts = text.split("\n");
  if (parts.at(-1) === "") parts.pop();
  return parts;
}

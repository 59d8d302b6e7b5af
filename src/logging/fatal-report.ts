import { REDACTED, type Redactor } from "./redactor.ts";

/**
 * The last words of a berth that is about to exit on an error nobody caught
 * (`uncaughtException`, `unhandledRejection`, a failure while it is being
 * built): one JSON line, in the system log's shape, redacted with the system
 * set — every secret and token registered so far. Node's own report would
 * print the error's message and stack as they are, and an error's message can
 * hold anything (the regular expression of every secret, once).
 *
 * It never throws: should redacting or serialising fail, a fixed line that
 * names no detail is written instead.
 */
export function fatalReport(err: unknown, msg: string, redactor: Redactor): string {
  try {
    // Only the error is redacted: if it cannot be read at all, it alone becomes REDACTED.
    const line = { level: 60, time: Date.now(), service: "berth", msg, err: redactor.redact(err) };
    return `${JSON.stringify(line)}\n`;
  } catch {
    return `${JSON.stringify({ level: 60, time: Date.now(), service: "berth", msg, err: REDACTED })}\n`;
  }
}

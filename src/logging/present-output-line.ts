import type { Redactor } from "./redactor.ts";
import { cutLine, MAX_LOG_LINE_LENGTH, sanitizeLogLine } from "./sanitize-log-line.ts";

export interface PresentOptions {
  /** Default MAX_LOG_LINE_LENGTH. */
  maxLength?: number;
  /** The caller already dropped the end of the line (the splitter's byte cap). */
  truncated?: boolean;
}

/**
 * The one step every line of workload output goes through before anyone sees
 * it — `container:logs`, `container:log`, NOT_READY and UPDATE_ROLLED_BACK
 * `output`, the last lines berth quotes — in this order:
 *
 * 1. sanitise (sanitizeLogLine, uncut): escape sequences removed, control
 *    characters shown as `\xNN`, so `canar\x1b[0my-s3cr3t` reads — and is
 *    matched as — `canary-s3cr3t`; an escape printed just before a secret
 *    may swallow its first characters, and the secret's forms include what
 *    is left (secret-forms.ts);
 * 2. redact the whole line with the container owner's redactor; a line whose
 *    end was dropped also has its last characters hidden when they could be
 *    the start of a secret;
 * 3. only then cut to `maxLength`, so a cut can never leave a secret's prefix.
 *
 * The work is bounded: at most 4 × maxLength characters of a line are
 * looked at (the splitter keeps no more bytes than that either); a longer
 * line is treated as cut there.
 */
export function presentOutputLine(raw: string, redactor: Redactor, options: PresentOptions = {}): string {
  const maxLength = options.maxLength ?? MAX_LOG_LINE_LENGTH;
  let truncated = options.truncated === true;
  let text = raw;
  const scanLimit = maxLength * 4;
  if (text.length > scanLimit) {
    const high = text.charCodeAt(scanLimit - 1);
    text = text.slice(0, high >= 0xd800 && high <= 0xdbff ? scanLimit - 1 : scanLimit);
    truncated = true;
  }
  const shown = redactor.redactString(sanitizeLogLine(text, { maxLength: Number.POSITIVE_INFINITY }), {
    openEnd: truncated,
  });
  return shown.length > maxLength || truncated ? cutLine(shown, maxLength) : shown;
}

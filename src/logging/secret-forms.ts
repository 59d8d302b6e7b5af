import { sanitizeLogLine } from "./sanitize-log-line.ts";
import { MIN_SECRET_LENGTH, MIN_SECRET_LINE_LENGTH } from "./secret-limits.ts";

/**
 * The strings to hide for one secret value: the value itself; each line of a
 * multi-line value (a PEM key is printed line by line, and berth shows output
 * line by line), trimmed, when long enough; and the form each of these takes
 * once output has been sanitised (a value with a control character shows as
 * `\xNN`, a value with an escape sequence loses it). Values shorter than
 * MIN_SECRET_LENGTH give nothing.
 *
 * @example
 *   secretForms("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----")
 *   // → the whole value, "-----BEGIN KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----END KEY-----"
 */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>([value]);
  const lines = value.split(/\r\n|\r|\n/);
  if (lines.length > 1) {
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_SECRET_LINE_LENGTH) forms.add(trimmed);
    }
  }
  for (const form of [...forms]) {
    const shown = sanitizeLogLine(form, { maxLength: Number.POSITIVE_INFINITY });
    if (shown.length >= MIN_SECRET_LENGTH) forms.add(shown);
  }
  return [...forms];
}

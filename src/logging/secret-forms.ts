import { sanitizeLogLine } from "./sanitize-log-line.ts";
import { MIN_SECRET_LENGTH, MIN_SECRET_LINE_LENGTH } from "./secret-limits.ts";

/**
 * The strings to hide for one secret value: the value itself; each line of a
 * multi-line value (a PEM key is printed line by line, and berth shows output
 * line by line), trimmed, when long enough; and the form each of these takes
 * once output has been sanitised (a value with a control character shows as
 * `\xNN`, a value with an escape sequence loses it), when it differs. Values
 * shorter than MIN_SECRET_LENGTH give nothing.
 *
 * The sanitised form of a multi-line value (its newlines shown as `\x0a`) is
 * left out when its lines already cover it: every line is unchanged by
 * sanitising and every non-blank line is long enough to be a form of its own,
 * so the sanitised value shows nothing but hidden lines and `\x0a` between
 * them. That is the usual PEM key or JSON key file, which would otherwise be
 * held three times over.
 *
 * What the forms add up to (FORM_CHARS_PER_VALUE_CHAR): at most twice the
 * value (the value and its lines) when sanitising changes nothing, and at
 * most fourteen times when it does (a control character becomes four
 * characters, a bidi control six; the value and its lines each get a
 * sanitised form). With 64 Ki characters of secrets per container
 * (MAX_SECRET_TOTAL_LENGTH), an owner at the default quota of 20 containers
 * holds at most 2.5 Mi characters of forms in the usual case, 18 Mi at worst
 * — strings the owner's set and the system set share.
 *
 * @example
 *   secretForms("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----")
 *   // → the whole value, "-----BEGIN KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----END KEY-----"
 */
export function secretForms(value: string): string[] {
  if (value.length < MIN_SECRET_LENGTH) return [];
  const forms = new Set<string>([value]);
  const lines = value.split(/\r\n|\r|\n/);
  let covered = lines.length > 1;
  if (lines.length > 1) {
    for (const line of lines) {
      const trimmed = line.trim();
      if (trimmed.length >= MIN_SECRET_LINE_LENGTH) forms.add(trimmed);
      else if (trimmed.length > 0) covered = false;
      if (covered && shown(line) !== line) covered = false;
    }
  }
  for (const form of [...forms]) {
    if (covered && form === value) continue;
    const sanitized = shown(form);
    if (sanitized.length >= MIN_SECRET_LENGTH) forms.add(sanitized);
  }
  return [...forms];
}

/** The most characters of forms per character of secret value; see secretForms. */
export const FORM_CHARS_PER_VALUE_CHAR = 14;

function shown(text: string): string {
  return sanitizeLogLine(text, { maxLength: Number.POSITIVE_INFINITY });
}

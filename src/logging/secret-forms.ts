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
 * Output is sanitised before it is redacted (present-output-line.ts), and
 * how sanitising treats the edges of a value depends on what the workload
 * printed around it. So each of these also gives the forms it takes in any
 * surroundings (see contextForms): without the head an escape sequence
 * printed just before it swallows (`\x1b[` before `12;4mXXXX` leaves
 * `XXXX`; a bare `\x1b` before `hunter2!` leaves `unter2!`), and without a
 * lone surrogate at either end (the text may pair it, or not). Values
 * accepted today hold no escape, no other control character but tab,
 * newline and CR, and no lone surrogate (container-spec.ts): for them only
 * the escape heads matter, usually one character, one more form. The rest is
 * for values an older berth stored, which still load and must stay hidden.
 *
 * The sanitised form of a multi-line value (its newlines shown as `\x0a`) is
 * left out when its lines already cover it: every line is unchanged by
 * sanitising and every non-blank line is long enough to be a form of its own,
 * so the sanitised value shows nothing but hidden lines and `\x0a` between
 * them. That is the usual PEM key or JSON key file, which would otherwise be
 * held three times over. Its other forms in context are then left out too:
 * a head swallowed from the value is one swallowed from its first line,
 * whose own forms in context are there.
 *
 * What the forms add up to, for values accepted today: a one-line value
 * gives itself and at most two shorter forms (three times the value); a PEM
 * key, its lines thrice (four times); at worst (FORM_CHARS_PER_VALUE_CHAR)
 * a value of newlines whose lines cannot cover it, sanitised with each
 * newline shown as four characters, with and without two heads: thirteen
 * times. With 64 Ki characters of secrets per container
 * (MAX_SECRET_TOTAL_LENGTH), an owner at the default quota of 20 containers
 * holds about 4 Mi characters of forms in the usual case, 16.25 Mi at worst
 * — strings the owner's set and the system set share. A value an older
 * berth stored, made of control characters, may take up to
 * STORED_FORM_CHARS_PER_VALUE_CHAR: the value and its lines, each with four
 * sanitised forms of up to six characters per character.
 *
 * @example
 *   secretForms("-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----")
 *   // → the whole value, "-----BEGIN KEY-----", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC", "-----END KEY-----",
 *   //   and each line without its first character ("----BEGIN KEY-----", "IIEvQ…", "----END KEY-----")
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
    for (const inContext of contextForms(form)) {
      const sanitized = shown(inContext);
      if (sanitized.length >= MIN_SECRET_LENGTH) forms.add(sanitized);
    }
  }
  return [...forms];
}

/** The most characters of forms per character of a secret value accepted today; see secretForms. */
export const FORM_CHARS_PER_VALUE_CHAR = 13;

/** The same for any value at all (an older berth stored values with control characters in them). */
export const STORED_FORM_CHARS_PER_VALUE_CHAR = 50;

function shown(text: string): string {
  return sanitizeLogLine(text, { maxLength: Number.POSITIVE_INFINITY });
}

/**
 * A raw form (the value or one of its lines), and what remains of it when
 * the output around it changes how sanitising treats its edges — to be
 * sanitised in turn. Sanitising (sanitize-log-line.ts) makes one pass, and
 * only an escape sequence or a surrogate pair can reach across a secret's
 * edge:
 *   - a workload that prints `ESC` (and perhaps intermediates) just before
 *     the value makes the value's first characters the end of the sequence:
 *     intermediates (0x20–0x2F) and one final character (0x30–0x7E); or, if
 *     the value begins with `[`, a whole CSI; or, if it begins with `]`, `P`,
 *     `X`, `^` or `_`, a control string up to its terminator;
 *   - one that prints `ESC [` (and perhaps parameters) makes the value's
 *     first characters the rest of a CSI: parameters and intermediates
 *     (0x20–0x3F) and one final character (0x40–0x7E);
 *   - one that prints `ESC ]` (or another control string's introducer)
 *     swallows the value up to its first terminator (BEL, 0x9C, `ESC \`);
 *   - a low surrogate at the value's start, or a high one at its end, is
 *     shown as it is or as U+FFFD, as the text beside it pairs it or not.
 * A sequence left open at the value's end reaches into what follows, but
 * only hides that: the sanitised value, shorter, still matches. Each head is
 * dropped, and what remains is taken without lone surrogates at its ends:
 * the middle of a value is sanitised the same wherever it is printed, and
 * all a lone half can show beside "[REDACTED]" is itself or U+FFFD.
 */
function contextForms(form: string): string[] {
  const heads = new Set<string>([form]);
  const afterEsc = afterEscape(form);
  if (afterEsc !== undefined) heads.add(afterEsc);
  heads.add(form.slice(csiHead(form, 0)));
  const terminated = afterControlString(form, 0);
  if (terminated !== undefined) heads.add(terminated);
  return [...new Set([...heads].map(withoutLoneEdges))];
}

/** What is left of `form` after a bare ESC printed before it; undefined when the ESC swallows it all. */
function afterEscape(form: string): string | undefined {
  const first = form.charCodeAt(0);
  if (first === 0x5b /* [ */) return form.slice(csiHead(form, 1));
  if (first === 0x5d || first === 0x50 || first === 0x58 || first === 0x5e || first === 0x5f)
    return afterControlString(form, 1);
  let i = 0;
  while (i < form.length && form.charCodeAt(i) >= 0x20 && form.charCodeAt(i) <= 0x2f) i++;
  if (i < form.length && form.charCodeAt(i) >= 0x30 && form.charCodeAt(i) <= 0x7e) return form.slice(i + 1);
  return form;
}

/** Where a CSI whose parameters start at `from` ends: after its final character, or where a character breaks it off. */
function csiHead(form: string, from: number): number {
  for (let i = from; i < form.length; i++) {
    const code = form.charCodeAt(i);
    if (code >= 0x40 && code <= 0x7e) return i + 1;
    if (code < 0x20 || code > 0x3f) return i;
  }
  return form.length;
}

/** What follows the first terminator of a control string from `from` on; undefined when there is none. */
function afterControlString(form: string, from: number): string | undefined {
  for (let i = from; i < form.length; i++) {
    const code = form.charCodeAt(i);
    if (code === 0x07 || code === 0x9c) return form.slice(i + 1);
    if (code === 0x1b && form.charCodeAt(i + 1) === 0x5c) return form.slice(i + 2);
  }
  return undefined;
}

/** `text` without a low surrogate at its start or a high one at its end. */
function withoutLoneEdges(text: string): string {
  const first = text.charCodeAt(0);
  const last = text.charCodeAt(text.length - 1);
  const start = first >= 0xdc00 && first <= 0xdfff ? 1 : 0;
  const end = last >= 0xd800 && last <= 0xdbff ? text.length - 1 : text.length;
  return start < end ? text.slice(start, end) : "";
}

/** The longest piece of server text printed as one table cell or line; berth sends less. */
export const MAX_TERMINAL_TEXT = 2_000;

/**
 * Server text made safe to print on a terminal: every control character but
 * tab (C0, DEL, and the C1 range a terminal may obey as CSI or OSC) and
 * every bidirectional override or isolate shown as `\xNN` or `\uNNNN`, a lone
 * surrogate as U+FFFD, and the whole cut to `max` characters. berth already
 * sanitises what it quotes of images and workloads; this is the CLI's own
 * guard, for a berth that did not (an older one, or a bug), since an escape
 * sequence printed to a terminal can set the clipboard (OSC 52) or retitle
 * the window.
 *
 * @example terminalText("\x1b]52;c;aGk=\x07ok") // → "\\x1b]52;c;aGk=\\x07ok"
 */
export function terminalText(text: string, max = MAX_TERMINAL_TEXT): string {
  const cut = text.length > max;
  const shown = cut ? text.slice(0, max) : text;
  let out = "";
  for (let i = 0; i < shown.length; i++) {
    const code = shown.charCodeAt(i);
    if (code >= 0xd800 && code <= 0xdbff && isLow(shown.charCodeAt(i + 1))) {
      out += shown.slice(i, i + 2);
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += "\ufffd";
    } else if (isUnsafe(code)) {
      out += code < 0x100 ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
    } else {
      out += shown[i];
    }
  }
  return cut ? `${out}…` : out;
}

function isUnsafe(code: number): boolean {
  return (
    (code < 0x20 && code !== 0x09) ||
    (code >= 0x7f && code <= 0x9f) ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

function isLow(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}

function hex(code: number, width: number): string {
  return code.toString(16).padStart(width, "0");
}

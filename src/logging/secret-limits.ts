/**
 * How big secrets may be, and why. Checked when a container is created
 * (container-spec.ts); the redactor copes with anything bigger that an older
 * berth stored: nothing is built from a value (the index files it under a
 * hash of at most its first 32 characters, see secret-matcher.ts), a bigger
 * one only takes more memory (its forms, see secret-forms.ts) and hides more
 * of the end of output cut short (RedactOptions.openEnd).
 */

/** Shorter values would turn ordinary words into "[REDACTED]"; such secrets are refused by validation instead. */
export const MIN_SECRET_LENGTH = 4;

/**
 * The longest secret value: 8 KiB holds an 8192-bit RSA private key in PEM
 * (about 6.3 KiB as PKCS#8), a cloud service-account JSON key (about 2.4 KiB),
 * a kubeconfig with an embedded client certificate, or a chain of two
 * certificates — and is a quarter of the 32 KiB that the schema allowed before.
 */
export const MAX_SECRET_VALUE_LENGTH = 8 * 1024;

/** All secret values of one container together (`secretEnv` plus `env` values under secret-looking keys): eight such keys. */
export const MAX_SECRET_TOTAL_LENGTH = 64 * 1024;

/**
 * A line of a multi-line secret (a PEM key, a JSON key file) is hidden on its
 * own when it has at least this many characters once trimmed, so output
 * printed line by line stays hidden. Shorter lines (`{`, `}`, the last few
 * base64 characters of a key) are too likely to be ordinary text, and carry
 * too little of the secret to matter.
 */
export const MIN_SECRET_LINE_LENGTH = 8;

/**
 * Whether a secret value holds a character that output sanitising rewrites
 * or that can join what a workload prints beside it: ESC, any other C0
 * control but tab, newline and CR (which PEM keys and JSON key files hold),
 * DEL, a C1 control (U+0080–U+009F), a bidi override or isolate, or a lone
 * UTF-16 surrogate. Such values are refused at create (container-spec.ts).
 *
 * Why refuse rather than only cope: how output shows these depends on what
 * surrounds them (a lone surrogate at a value's end is paired by the next
 * character or not; a BEL ends a control string the workload opened before
 * the value), and each gives the value more forms to hide (secret-forms.ts,
 * up to STORED_FORM_CHARS_PER_VALUE_CHAR). No real credential holds them.
 * The redactor still copes with such values stored by an older berth, which
 * load without this check and stay hidden; and an escape the workload prints
 * just before a value (`\x1b[` before `12;4mXXXX`) needs no character of the
 * value's own, so secretForms also hides what it leaves of any value.
 */
export function hasUnshowableCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20) {
      if (code !== 0x09 && code !== 0x0a && code !== 0x0d) return true;
    } else if (code >= 0x7f && code <= 0x9f) {
      return true;
    } else if ((code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069)) {
      return true;
    } else if (code >= 0xd800 && code <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return true;
      i++;
    } else if (code >= 0xdc00 && code <= 0xdfff) {
      return true;
    }
  }
  return false;
}

/** Says what hasUnshowableCharacter refuses, naming no character of the value. */
export const UNSHOWABLE_SECRET_MESSAGE =
  "secret values may not hold escape or other control characters (but tab, newline and carriage return), bidi controls, or unpaired UTF-16 surrogates";

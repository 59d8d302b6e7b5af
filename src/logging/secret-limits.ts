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

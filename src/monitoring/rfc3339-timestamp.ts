/**
 * Parses an RFC 3339 timestamp in `bytes[start, end)` to epoch ms, or
 * undefined when it is not one. The engine writes RFC3339Nano with a fixed
 * nine-digit fraction (`2026-11-25T18:44:14.247684167Z`) before every log
 * line; any fraction length and a numeric offset are accepted too. Works on
 * the bytes directly because it runs once per log line.
 */
export function parseRfc3339(bytes: Uint8Array, start: number, end: number): number | undefined {
  if (end - start < 20) return undefined;
  if (bytes[start + 4] !== DASH || bytes[start + 7] !== DASH || bytes[start + 13] !== COLON) return undefined;
  if (bytes[start + 16] !== COLON || (bytes[start + 10] !== UPPER_T && bytes[start + 10] !== LOWER_T))
    return undefined;
  const year = digits(bytes, start, 4);
  const month = digits(bytes, start + 5, 2);
  const day = digits(bytes, start + 8, 2);
  const hour = digits(bytes, start + 11, 2);
  const minute = digits(bytes, start + 14, 2);
  const second = digits(bytes, start + 17, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  let i = start + 19;
  let ms = 0;
  if (bytes[i] === DOT) {
    i++;
    const fractionStart = i;
    while (i < end && isDigit(bytes[i])) {
      // Milliseconds are all berth keeps; later digits are only skipped.
      if (i - fractionStart < 3) ms += ((bytes[i] as number) - ZERO) * 10 ** (2 - (i - fractionStart));
      i++;
    }
    if (i === fractionStart) return undefined;
  }
  let offsetMinutes = 0;
  const zone = bytes[i];
  if ((zone === UPPER_Z || zone === LOWER_Z) && i + 1 === end) {
    offsetMinutes = 0;
  } else if ((zone === PLUS || zone === DASH) && i + 6 === end && bytes[i + 3] === COLON) {
    const hours = digits(bytes, i + 1, 2);
    const minutes = digits(bytes, i + 4, 2);
    if (hours < 0 || minutes < 0) return undefined;
    offsetMinutes = (zone === PLUS ? 1 : -1) * (hours * 60 + minutes);
  } else {
    return undefined;
  }
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000;
}

/** The decimal number in `count` bytes at `at`, or -1 when one is not a digit. */
function digits(bytes: Uint8Array, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) {
    const byte = bytes[i];
    if (!isDigit(byte)) return -1;
    value = value * 10 + (byte - ZERO);
  }
  return value;
}

function isDigit(byte: number | undefined): byte is number {
  return byte !== undefined && byte >= ZERO && byte <= ZERO + 9;
}

const ZERO = 0x30;
const DASH = 0x2d;
const PLUS = 0x2b;
const DOT = 0x2e;
const COLON = 0x3a;
const UPPER_T = 0x54;
const LOWER_T = 0x74;
const UPPER_Z = 0x5a;
const LOWER_Z = 0x7a;

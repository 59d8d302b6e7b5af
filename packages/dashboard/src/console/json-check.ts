/** What `checkJson` found: the value and its size as sent, or where the text stops being JSON and why. */
export type JsonCheck =
  | { ok: true; value: unknown; bytes: number }
  | { ok: false; message: string; offset: number; line: number; column: number };

/**
 * Reads `text` as JSON. On an error, says where — line and column, 1-based,
 * and the offset — and what was expected: JSON.parse's own messages differ
 * between browsers and often name no position, so the text is scanned
 * again, only when JSON.parse refused it. `bytes` is the UTF-8 size of the
 * value as it would be sent (compact JSON), for the size limit.
 *
 * @example
 *   checkJson('{"a": 1,}') // { ok: false, message: "Expected a property name in quotes", line: 1, column: 9, offset: 8 }
 */
export function checkJson(text: string): JsonCheck {
  try {
    const value: unknown = JSON.parse(text);
    return { ok: true, value, bytes: new TextEncoder().encode(JSON.stringify(value)).length };
  } catch {
    const { offset, message } = new JsonScanner(text).firstError();
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - (before.lastIndexOf("\n") + 1) + 1;
    return { ok: false, message, offset, line, column };
  }
}

interface ScanError {
  offset: number;
  message: string;
}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = new Set(['"', "\\", "/", "b", "f", "n", "r", "t"]);

/**
 * A JSON grammar check that stops at the first error. Iterative (a stack of
 * the open arrays and objects), so that deep nesting cannot overflow the
 * page's own stack.
 */
class JsonScanner {
  readonly #text: string;
  #i = 0;

  constructor(text: string) {
    this.#text = text;
  }

  firstError(): ScanError {
    try {
      this.#document();
    } catch (err) {
      if (isScanError(err)) return { offset: err.offset, message: err.message };
      throw err;
    }
    // JSON.parse refused what this scanner accepts: not expected; point at the end rather than say nothing.
    return { offset: this.#text.length, message: "The text is not valid JSON" };
  }

  #document(): void {
    const stack: ("array" | "object")[] = [];
    this.#space();
    if (this.#i >= this.#text.length) this.#fail("The text is empty: write a JSON value");
    for (;;) {
      // A value, or a container opened here.
      const opened = this.#value();
      if (opened) {
        stack.push(opened);
        this.#space();
        const close = opened === "array" ? "]" : "}";
        if (this.#peek() === close) {
          this.#i++;
          stack.pop();
        } else {
          if (opened === "object") this.#key();
          continue;
        }
      }
      // After a value: a comma and the next one, a closing bracket, or the end.
      for (;;) {
        this.#space();
        const top = stack.at(-1);
        if (top === undefined) {
          if (this.#i < this.#text.length) this.#fail("Unexpected text after the JSON value");
          return;
        }
        const c = this.#peek();
        if (c === ",") {
          this.#i++;
          this.#space();
          if (top === "object") this.#key();
          break;
        }
        if (c === (top === "array" ? "]" : "}")) {
          this.#i++;
          stack.pop();
          continue;
        }
        this.#fail(top === "array" ? "Expected ',' or ']'" : "Expected ',' or '}'");
      }
    }
  }

  /** A property name and its colon; the value follows. */
  #key(): void {
    this.#space();
    if (this.#peek() !== '"') this.#fail("Expected a property name in quotes");
    this.#string();
    this.#space();
    if (this.#peek() !== ":") this.#fail("Expected ':' after the property name");
    this.#i++;
    this.#space();
  }

  /** Reads a scalar; for `[` or `{`, consumes the bracket and says which container opened. */
  #value(): "array" | "object" | undefined {
    const c = this.#peek();
    if (c === "[" || c === "{") {
      this.#i++;
      return c === "[" ? "array" : "object";
    }
    if (c === '"') this.#string();
    else if (c === "-" || (c !== undefined && c >= "0" && c <= "9")) this.#number();
    else if (c === "t") this.#literal("true");
    else if (c === "f") this.#literal("false");
    else if (c === "n") this.#literal("null");
    else this.#fail(c === undefined ? "Unexpected end of the text: a value is missing" : "Expected a value");
    return undefined;
  }

  #string(): void {
    this.#i++; // the opening quote
    for (;;) {
      const c = this.#peek();
      if (c === undefined) this.#fail("Unterminated string: a closing '\"' is missing");
      if (c === '"') {
        this.#i++;
        return;
      }
      if (c < " ") this.#fail("A control character (a line break, a tab) in a string must be escaped");
      if (c === "\\") {
        const e = this.#text[this.#i + 1];
        if (e === "u") {
          if (!/^[0-9a-fA-F]{4}$/.test(this.#text.slice(this.#i + 2, this.#i + 6)))
            this.#fail("Expected four hex digits after \\u");
          this.#i += 6;
          continue;
        }
        if (e === undefined || !ESCAPES.has(e)) this.#fail("Unknown escape in a string");
        this.#i += 2;
        continue;
      }
      this.#i++;
    }
  }

  #number(): void {
    const match = /^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/.exec(this.#text.slice(this.#i));
    if (!match) this.#fail("Malformed number");
    this.#i += match[0].length;
  }

  #literal(word: string): void {
    if (this.#text.startsWith(word, this.#i)) this.#i += word.length;
    else this.#fail("Expected a value");
  }

  #space(): void {
    while (this.#i < this.#text.length && WHITESPACE.has(this.#text[this.#i]!)) this.#i++;
  }

  #peek(): string | undefined {
    return this.#text[this.#i];
  }

  #fail(message: string): never {
    throw { offset: this.#i, message, scan: true };
  }
}

function isScanError(err: unknown): err is ScanError {
  return typeof err === "object" && err !== null && (err as { scan?: unknown }).scan === true;
}

import { createColors } from "picocolors";

type Colors = ReturnType<typeof createColors>;

/**
 * Where a command writes and how: colour only on a terminal, never with
 * `NO_COLOR` (https://no-color.org) or `--json`; everything meant for a
 * script on stdout, everything meant for a person's eyes only (progress,
 * errors) on stderr. One per run, built from the process and the flags.
 *
 * @example const out = Output.forProcess({ json: false }); out.line(out.color.green("done"));
 */
export class Output {
  readonly json: boolean;
  /** stdout is a terminal: tables may be redrawn and steps animated. */
  readonly interactive: boolean;
  readonly color: Colors;
  readonly #stdout: NodeJS.WritableStream;
  readonly #stderr: NodeJS.WritableStream;

  constructor(options: {
    json: boolean;
    interactive: boolean;
    color: boolean;
    stdout: NodeJS.WritableStream;
    stderr: NodeJS.WritableStream;
  }) {
    this.json = options.json;
    this.interactive = options.interactive;
    this.color = createColors(options.color && !options.json);
    this.#stdout = options.stdout;
    this.#stderr = options.stderr;
  }

  static forProcess(flags: { json?: boolean | undefined }): Output {
    const interactive = process.stdout.isTTY === true;
    const noColor = process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== "";
    return new Output({
      json: flags.json === true,
      interactive,
      color: interactive && !noColor,
      stdout: process.stdout,
      stderr: process.stderr,
    });
  }

  /** One line on stdout. */
  line(text = ""): void {
    this.#stdout.write(`${text}\n`);
  }

  /** One JSON document on stdout: pretty for `--json`, one line per value for NDJSON streams. */
  jsonDocument(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** One NDJSON line on stdout (for `-f`/`-w`). */
  jsonLine(value: unknown): void {
    this.#stdout.write(`${JSON.stringify(value)}\n`);
  }

  /** One line on stderr: progress and diagnostics, never data. */
  note(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  /** Text as it came (a workload's stderr line) on stderr. */
  errLine(text: string): void {
    this.#stderr.write(`${text}\n`);
  }

  get stderr(): NodeJS.WritableStream {
    return this.#stderr;
  }
}

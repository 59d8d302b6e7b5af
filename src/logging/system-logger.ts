import { type Logger, pino } from "pino";
import type { Redactor } from "./redactor.ts";

export type SystemLogger = Logger;

export interface SystemLoggerOptions {
  level: string;
  redactor: Redactor;
  /** Pretty lines for a person at a terminal, JSON lines for everything else. */
  pretty?: boolean;
  /** Where JSON lines go; tests pass a stream to read what was logged. */
  destination?: NodeJS.WritableStream;
}

/**
 * The operators' log (SystemLogger): pino, JSON on stdout, one child logger per
 * connection and per container operation. Every line passes through the
 * redactor — the object through `formatters.log`, the message through a hook —
 * so no caller can leak a secret by forgetting to scrub it.
 */
export function createSystemLogger(options: SystemLoggerOptions): SystemLogger {
  const { redactor } = options;
  const common = {
    level: options.level,
    base: { service: "berth" },
    formatters: {
      log: (obj: Record<string, unknown>) => {
        const safe = redactor.redact(obj);
        // The redactor gives a string when it could not read the object at all.
        return typeof safe === "object" && safe !== null ? safe : { redacted: safe };
      },
    },
    hooks: {
      logMethod(this: Logger, args: unknown[], method: (...a: unknown[]) => void) {
        method.apply(
          this,
          args.map((a) => (typeof a === "string" ? redactor.redactString(a) : a)),
        );
      },
    },
  };
  if (options.destination) return pino(common, options.destination);
  if (options.pretty) {
    return pino({ ...common, transport: { target: "pino-pretty", options: { colorize: true } } });
  }
  return pino(common);
}

import { ERROR_CODES, type ErrorCategory, type ErrorCode } from "#protocol";

export interface BerthErrorOptions {
  /** Safe, client-visible facts (they still pass through the redactor). */
  details?: Record<string, unknown>;
  cause?: unknown;
  /** Overrides the registry's default for this one error (e.g. a 5xx that is worth a retry). */
  retryable?: boolean;
}

/**
 * The base of every error berth throws on purpose. `code` is stable and listed
 * in the registry; `message` is written for the person reading it and never
 * carries internal text (that goes in `cause`, which only the system log sees).
 */
export class BerthError extends Error {
  readonly code: ErrorCode;
  readonly category: ErrorCategory;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message?: string, options: BerthErrorOptions = {}) {
    const definition = ERROR_CODES[code];
    super(message ?? definition.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.category = definition.category;
    this.retryable = options.retryable ?? definition.retryable;
    this.details = options.details;
  }
}

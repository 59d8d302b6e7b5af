import type { z } from "zod";
import type { WireError } from "#protocol";
import { BerthError } from "./berth-error.ts";
import { InternalError, ValidationError } from "./errors.ts";

/**
 * What the wire shape needs of a redactor (logging/redactor.ts has it): named
 * here so that the error registry depends on nothing of berth's.
 */
export interface WireRedactor {
  redactString(text: string): string;
  redact<T>(value: T): T;
}

/**
 * The one mapping from an error to what a client sees. A BerthError keeps its
 * code, message and details (redacted); anything else is an INTERNAL error
 * with a generic message — its text, stack and host paths stay in the system log.
 */
export function toWireError(err: unknown, redactor: WireRedactor): WireError {
  const e = err instanceof BerthError ? err : new InternalError({ cause: err });
  const wire: WireError = {
    code: e.code,
    category: e.category,
    message: redactor.redactString(e.message),
    retryable: e.retryable,
  };
  if (e.details !== undefined) wire.details = redactor.redact(e.details);
  return wire;
}

/** A zod failure as VALIDATION_FAILED, naming each field and problem (never the offending value). */
export function fromZodError(error: z.ZodError): ValidationError {
  const issues = error.issues
    .slice(0, 20)
    .map((i) => ({ path: i.path.map(String).join("."), message: issueMessage(i) }));
  const first = issues[0];
  const message = first ? `${first.path || "payload"}: ${first.message}` : "The payload is not valid.";
  return new ValidationError(message, { details: { issues } });
}

/**
 * zod reports a record key that fails its own schema as "Invalid key in
 * record", with the key schema's messages nested inside: the nested ones say
 * what is wrong (a reserved prefix, a bad name), so they are what the client
 * reads, after the key itself. Keys are names (of variables, of labels),
 * never values.
 */
function issueMessage(issue: z.core.$ZodIssue): string {
  if (issue.code !== "invalid_key" || issue.issues.length === 0) return issue.message;
  const key = String(issue.path.at(-1) ?? "");
  const shown = key.length > 64 ? `${key.slice(0, 64)}…` : key;
  return `the key '${shown}' is not allowed: ${issue.issues.map((i) => i.message).join("; ")}`;
}

import { z } from "zod";
import { ERROR_CODES, type ErrorCategory, type ErrorCode } from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";

/** What a failed event is answered with: the error envelope and its error, a code of the registry. */

const ERROR_CATEGORIES = ["validation", "docker", "communication", "system", "auth"] as const;

export const WireErrorSchema = z.object({
  code: z.enum(Object.keys(ERROR_CODES) as [ErrorCode, ...ErrorCode[]]).describe(
    `A code of the registry (docs/errors.md), each with its category and whether a retry may succeed: ${Object.entries(
      ERROR_CODES,
    )
      .map(([code, d]) => `${code} (${d.category}${d.retryable ? ", retryable" : ""}): ${d.message}`)
      .join(" ")}`,
  ),
  category: z.enum(ERROR_CATEGORIES),
  message: z.string(),
  retryable: z.boolean(),
  details: z.record(z.string(), z.unknown()).optional(),
});

/** `{ ok: false, error }`: the acknowledgement of every event that failed. */
export const ErrorEnvelopeSchema = z.object({ ok: z.literal(false), error: WireErrorSchema });

export type WireErrorSchemasMatchProtocol = AllTrue<{
  errorCode: Same<z.output<typeof WireErrorSchema>["code"], ErrorCode>;
  category: Same<z.output<typeof WireErrorSchema>["category"], ErrorCategory>;
}>;

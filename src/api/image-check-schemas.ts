import { z } from "zod";
import { type ClientEvent, IMAGE_CHECKS, type ImageCheckItem, type ImageCheckResult } from "#protocol";
import type { AllTrue, Same } from "./same-type.ts";

/** What `image:check` answers: whether berth can run workloads in an image, check by check. */

const ImageCheckItemSchema = z.object({
  name: z.enum(IMAGE_CHECKS),
  status: z.enum(["passed", "failed", "skipped"]),
  summary: z.string().describe("What berth found, in words."),
  fix: z.string().optional().describe("What to change so that the check passes (failed checks only)."),
});

const ImageCheckResultSchema = z.object({
  image: z.string(),
  ok: z.boolean().describe("Every check passed: berth can run workloads in this image."),
  allowed: z.boolean().describe("Whether BERTH_ALLOWED_IMAGES lists the image."),
  runtime: z.string().optional().describe("The image's `berth.runtime` label."),
  code: z
    .enum(["probe", "given", "none"])
    .describe("What ran as the workload's code: berth's probe for the runtime, the code given, or none."),
  protocol: z.number().optional().describe("The channel protocol version the workload said hello with."),
  exitCode: z.number().optional().describe("The workload's exit code, when it exited during the check."),
  output: z
    .array(z.string())
    .optional()
    .describe("The last lines the workload printed, sanitised and redacted (on failure)."),
  checks: z.array(ImageCheckItemSchema).describe(`In this order: ${IMAGE_CHECKS.join(", ")}.`),
  ms: z.number(),
});

export const ImageCheckResults = {
  "image:check": ImageCheckResultSchema,
} as const satisfies Partial<Record<ClientEvent, z.ZodType>>;

export type ImageCheckSchemasMatchProtocol = AllTrue<{
  imageCheckItem: Same<z.output<typeof ImageCheckItemSchema>, ImageCheckItem>;
  imageCheckResult: Same<z.output<typeof ImageCheckResultSchema>, ImageCheckResult>;
}>;

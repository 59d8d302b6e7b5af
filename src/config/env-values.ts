import { z } from "zod";

/**
 * The kinds of value berth's environment variables hold, as zod schemas that
 * take the variable's text (or its absence) and give the typed value: a
 * section of the config (sections/) declares its variables with these.
 */

export const MiB = 1024 * 1024;

/** A whole number within [min, max], `fallback` when the variable is unset. */
export const envInt = (fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

/** true/false, 1/0 or yes/no; `fallback` when unset. */
export const envBool = (fallback: boolean) =>
  z
    .enum(["true", "false", "1", "0", "yes", "no"])
    .default(fallback ? "true" : "false")
    .transform((v) => v === "true" || v === "1" || v === "yes");

/** A comma-separated list, each item trimmed, empty items left out; empty when unset. */
export const envList = z
  .string()
  .optional()
  .transform((v) =>
    (v ?? "")
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  );

/** The parsed values of a section's variables. */
export type EnvOf<Shape extends z.ZodRawShape> = z.output<z.ZodObject<Shape>>;

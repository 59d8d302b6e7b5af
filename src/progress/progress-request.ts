import { z } from "zod";

/**
 * `progress: { opId }` on a long operation: the caller's own id for it, so
 * that the `container:progress` events that arrive before the answer can be
 * matched to the call. Short and plain, since it is echoed back as given.
 */
export const ProgressRequest = z.strictObject({
  opId: z
    .string()
    .min(1)
    .max(64)
    .regex(/^[A-Za-z0-9_.:-]+$/, "must be letters, digits, '_', '.', ':' or '-'"),
});

export type ProgressRequest = z.infer<typeof ProgressRequest>;

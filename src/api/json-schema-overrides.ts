import type { z } from "zod";
import {
  ContainerSpec,
  EnvMap,
  JsonData,
  LabelMap,
  RESERVED_LABEL_PREFIXES,
} from "../containers/container-spec.ts";
import { MAX_SECRET_TOTAL_LENGTH, MAX_SECRET_VALUE_LENGTH } from "../logging/secret-limits.ts";
import { MAX_JSON_DEPTH } from "../util/json-depth.ts";

/**
 * What `z.toJSONSchema` cannot say about berth's schemas, said explicitly for
 * the API document (asyncapi.ts):
 *
 * - `z.instanceof(Uint8Array)` (code files, archives: `binary` in container-spec.ts) is a custom schema, which
 *   zod cannot represent: it is binary, a Buffer that Socket.IO sends as a
 *   binary attachment. Any other unrepresentable schema stops the generator
 *   (`unrepresentable`), so none slips into the document as "anything".
 * - `refine`/`superRefine` checks are code, which zod leaves out. A refinement
 *   with a fixed message gets that message added to the description. One
 *   whose messages are made as it runs has its note in REFINEMENT_NOTES
 *   below; a refinement in neither is reported (`unexplained`), and a test
 *   requires there be none.
 *
 * Neither override copies a schema: the bounds in the notes come from the
 * constants the checks themselves use.
 */
const REFINEMENT_NOTES: ReadonlyArray<readonly [z.ZodType, string]> = [
  [JsonData, `Any JSON value (no binary), nested at most ${MAX_JSON_DEPTH} objects or arrays deep.`],
  [
    EnvMap,
    `A value under a secret-looking key (…PASSWORD, …TOKEN, …KEY, …) is a secret like a secretEnv value: at most ${MAX_SECRET_VALUE_LENGTH} characters, no control characters but tab, CR and LF.`,
  ],
  [
    (LabelMap._zod.def as unknown as { keyType: z.ZodType }).keyType,
    `Keys under ${RESERVED_LABEL_PREFIXES.map((p) => `${p}*`).join(", ")} (in any case) are reserved.`,
  ],
  [
    ContainerSpec,
    `The secret values of one container (secretEnv, and env values under secret-looking keys) have at most ${MAX_SECRET_TOTAL_LENGTH} characters together.`,
  ],
];

type Check = z.core.$ZodCheck;
interface CustomCheckDef {
  check: string;
  error?: (issue: unknown) => unknown;
}

/** The note of each refinement written here, by the check object (shared by a schema and its copies, as `.describe()` makes). */
const NOTE_OF_CHECK = new Map<Check, string>(
  REFINEMENT_NOTES.flatMap(([schema, note]) => checksOf(schema).map((check) => [check, note] as const)),
);

function checksOf(schema: z.core.$ZodType): Check[] {
  const checks = (schema._zod.def as { checks?: Check[] }).checks ?? [];
  // A note belongs to the refinements that have no message of their own.
  return checks.filter((c) => isCustom(c) && messageOf(c) === undefined);
}

function isCustom(check: Check): boolean {
  return (check._zod.def as CustomCheckDef).check === "custom";
}

function messageOf(check: Check): string | undefined {
  const error = (check._zod.def as CustomCheckDef).error;
  const message = error?.({});
  return typeof message === "string" ? message : undefined;
}

export interface OverrideOptions {
  /** Collects the JSON paths of refinements that have no message and no note. */
  unexplained?: string[];
}

/** The `unrepresentable` and `override` options of `z.toJSONSchema` for berth's API document. */
export function jsonSchemaOverrides(options: OverrideOptions = {}) {
  return {
    unrepresentable: (ctx: { zodSchema: z.core.$ZodType }): z.core.JSONSchema.BaseSchema | "throw" => {
      if ((ctx.zodSchema._zod.bag as { Class?: unknown }).Class === Uint8Array) {
        return {
          type: "string",
          format: "binary",
          description: "Binary: a Buffer (Uint8Array), sent as a Socket.IO binary attachment.",
        };
      }
      return "throw";
    },
    override: (ctx: {
      zodSchema: z.core.$ZodType;
      jsonSchema: z.core.JSONSchema.BaseSchema;
      path: (string | number)[];
    }): void => {
      if ((ctx.zodSchema._zod.bag as { Class?: unknown }).Class !== undefined) return;
      const notes: string[] = [];
      for (const check of (ctx.zodSchema._zod.def as { checks?: Check[] }).checks ?? []) {
        if (!isCustom(check)) continue;
        const note = messageOf(check) ?? NOTE_OF_CHECK.get(check);
        if (note !== undefined) notes.push(note.replace(/\.?$/, "."));
        else options.unexplained?.push(ctx.path.join("/") || "(root)");
      }
      if (notes.length === 0) return;
      const own = typeof ctx.jsonSchema.description === "string" ? `${ctx.jsonSchema.description} ` : "";
      ctx.jsonSchema.description = `${own}Checked by berth: ${[...new Set(notes)].join(" ")}`;
    },
  };
}

import type { StoredSpec } from "../containers/container-spec.ts";
import { isSecretKey } from "../logging/redactor.ts";
import type { SecretCipher } from "./secret-cipher.ts";

/**
 * A secret value as the store keeps it. An object, never a string, so that a
 * value stored in plain text by an earlier berth (always a string: the schema
 * allows nothing else) is told apart without guessing.
 */
export interface SealedValue {
  $sealed: string;
}

/** A spec as the store's JSON holds it: secret values sealed, everything else as it was. */
export type SpecJson = Record<string, unknown>;

const FIELDS = ["secretEnv", "env"] as const;
type Field = (typeof FIELDS)[number];

/**
 * Which values are sealed: every `secretEnv` value, and the `env` values under
 * names that look secret (`API_KEY`, `DB_PASSWORD`, …) — the same rule by
 * which the redactor hides them from every log, so that a value berth treats
 * as secret in its output is also secret at rest.
 */
function isSealedName(field: Field, name: string): boolean {
  return field === "secretEnv" || isSecretKey(name);
}

export function isSealed(value: unknown): value is SealedValue {
  return typeof value === "object" && value !== null && typeof (value as SealedValue).$sealed === "string";
}

/** What binds a sealed value to its place: container, field and variable name. */
export function sealContext(id: string, field: string, name: string): string {
  return `${id}/${field}/${name}`;
}

/**
 * Visits every value that is (or should be) sealed in a spec's JSON, and
 * replaces it with what `visit` returns. Returns how many it replaced.
 */
export function rewriteSecrets(
  json: SpecJson,
  id: string,
  visit: (value: string | SealedValue, context: string) => string | SealedValue,
): number {
  let changed = 0;
  for (const field of FIELDS) {
    const map = json[field];
    if (typeof map !== "object" || map === null) continue;
    for (const [name, value] of Object.entries(map as Record<string, string | SealedValue>)) {
      // A sealed value is visited whatever its name, should the rule for secret-looking names change.
      if (!isSealedName(field, name) && !isSealed(value)) continue;
      const next = visit(value, sealContext(id, field, name));
      if (next !== value) {
        (map as Record<string, unknown>)[name] = next;
        changed++;
      }
    }
  }
  return changed;
}

/** The spec as the store writes it, secret values sealed with the current key. */
export function sealSpec(spec: StoredSpec, id: string, cipher: SecretCipher): SpecJson {
  const json = structuredClone(spec) as SpecJson;
  rewriteSecrets(json, id, (value, context) =>
    isSealed(value) ? value : { $sealed: cipher.seal(value, context) },
  );
  return json;
}

/** The spec as berth works with it, secret values opened. */
export function openSpec(json: SpecJson, id: string, cipher: SecretCipher): StoredSpec {
  rewriteSecrets(json, id, (value, context) =>
    isSealed(value) ? cipher.open(value.$sealed, context) : value,
  );
  return json as StoredSpec;
}

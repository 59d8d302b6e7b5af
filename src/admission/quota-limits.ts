import type { QuotaLimits } from "#protocol";
import { ADMIN_OWNER } from "../auth/identity.ts";

export type QuotaName = keyof QuotaLimits;

export const QUOTA_NAMES: readonly QuotaName[] = ["containers", "running", "memoryMb", "cpus", "codeMb"];

/** Per-owner overrides (from the tokens file); keys left out take the server's defaults. */
export type QuotaOverrides = (owner: string) => Partial<QuotaLimits> | undefined;

const UNLIMITED: QuotaLimits = Object.freeze({
  containers: Number.POSITIVE_INFINITY,
  running: Number.POSITIVE_INFINITY,
  memoryMb: Number.POSITIVE_INFINITY,
  cpus: Number.POSITIVE_INFINITY,
  codeMb: Number.POSITIVE_INFINITY,
});

/**
 * The limits that hold for `owner`: its overrides over the server's defaults,
 * read afresh on every check so that a re-read tokens file applies at once.
 * The admin's own containers (owner ADMIN_OWNER, the one name no tenant can
 * take) have none; operators are not held to tenants' quotas.
 */
export function quotaLimitsFor(
  defaults: QuotaLimits,
  overrides: QuotaOverrides,
): (owner: string) => QuotaLimits {
  return (owner) => (owner === ADMIN_OWNER ? UNLIMITED : { ...defaults, ...overrides(owner) });
}

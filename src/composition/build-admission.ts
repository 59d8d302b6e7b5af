import type { QuotaLimits } from "#protocol";
import { containerUsage } from "../admission/container-usage.ts";
import { EngineAdmission } from "../admission/engine-admission.ts";
import { FairQueue } from "../admission/fair-queue.ts";
import { QuotaLedger } from "../admission/quota-ledger.ts";
import { type QuotaOverrides, quotaLimitsFor } from "../admission/quota-limits.ts";
import { type RateGate, RateLimiter } from "../admission/rate-limiter.ts";
import { SharedRateLimiter } from "../admission/shared-rate-limiter.ts";
import type { TokenStore } from "../auth/token-store.ts";
import { PgOwnerLocks } from "../cluster/pg-owner-locks.ts";
import { PgRateBuckets } from "../cluster/pg-rate-buckets.ts";
import type { Config } from "../config/config.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { Store } from "../store/store-ports.ts";
import type { DisposalStack } from "./disposal-stack.ts";

export interface AdmissionParts {
  /** Per-owner quota usage (the store plus operations under way). */
  quotas: QuotaLedger;
  /** The bounded, fair queue of engine operations. */
  engineQueue: FairQueue;
  admission: EngineAdmission;
  /** Per-owner rate limits: this server's memory (SQLite), or buckets every server shares (PostgreSQL). */
  rates: RateGate;
  quotaLimits: (owner: string) => QuotaLimits;
}

/** What lets work in: quotas per owner (with the tokens file's overrides), the fair engine queue, rate limits. */
export function buildAdmission(
  config: Config,
  deps: { store: Store; tokens: TokenStore; log: SystemLogger },
  stack: DisposalStack,
): AdmissionParts {
  const { store, tokens, log } = deps;
  // Per-owner quota overrides come from the tokens file, read on every check so a reload applies at once.
  const quotaOverrides: QuotaOverrides = (owner) => tokens.overridesFor(owner);
  const quotaLimits = quotaLimitsFor(config.quota, quotaOverrides);
  const usageRepo = store.usage;
  // A spec without resources gets the server's defaults, so it counts as those.
  const resourceDefaults = { memoryMb: config.defaultMemoryMb, cpus: config.defaultCpus };
  // Several API servers may share a PostgreSQL database: each owner's checks are then serialised across them
  // (see QuotaLedger). One server on SQLite takes no lock. Closed after the operations drained (built before
  // them): a reservation under way keeps its lock until the store records its outcome.
  const url = config.database?.reveal();
  const ownerLocks = url === undefined ? undefined : new PgOwnerLocks({ url, log });
  if (ownerLocks) stack.defer("owner admission locks", () => ownerLocks.close());
  const quotas = new QuotaLedger(
    {
      usageOf: async (owner) =>
        (await usageRepo.containersOf(owner)).map((u) => ({
          id: u.id,
          usage: containerUsage(u, resourceDefaults),
        })),
    },
    quotaLimits,
    ownerLocks,
  );
  const engineQueue = new FairQueue(config.engineQueue);
  const admission = new EngineAdmission(quotas, engineQueue, resourceDefaults);
  let rates: RateGate = new RateLimiter(config.rateLimits);
  if (url !== undefined) {
    // Any server may take an owner's request: the buckets are the database's, so the rate is the owner's.
    const buckets = new PgRateBuckets({ url, log });
    stack.defer("shared rate buckets", () => buckets.close());
    rates = new SharedRateLimiter(config.rateLimits, buckets);
  }
  return { quotas, engineQueue, admission, rates, quotaLimits };
}

import type { AdmissionPort, Resources } from "./admission.ts";
import { type ResourceDefaults, runningUsage } from "./container-usage.ts";
import type { FairQueue, Turn } from "./fair-queue.ts";
import type { QuotaLedger, QuotaReservation } from "./quota-ledger.ts";

/** Admission control as berth runs it: quotas from the ledger, turns from the fair queue. */
export class EngineAdmission implements AdmissionPort {
  readonly #ledger: QuotaLedger;
  readonly #queue: FairQueue;
  readonly #defaults: ResourceDefaults;

  constructor(ledger: QuotaLedger, queue: FairQueue, defaults: ResourceDefaults) {
    this.#ledger = ledger;
    this.#queue = queue;
    this.#defaults = defaults;
  }

  reserveCreate(
    owner: string,
    id: string,
    request: { resources: Resources | undefined; starts: boolean; codeBytes: number },
  ): Promise<QuotaReservation> {
    return this.#ledger.reserve(owner, id, {
      containers: 1,
      codeBytes: request.codeBytes,
      ...(request.starts ? runningUsage(request.resources, this.#defaults) : {}),
    });
  }

  reserveRun(owner: string, id: string, resources: Resources | undefined): Promise<QuotaReservation> {
    return this.#ledger.reserve(owner, id, runningUsage(resources, this.#defaults));
  }

  reserveCode(owner: string, id: string, codeBytes: number): Promise<QuotaReservation> {
    return this.#ledger.reserve(owner, id, (current) => ({ codeBytes: current.codeBytes + codeBytes }));
  }

  engineTurn(owner: string, options: { bounded: boolean }): Promise<Turn> {
    return this.#queue.acquire(owner, options);
  }
}

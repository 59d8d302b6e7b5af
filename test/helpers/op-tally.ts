import { percentile } from "../../bench/stats.ts";

/**
 * What a load test's clients got back, per operation: each answer's latency,
 * and every error by code — so that the test can say which codes came, how
 * often, and the share refused by admission.
 */
export class OpTally {
  readonly #latencies = new Map<string, number[]>();
  readonly #errors = new Map<string, number>();
  #answers = 0;

  /** One answer to `op` after `ms`; `code` when it was an error. */
  record(op: string, ms: number, code?: string): void {
    this.#answers++;
    let list = this.#latencies.get(op);
    if (!list) {
      list = [];
      this.#latencies.set(op, list);
    }
    list.push(ms);
    if (code !== undefined) this.#errors.set(code, (this.#errors.get(code) ?? 0) + 1);
  }

  get answers(): number {
    return this.#answers;
  }

  /** Error counts by code, most frequent first. */
  errors(): [string, number][] {
    return [...this.#errors].sort((a, b) => b[1] - a[1]);
  }

  count(code: string): number {
    return this.#errors.get(code) ?? 0;
  }

  /** `op n p50/p99 ms` per operation, in the order they first answered. */
  latencies(): { op: string; n: number; p50: number; p99: number }[] {
    return [...this.#latencies].map(([op, ms]) => ({
      op,
      n: ms.length,
      p50: percentile(ms, 50),
      p99: percentile(ms, 99),
    }));
  }

  /** A compact line: `request 1234× 1.2/8.0 ms; …`. */
  latencyLine(): string {
    return this.latencies()
      .map((l) => `${l.op} ${l.n}× ${fmt(l.p50)}/${fmt(l.p99)} ms`)
      .join("; ");
  }

  /** `CODE n, …`, or `none`. */
  errorLine(): string {
    const errors = this.errors();
    return errors.length === 0 ? "none" : errors.map(([code, n]) => `${code} ${n}`).join(", ");
  }
}

function fmt(ms: number): string {
  return ms < 10 ? ms.toFixed(1) : ms.toFixed(0);
}

/** How long each named step took, in the order they ended. */
export class StepTimer {
  readonly steps: { step: string; ms: number }[] = [];

  async step<T>(step: string, fn: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.steps.push({ step, ms: Math.round(performance.now() - start) });
    }
  }

  /** One line per step, e.g. `network 120 ms`. */
  toString(): string {
    return this.steps.map((s) => `${s.step.padEnd(26)} ${String(s.ms).padStart(6)} ms`).join("\n");
  }
}

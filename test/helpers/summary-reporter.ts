import type { Reporter, SerializedError, TestModule } from "vitest/node";

/**
 * Ends the run with one plain line — `N passed, N failed, N skipped` — that
 * any CI can read, whatever it knows of Vitest's own summary. A file whose
 * set-up failed (its tests never ran) and an unhandled error each count as a
 * failure, so that the line never says "0 failed" of a run that failed.
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    testModules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<SerializedError>,
  ): void {
    const counts = { passed: 0, failed: unhandledErrors.length, skipped: 0 };
    for (const module of testModules) {
      let failedHere = 0;
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === "passed") counts.passed++;
        else if (state === "failed") failedHere++;
        else counts.skipped++;
      }
      if (failedHere === 0 && module.state() === "failed") failedHere = 1;
      counts.failed += failedHere;
    }
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
  }
}

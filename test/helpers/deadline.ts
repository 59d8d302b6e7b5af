/**
 * Awaits `promise`, or fails after `ms` naming what never happened — an
 * awaited event that does not come then reads as a clear failure instead of
 * the test's own timeout.
 */
export async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Asks `check` again every `everyMs` until it returns true, for a condition
 * that no event announces (e.g. that a background reconciliation is done);
 * fails after `ms` with what was last seen.
 */
export async function eventually(
  ms: number,
  what: string,
  check: () => Promise<boolean | string> | boolean | string,
  everyMs = 100,
): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result === true) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${ms} ms${typeof result === "string" ? ` (${result})` : ""}`);
    }
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

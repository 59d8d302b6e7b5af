/** A progress line on stderr, after the time of day (stdout carries the figures). */
export function log(...parts: unknown[]): void {
  console.error(new Date().toISOString().slice(11, 23), ...parts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** p50 and max of a sample, in ms rounded to one decimal. */
export function summarise(samples: readonly number[]): { n: number; p50: number; max: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const p50 = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  const round = (x: number) => Math.round(x * 10) / 10;
  return { n: sorted.length, p50: round(p50), max: round(sorted.at(-1) ?? Number.NaN) };
}

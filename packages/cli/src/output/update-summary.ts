import type { UpdateResult } from "@berth/client";
import { formatMs } from "./format.ts";

/** `web: release 3 is running (was 2), 1.4 s` — the one line an update or rollback prints. */
export function updateSummary(name: string, result: UpdateResult): string {
  const was = result.previousRelease === null ? "" : ` (was ${result.previousRelease})`;
  return `${name}: release ${result.release} is running${was}, ${formatMs(result.timings.total)}`;
}

import type { BerthClient } from "@berth/client";
import { formatTime } from "../format.ts";
import { useStatusHistory } from "./use-status-history.ts";

interface Props {
  client: BerthClient;
  containerId: string | undefined;
}

/** The container's status history: its entries of the activity feed, newest first, live. */
export function StatusHistory({ client, containerId }: Props) {
  const { entries, loading, error } = useStatusHistory(client, containerId);
  return (
    <section class="history" aria-labelledby="history-heading">
      <h2 id="history-heading">Status history</h2>
      {error && <p role="alert">The history could not be read: {error}</p>}
      {!loading && !error && entries.length === 0 && <p>Nothing has happened to it yet.</p>}
      <ol class="activity">
        {entries.map((entry) => (
          <li key={entry.id} class={`activity-${entry.level}`} data-action={entry.action}>
            <time dateTime={new Date(entry.ts).toISOString()}>{formatTime(entry.ts)}</time> {entry.message}
          </li>
        ))}
      </ol>
    </section>
  );
}

import type { BerthClient } from "@berth/client";
import { useMemo, useState } from "preact/hooks";
import { ActivityFilters } from "../activity/activity-filters.tsx";
import { ALL_ACTIVITY, choices, filterEntries } from "../activity/activity-query.ts";
import { useActivityStore } from "../activity/use-activity-store.ts";
import { useOwners } from "../activity/use-owners.ts";
import { formatTime } from "../format.ts";
import { routeHref } from "../router/route.ts";

interface Props {
  client: BerthClient;
  isAdmin: boolean;
}

/** `#/activity`: what happened to the caller's containers, newest first, live, with filters. */
export function ActivityPage({ client, isAdmin }: Props) {
  const { status, entries, error } = useActivityStore(client);
  const owners = useOwners(client, isAdmin, entries);
  const [query, setQuery] = useState(ALL_ACTIVITY);
  const ownerOf = (e: { containerId?: string }) =>
    e.containerId === undefined ? undefined : owners.get(e.containerId);
  const shown = filterEntries(entries, query, ownerOf);
  const containerChoices = useMemo(() => choices(entries, (e) => e.containerName), [entries]);
  const actionChoices = useMemo(() => choices(entries, (e) => e.action), [entries]);
  const ownerChoices = useMemo(() => [...new Set(owners.values())].sort(), [owners]);

  return (
    <>
      <h1>Activity</h1>
      <ActivityFilters
        query={query}
        onChange={setQuery}
        containers={containerChoices}
        actions={actionChoices}
        {...(isAdmin ? { owners: ownerChoices } : {})}
      />
      <p class="status" role="status">
        {status === "loading" && "Loading the activity…"}
        {status === "reconnecting" &&
          "Connection lost: reconnecting. What happens meanwhile is shown once it is back."}
        {status === "live" && entries.length === 0 && "Nothing has happened yet."}
        {status === "live" && entries.length > 0 && shown.length === 0 && "No entry matches the filters."}
      </p>
      {status === "failed" && <p role="alert">The activity could not be read: {error}</p>}
      <ol class="activity" aria-live="polite" aria-label={`Activity (${shown.length} shown)`}>
        {shown.map((entry) => (
          <li key={entry.id} class={`activity-${entry.level}`} data-action={entry.action} data-id={entry.id}>
            <time dateTime={new Date(entry.ts).toISOString()}>{formatTime(entry.ts)}</time>{" "}
            <span class="level">{entry.level}</span>{" "}
            {entry.containerName && (
              <>
                <a href={routeHref({ page: "container", name: entry.containerName })}>
                  {entry.containerName}
                </a>
                {isAdmin && entry.containerId && owners.has(entry.containerId) && (
                  <span class="owner"> ({owners.get(entry.containerId)})</span>
                )}
                {": "}
              </>
            )}
            {entry.message}
          </li>
        ))}
      </ol>
    </>
  );
}

import type { BerthClient } from "@berth/client";
import { useActivity } from "../activity/use-activity.ts";
import { formatTime } from "../format.ts";
import { routeHref } from "../router/route.ts";

/** `#/activity`: what happened to the caller's containers, newest first, live. */
export function ActivityPage({ client }: { client: BerthClient }) {
  const { entries, error } = useActivity(client);
  return (
    <>
      <h1>Activity</h1>
      {error && <p role="alert">The activity could not be read: {error}</p>}
      {entries.length === 0 && !error && <p role="status">Nothing has happened yet.</p>}
      <ol class="activity" aria-live="polite">
        {entries.map((entry) => (
          <li key={entry.id} class={`activity-${entry.level}`} data-action={entry.action}>
            <time dateTime={new Date(entry.ts).toISOString()}>{formatTime(entry.ts)}</time>{" "}
            {entry.containerName && (
              <>
                <a href={routeHref({ page: "container", name: entry.containerName })}>
                  {entry.containerName}
                </a>
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

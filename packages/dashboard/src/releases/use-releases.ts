import type { ActivityEntry, BerthClient, ReleaseInfo } from "@berth/client";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import { describeError, type ErrorView } from "../errors/describe-error.ts";
import { changesReleases, type ReleaseRow, releaseRows } from "./release-rows.ts";

export interface ReleasesState {
  status: "loading" | "ready" | "failed";
  rows: ReleaseRow[];
  error?: ErrorView;
}

/** Entries of the container's feed read at first: enough to reach back through many failed updates. */
const HISTORY_LIMIT = 500;

/**
 * The container's releases with each failure's step and cause, live. berth
 * pushes no event for a release itself, so the list (small) is read again
 * whenever something may have changed it: a status change of this container
 * (an update or a rollback switches it; a pending release shows), an entry
 * of its feed about an update or a rollback (they come once the releases are
 * committed; the entry itself is kept, for its failure). The feed's history
 * (larger) is read once, and again only after a reconnect, when pushes may
 * have been lost. The newest read wins, so a slow answer never replaces a
 * newer one.
 */
export function useReleases(client: BerthClient, containerId: string): ReleasesState & { reload(): void } {
  const [releases, setReleases] = useState<ReleaseInfo[]>();
  const [entries, setEntries] = useState<ActivityEntry[]>([]);
  const [error, setError] = useState<ErrorView>();
  const reloadRef = useRef<() => void>(() => {});
  useEffect(() => {
    let closed = false;
    let reads = 0;
    const fail = (err: unknown) => !closed && setError(describeError(err));
    const readReleases = async () => {
      const read = ++reads;
      try {
        const { items } = await client.call("container:releases", { id: containerId });
        if (closed || read !== reads) return;
        setReleases(items);
        setError(undefined);
      } catch (err) {
        if (read === reads) fail(err);
      }
    };
    const readAll = async () => {
      try {
        const { items } = await client.activity.history({ containerId, newest: true, limit: HISTORY_LIMIT });
        if (!closed) setEntries((held) => merge(held, items));
      } catch (err) {
        fail(err);
      }
      await readReleases();
    };
    reloadRef.current = () => void readReleases();
    const offs = [
      client.on("container:status_changed", (e) => e.id === containerId && void readReleases()),
      client.on("activity_log", (entry) => {
        if (entry.containerId !== containerId || !changesReleases(entry)) return;
        setEntries((held) => merge(held, [entry]));
        void readReleases();
      }),
      client.on("connection", (s) => s === "connected" && void readAll()),
    ];
    void readAll();
    return () => {
      closed = true;
      for (const off of offs) off();
    };
  }, [client, containerId]);
  const rows = useMemo(() => (releases ? releaseRows(releases, entries) : []), [releases, entries]);
  const status = error ? "failed" : releases ? "ready" : "loading";
  return { status, rows, ...(error ? { error } : {}), reload: () => reloadRef.current() };
}

/** The entries held and those read or pushed, once each, newest first, at most HISTORY_LIMIT. */
function merge(held: ActivityEntry[], incoming: ActivityEntry[]): ActivityEntry[] {
  const seen = new Set(held.map((e) => e.id));
  const merged = [...held, ...incoming.filter((e) => !seen.has(e.id))];
  return merged.sort((a, b) => b.id - a.id).slice(0, HISTORY_LIMIT);
}

import type { BerthClient } from "@berth/client";
import { useEffect, useRef, useState } from "preact/hooks";
import { type ErrorFacts, errorFacts } from "../errors/error-fix.ts";
import { changesReleases, type ReleaseRow, releaseRows } from "./release-rows.ts";

export interface ReleasesState {
  status: "loading" | "ready" | "failed";
  rows: ReleaseRow[];
  error?: ErrorFacts;
}

/** Entries of the container's feed read with the releases: enough to reach back through many failed updates. */
const HISTORY_LIMIT = 500;

/**
 * The container's releases with each failure's step and cause, live: read
 * once, then again whenever something may have changed them — a status
 * change of this container (an update or a rollback switches it), an entry
 * of its feed about an update or a rollback (they come once the releases
 * are committed), a reconnect (pushes may have been lost). berth pushes no
 * event for a release itself, so this reads the list again; the newest read
 * wins, so a slow answer never replaces a newer one.
 */
export function useReleases(client: BerthClient, containerId: string): ReleasesState & { reload(): void } {
  const [state, setState] = useState<ReleasesState>({ status: "loading", rows: [] });
  const reloadRef = useRef<() => void>(() => {});
  useEffect(() => {
    let closed = false;
    let reads = 0;
    const load = async () => {
      const read = ++reads;
      try {
        const [{ items: releases }, { items: entries }] = await Promise.all([
          client.call("container:releases", { id: containerId }),
          client.activity.history({ containerId, newest: true, limit: HISTORY_LIMIT }),
        ]);
        if (closed || read !== reads) return;
        setState({ status: "ready", rows: releaseRows(releases, entries) });
      } catch (err) {
        if (closed || read !== reads) return;
        setState((s) => ({ ...s, status: "failed", error: errorFacts(err) }));
      }
    };
    reloadRef.current = () => void load();
    const offs = [
      client.on("container:status_changed", (e) => e.id === containerId && void load()),
      client.on("activity_log", (entry) => {
        if (entry.containerId === containerId && changesReleases(entry)) void load();
      }),
      client.on("connection", (s) => s === "connected" && void load()),
    ];
    void load();
    return () => {
      closed = true;
      for (const off of offs) off();
    };
  }, [client, containerId]);
  return { ...state, reload: () => reloadRef.current() };
}

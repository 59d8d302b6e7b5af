import { type ActivityEntry, type BerthClient, isBerthError } from "@berth/client";
import { useEffect, useState } from "preact/hooks";

/** How many entries the page keeps of one container: the newest, as far back as a reader looks here. */
const KEEP = 100;

export interface StatusHistory {
  entries: ActivityEntry[];
  loading: boolean;
  error?: string;
}

/**
 * What happened to one container, newest first, from the activity feed: the
 * latest entries berth kept of it (`activity.history` with its id), then
 * each new entry of it as berth pushes it. An entry already held is not
 * added twice (the history's answer and a push can overlap).
 */
export function useStatusHistory(client: BerthClient, containerId: string | undefined): StatusHistory {
  const [state, setState] = useState<StatusHistory>({ entries: [], loading: true });
  useEffect(() => {
    if (containerId === undefined) return;
    let closed = false;
    const add = (incoming: ActivityEntry[]) =>
      setState((s) => {
        const seen = new Set(s.entries.map((e) => e.id));
        const merged = [...incoming.filter((e) => !seen.has(e.id)), ...s.entries];
        return { ...s, entries: merged.sort((a, b) => b.id - a.id).slice(0, KEEP) };
      });
    const off = client.activity.on((entry) => {
      if (entry.containerId === containerId) add([entry]);
    });
    client.activity.history({ containerId, newest: true, limit: 50 }).then(
      ({ items }) => {
        if (closed) return;
        add(items);
        setState((s) => ({ ...s, loading: false }));
      },
      (err: unknown) =>
        !closed &&
        setState((s) => ({
          ...s,
          loading: false,
          error: isBerthError(err) ? err.message : "the history could not be read",
        })),
    );
    return () => {
      closed = true;
      off();
    };
  }, [client, containerId]);
  return state;
}

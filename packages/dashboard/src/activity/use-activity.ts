import { type ActivityEntry, type BerthClient, isBerthError } from "@berth/client";
import { useEffect, useState } from "preact/hooks";

/** How many entries the page keeps: the newest, enough to read back through without growing for ever. */
const KEEP = 200;

export interface ActivityState {
  entries: ActivityEntry[];
  error?: string;
}

/**
 * The caller's activity feed, newest first: the latest entries once, then
 * each new one as berth pushes it (the client replays those missed during a
 * reconnect, once each). An entry already held is not added twice.
 */
export function useActivity(client: BerthClient): ActivityState {
  const [state, setState] = useState<ActivityState>({ entries: [] });
  useEffect(() => {
    let closed = false;
    const add = (incoming: ActivityEntry[]) =>
      setState((s) => {
        const seen = new Set(s.entries.map((e) => e.id));
        const merged = [...incoming.filter((e) => !seen.has(e.id)), ...s.entries];
        return { entries: merged.sort((a, b) => b.id - a.id).slice(0, KEEP) };
      });
    const off = client.activity.on((entry) => add([entry]));
    client.activity.history({ newest: true, limit: 50 }).then(
      ({ items }) => !closed && add(items),
      (err: unknown) =>
        !closed &&
        setState((s) => ({
          ...s,
          error: isBerthError(err) ? err.message : "the activity could not be read",
        })),
    );
    return () => {
      closed = true;
      off();
    };
  }, [client]);
  return state;
}

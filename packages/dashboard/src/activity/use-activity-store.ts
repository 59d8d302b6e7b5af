import type { BerthClient } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { type ActivitySnapshot, ActivityStore } from "./activity-store.ts";

/** The caller's activity feed, live and without gaps, for as long as the component is mounted. */
export function useActivityStore(client: BerthClient): ActivitySnapshot {
  const [snapshot, setSnapshot] = useState<ActivitySnapshot>({ status: "loading", entries: [] });
  useEffect(() => {
    const store = new ActivityStore(client);
    store.subscribe(setSnapshot);
    store.start();
    return () => store.close();
  }, [client]);
  return snapshot;
}

import type { BerthClient } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { ContainerStore, type StoreSnapshot } from "./container-store.ts";

/** The caller's containers, live, for as long as the component is mounted. */
export function useContainerStore(client: BerthClient): StoreSnapshot {
  const [snapshot, setSnapshot] = useState<StoreSnapshot>({ status: "loading", rows: [] });
  useEffect(() => {
    const store = new ContainerStore(client);
    store.subscribe(setSnapshot);
    store.start();
    return () => store.close();
  }, [client]);
  return snapshot;
}

import type { BerthClient } from "@berth/client";
import { useEffect, useState } from "preact/hooks";
import { ContainerStore, type StoreOptions, type StoreSnapshot } from "./container-store.ts";

/** The caller's containers, live, for as long as the component is mounted. */
export function useContainerStore(client: BerthClient, options: StoreOptions = {}): StoreSnapshot {
  const [snapshot, setSnapshot] = useState<StoreSnapshot>({ status: "loading", rows: [] });
  const history = options.history ?? false;
  useEffect(() => {
    const store = new ContainerStore(client, { history });
    store.subscribe(setSnapshot);
    store.start();
    return () => store.close();
  }, [client, history]);
  return snapshot;
}

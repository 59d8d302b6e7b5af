import type { BerthClient, Container } from "@berth/client";
import { useEffect, useState } from "preact/hooks";

/**
 * A handle on the container with this id (`client.containers.get`), for the
 * page's streams: undefined until berth has answered, and for good when it
 * says the caller has no such container (the page then says "not found").
 */
export function useContainerHandle(client: BerthClient, id: string | undefined): Container | undefined {
  const [handle, setHandle] = useState<Container>();
  useEffect(() => {
    setHandle(undefined);
    if (id === undefined) return;
    let gone = false;
    client.containers.get(id).then(
      (container) => !gone && setHandle(container),
      () => {
        // NOT_FOUND (deleted meanwhile) or a lost connection: the store's row says what the page shows.
      },
    );
    return () => {
      gone = true;
    };
  }, [client, id]);
  return handle;
}

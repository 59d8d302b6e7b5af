import type { ActivityEntry, BerthClient } from "@berth/client";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";

/**
 * For the admin's owner filter: each container's owner by id, from
 * `containers.list` (an activity entry does not name its owner). Read once,
 * again after a reconnect, and again when an entry names a container not
 * asked about yet (one read at a time, each id asked about once: a
 * container deleted before the page opened stays unknown). Reads nothing
 * for an owner, who sees only their own.
 */
export function useOwners(
  client: BerthClient,
  enabled: boolean,
  entries: readonly ActivityEntry[],
): ReadonlyMap<string, string> {
  const [owners, setOwners] = useState<ReadonlyMap<string, string>>(new Map());
  const asked = useRef(new Set<string>());
  const reading = useRef(false);
  const again = useRef(false);

  const read = useCallback(async () => {
    if (reading.current) {
      again.current = true;
      return;
    }
    reading.current = true;
    try {
      do {
        again.current = false;
        const fresh = new Map<string, string>();
        for await (const info of client.containers.list({ pageSize: 500 })) fresh.set(info.id, info.owner);
        // Containers gone since keep their owner: their entries are still on the page.
        setOwners((held) => new Map([...held, ...fresh]));
      } while (again.current);
    } catch {
      // Not known for now: the filter leaves those entries out until the next read.
    } finally {
      reading.current = false;
    }
  }, [client]);

  useEffect(() => {
    if (!enabled) return;
    void read();
    return client.on("connection", (state) => {
      if (state === "connected") void read();
    });
  }, [client, enabled, read]);

  useEffect(() => {
    if (!enabled) return;
    let unknown = false;
    for (const { containerId } of entries) {
      if (containerId === undefined || owners.has(containerId) || asked.current.has(containerId)) continue;
      asked.current.add(containerId);
      unknown = true;
    }
    if (unknown) void read();
  }, [enabled, entries, owners, read]);

  return owners;
}

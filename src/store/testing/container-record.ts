import type { ContainerRecord } from "../store-ports.ts";

/**
 * A container row for tests of the store and of what stands on it: alice's,
 * `created`, no engine copy yet, with `uid` (each row needs its own) and
 * anything in `extra` overriding.
 */
export function containerRecord(
  id: string,
  uid: number,
  extra: Partial<ContainerRecord> = {},
): ContainerRecord {
  return {
    id,
    owner: "alice",
    name: id.toLowerCase(),
    image: "berth/runtime-node:24",
    spec: { name: id.toLowerCase() },
    dockerId: null,
    dockerName: `berth-${id}`,
    state: "created",
    health: "none",
    uid,
    createdAt: 1_000,
    startedAt: null,
    exitCode: null,
    release: null,
    restartCount: 0,
    ...extra,
  };
}

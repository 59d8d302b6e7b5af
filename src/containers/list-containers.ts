import type { ContainerInfo, ContainerState, HealthState, ListResult } from "#protocol";
import { ValidationError } from "../errors/errors.ts";
import type { ContainerRecord, ContainerStore } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";

export interface ListRequest {
  filter?: { state?: ContainerState; health?: HealthState; namePrefix?: string; label?: string };
  limit?: number;
  cursor?: string;
}

export const DEFAULT_LIST_LIMIT = 50;
export const MAX_LIST_LIMIT = 500;

/**
 * One page of the actor's containers, oldest first. The cursor is opaque to
 * clients (base64url of the last item's creation time and id), so pages stay
 * stable while containers are created and deleted between requests.
 * A `label` filter is `key` (present) or `key=value`.
 */
export async function listContainers(
  repo: ContainerStore,
  actor: Actor,
  request: ListRequest,
  toInfo: (r: ContainerRecord) => ContainerInfo,
): Promise<ListResult> {
  const limit = request.limit ?? DEFAULT_LIST_LIMIT;
  const after = request.cursor === undefined ? undefined : decodeCursor(request.cursor);
  const label = request.filter?.label;
  const [labelKey, labelValue] = label === undefined ? [] : splitLabel(label);
  const items: ContainerInfo[] = [];
  let last: ContainerRecord | undefined;
  let cursor = after;
  // Label filters are applied after the query (labels live in the spec JSON), so read in batches.
  while (items.length < limit) {
    const batch = await repo.list({
      ...(actor.admin ? {} : { owner: actor.owner }),
      ...(request.filter?.state ? { state: request.filter.state } : {}),
      ...(request.filter?.health ? { health: request.filter.health } : {}),
      ...(request.filter?.namePrefix ? { namePrefix: request.filter.namePrefix } : {}),
      ...(cursor ? { after: cursor } : {}),
      limit: limit + 1,
    });
    for (const record of batch) {
      cursor = { createdAt: record.createdAt, id: record.id };
      if (labelKey !== undefined) {
        const v = record.spec.labels?.[labelKey];
        if (v === undefined || (labelValue !== undefined && v !== labelValue)) continue;
      }
      if (items.length === limit) return { items, nextCursor: encodeCursor(last!) };
      items.push(toInfo(record));
      last = record;
    }
    if (batch.length < limit + 1) return { items };
  }
  return { items, nextCursor: encodeCursor(last!) };
}

function splitLabel(label: string): [string, string | undefined] {
  const eq = label.indexOf("=");
  return eq === -1 ? [label, undefined] : [label.slice(0, eq), label.slice(eq + 1)];
}

function encodeCursor(record: ContainerRecord): string {
  return Buffer.from(`${record.createdAt}:${record.id}`).toString("base64url");
}

function decodeCursor(cursor: string): { createdAt: number; id: string } {
  const text = Buffer.from(cursor, "base64url").toString();
  const m = /^(\d+):(C[0-9A-Z]{11})$/.exec(text);
  if (!m) throw new ValidationError("The cursor is not valid.", { details: { field: "cursor" } });
  return { createdAt: Number(m[1]), id: m[2]! };
}

import type { CallOptions } from "./call-options.ts";
import type { ClientCore } from "./client-core.ts";
import type { ContainerInfo, ListResult, RequestOf } from "./protocol/index.ts";

/** What `containers.list()` filters on: state, health, a name prefix, a label (`key` or `key=value`). */
export type ListFilter = NonNullable<RequestOf<"container:list">["filter"]>;

export interface ListOptions {
  filter?: ListFilter;
  /** Containers asked for per page while iterating (berth's default 50, at most 500). */
  pageSize?: number;
}

/**
 * The caller's containers, oldest first: `for await` goes over every page
 * (following `nextCursor`), `.page()` reads one.
 *
 * @example
 *   for await (const info of berth.containers.list({ filter: { state: "running" } })) console.log(info.name);
 *   const { items, nextCursor } = await berth.containers.list().page({ limit: 10 });
 */
export class ContainerList implements AsyncIterable<ContainerInfo> {
  readonly #core: ClientCore;
  readonly #options: ListOptions;

  constructor(core: ClientCore, options: ListOptions = {}) {
    this.#core = core;
    this.#options = options;
  }

  /** One page: at most `limit` containers after `cursor`, and the cursor of the next page if there is one. */
  page(options: { limit?: number; cursor?: string } & CallOptions = {}): Promise<ListResult> {
    const { limit, cursor, ...call } = options;
    const payload: RequestOf<"container:list"> = {};
    if (this.#options.filter) payload.filter = this.#options.filter;
    if (limit !== undefined) payload.limit = limit;
    if (cursor !== undefined) payload.cursor = cursor;
    return this.#core.call("container:list", payload, call);
  }

  async *[Symbol.asyncIterator](): AsyncIterator<ContainerInfo> {
    let cursor: string | undefined;
    do {
      const page = await this.page({
        ...(this.#options.pageSize === undefined ? {} : { limit: this.#options.pageSize }),
        ...(cursor === undefined ? {} : { cursor }),
      });
      yield* page.items;
      cursor = page.nextCursor;
    } while (cursor !== undefined);
  }
}

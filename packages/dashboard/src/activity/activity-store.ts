import { type ActivityEntry, type BerthClient, isBerthError } from "@berth/client";
import { type ActivityCursor, activityCursor } from "./activity-cursor.ts";
import { mergeEntries, newestId } from "./merge-entries.ts";

export type ActivityStatus = "loading" | "live" | "reconnecting" | "failed";

export interface ActivitySnapshot {
  status: ActivityStatus;
  /** Newest first, each entry once. */
  entries: ActivityEntry[];
  /** Why reading failed, in plain words (status `failed`). */
  error?: string;
}

export interface ActivityStoreOptions {
  /** Where the newest id shown is kept across reloads (default: this tab's sessionStorage). */
  cursor?: ActivityCursor;
  /** How many entries the page holds: the newest, enough to read back through without growing for ever. */
  keep?: number;
}

/** How many of the newest entries a page that opens shows before any news. */
const FIRST_READ = 50;
/** berth's largest `activity:history` page. */
const PAGE = 1000;
/** A catch-up reads at most this many pages; past them the gap is far larger than the page keeps, so the newest do. */
const MAX_PAGES = 10;
const KEEP = 200;

/**
 * The activity page's feed: the newest entries, then each pushed one — and no
 * gap and no entry twice when the page is reloaded or the connection drops.
 *
 * - A reload: this tab kept the id of the newest entry it showed (the
 *   cursor); the page reads everything after it (`activity.history
 *   { afterId }`, page by page) besides the newest few.
 * - A dropped connection: the client SDK replays what it missed
 *   (`activity.on`); the store also reads after the newest id it holds once
 *   the connection is back, so a catch-up the SDK gave up on (or a berth
 *   that restarted meanwhile) leaves no gap either.
 *
 * The three ways overlap; `mergeEntries` keeps each id once, in id order.
 * The cursor moves only while the store is live (caught up): a reload in
 * the middle of a catch-up reads the gap again rather than skip it.
 *
 * @example
 *   const store = new ActivityStore(client);
 *   const off = store.subscribe((snap) => render(snap.entries));
 *   store.start();
 *   // later: off(); store.close();
 */
export class ActivityStore {
  readonly #client: BerthClient;
  readonly #cursor: ActivityCursor;
  readonly #keep: number;
  readonly #listeners = new Set<(snapshot: ActivitySnapshot) => void>();
  readonly #offs: (() => void)[] = [];
  #snapshot: ActivitySnapshot = { status: "loading", entries: [] };
  #loaded = false;
  /** Bumped by each read (the first, or a catch-up): only the latest one's end makes the store live. */
  #reads = 0;
  #closed = false;

  constructor(client: BerthClient, options: ActivityStoreOptions = {}) {
    this.#client = client;
    this.#cursor = options.cursor ?? activityCursor;
    this.#keep = options.keep ?? KEEP;
  }

  get snapshot(): ActivitySnapshot {
    return this.#snapshot;
  }

  subscribe(listener: (snapshot: ActivitySnapshot) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  start(): void {
    this.#offs.push(
      this.#client.activity.on((entry) => this.#add([entry])),
      this.#client.on("connection", (state) => {
        if (state === "reconnecting") this.#set({ status: "reconnecting" });
        if (state === "connected") void this.#read();
      }),
    );
    void this.#read();
  }

  /** Stops listening; idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const off of this.#offs.splice(0)) off();
    this.#listeners.clear();
  }

  /** The first read (the newest, and after the cursor), or after a reconnect the catch-up from the newest held. */
  async #read(): Promise<void> {
    const read = ++this.#reads;
    try {
      if (this.#loaded) {
        const after = newestId(this.#snapshot.entries);
        await (after === undefined ? this.#newest(FIRST_READ) : this.#catchUp(after));
      } else {
        const since = this.#cursor.read();
        await Promise.all([this.#newest(FIRST_READ), since === undefined ? undefined : this.#catchUp(since)]);
        this.#loaded = true;
      }
      if (this.#closed || read !== this.#reads) return;
      this.#set({ status: "live" });
      this.#remember();
    } catch (err) {
      if (this.#closed || read !== this.#reads) return;
      // A lost connection: the next connect reads again. Anything else is the page's to show.
      if (isBerthError(err, "DISCONNECTED")) return this.#set({ status: "reconnecting" });
      this.#set({
        status: "failed",
        error: isBerthError(err) ? err.message : "the activity could not be read",
      });
    }
  }

  async #newest(limit: number): Promise<void> {
    const { items } = await this.#client.activity.history({ newest: true, limit });
    this.#add(items);
  }

  /** Everything after `afterId`, page by page; a gap wider than MAX_PAGES is left to the newest entries. */
  async #catchUp(afterId: number): Promise<void> {
    let after = afterId;
    for (let pages = 0; pages < MAX_PAGES; pages++) {
      const { items, hasMore } = await this.#client.activity.history({ afterId: after, limit: PAGE });
      if (this.#closed) return;
      this.#add(items);
      const last = items.at(-1)?.id;
      if (!hasMore || last === undefined) return;
      after = last;
    }
    await this.#newest(this.#keep);
  }

  #add(incoming: readonly ActivityEntry[]): void {
    if (this.#closed || incoming.length === 0) return;
    this.#set({ entries: mergeEntries(this.#snapshot.entries, incoming, this.#keep) });
    // A push while live comes after every entry held (the SDK gives them in order): the cursor may move.
    if (this.#snapshot.status === "live") this.#remember();
  }

  #remember(): void {
    const newest = newestId(this.#snapshot.entries);
    if (newest !== undefined) this.#cursor.write(newest);
  }

  #set(change: Partial<ActivitySnapshot>): void {
    if (this.#closed) return;
    const next = { ...this.#snapshot, ...change };
    if (next.status !== "failed") delete next.error;
    this.#snapshot = next;
    for (const listener of this.#listeners) listener(next);
  }
}

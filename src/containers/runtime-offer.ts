import type { RuntimeInfo } from "#protocol";
import { offeredRuntimes, type RuntimeImages } from "../config/runtime-images.ts";
import { defaultCommandOf, entryFileOf } from "./entry-file.ts";
import type { ImageCatalog } from "./image-catalog.ts";

/** How long server:info waits for the engine's word on the images: an inspect takes milliseconds, a retried one seconds. */
const ASK_MS = 1_500;
/**
 * How long one reading of the images serves every server:info: any tenant may
 * ask server:info as often as it likes, and each reading costs one engine call
 * per runtime. A few seconds keep that to a trickle, whoever loops, while an
 * image built or removed shows within the same few seconds (and at once after
 * an engine outage: invalidate()).
 */
const FRESH_MS = 5_000;

type Catalog = Pick<ImageCatalog, "describe">;

/**
 * The runtimes this server offers, as `server:info` tells them: each one's
 * image, and — read from the engine, in parallel — whether it has the
 * image, the entry file and the default command. A runtime the operator
 * turned off (`BERTH_RUNTIME_IMAGES=python=`) is not listed. An engine that
 * cannot be asked makes `available` null, never a failed `server:info` (a
 * client reads it at connect, when the engine's state is none of its
 * business yet), and neither is an engine slower than ASK_MS: the client's
 * connect waits for it.
 *
 * @example await describeRuntimes(catalog, config.runtimeImages)
 *   // → [{ name: "node", image: "berth/runtime-node:24", entry: "index.js", command: ["node", "index.js"], available: true }, …]
 */
export function describeRuntimes(images: Catalog, runtimeImages: RuntimeImages): Promise<RuntimeInfo[]> {
  return Promise.all(
    offeredRuntimes(runtimeImages).map(async (name): Promise<RuntimeInfo> => {
      const image = runtimeImages[name] as string; // offered: it has one
      try {
        const found = await bounded(images.describe(image), ASK_MS);
        if (!found) return { name, image, entry: null, command: null, available: false };
        const command = defaultCommandOf(found);
        return {
          name,
          image,
          entry: entryFileOf(found) ?? null,
          command: command.length > 0 ? command : null,
          available: true,
        };
      } catch {
        return { name, image, entry: null, command: null, available: null };
      }
    }),
  );
}

export interface RuntimeOfferOptions {
  /** How long a reading stays fresh; default FRESH_MS. */
  freshMs?: number;
  /** The clock (ms); default Date.now. */
  now?: () => number;
}

/**
 * describeRuntimes() for server:info, read at most once per FRESH_MS: every
 * caller in between — and every caller while a reading is under way — gets
 * that one reading, so that no number of server:info calls makes more than
 * one engine call per runtime image in that time.
 *
 * @example
 *   const offer = new RuntimeOffer(catalog, config.runtimeImages);
 *   engine.on("up", () => offer.invalidate());
 *   const runtimes = await offer.runtimes();
 */
export class RuntimeOffer {
  readonly #images: Catalog;
  readonly #runtimeImages: RuntimeImages;
  readonly #freshMs: number;
  readonly #now: () => number;
  #reading: { runtimes: Promise<RuntimeInfo[]>; readAt?: number } | undefined;

  constructor(images: Catalog, runtimeImages: RuntimeImages, options: RuntimeOfferOptions = {}) {
    this.#images = images;
    this.#runtimeImages = runtimeImages;
    this.#freshMs = options.freshMs ?? FRESH_MS;
    this.#now = options.now ?? Date.now;
  }

  /** The runtimes as last read, or as read now when that reading is older than FRESH_MS. */
  runtimes(): Promise<RuntimeInfo[]> {
    const last = this.#reading;
    // Under way (no readAt yet), or fresh: shared.
    if (last && (last.readAt === undefined || this.#now() - last.readAt < this.#freshMs))
      return last.runtimes;
    const reading: { runtimes: Promise<RuntimeInfo[]>; readAt?: number } = {
      runtimes: describeRuntimes(this.#images, this.#runtimeImages),
    };
    this.#reading = reading;
    // describeRuntimes never rejects: its freshness starts when its answer is in.
    void reading.runtimes.then(() => {
      reading.readAt = this.#now();
    });
    return reading.runtimes;
  }

  /** Forgets the last reading (the engine came back, an image may have changed): the next call reads again. */
  invalidate(): void {
    this.#reading = undefined;
  }
}

/** `promise`, or a rejection after `ms`; the timer is cleared either way. */
async function bounded<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

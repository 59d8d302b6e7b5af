import { RUNTIMES, type Runtime, type RuntimeInfo } from "#protocol";
import { defaultCommandOf, entryFileOf } from "./entry-file.ts";
import type { ImageCatalog } from "./image-catalog.ts";

/** How long server:info waits for the engine's word on the images: an inspect takes milliseconds, a retried one seconds. */
const ASK_MS = 1_500;

/**
 * The runtimes this server offers, as `server:info` tells them: each one's
 * image, and — read from the engine now, in parallel — whether it has the
 * image, the entry file and the default command. An engine that cannot be
 * asked makes `available` null, never a failed `server:info` (a client reads
 * it at connect, when the engine's state is none of its business yet), and
 * neither is an engine slower than ASK_MS: the client's connect waits for it.
 *
 * @example await describeRuntimes(catalog, config.runtimeImages)
 *   // → [{ name: "node", image: "berth/runtime-node:24", entry: "index.js", command: ["node", "index.js"], available: true }, …]
 */
export function describeRuntimes(
  images: Pick<ImageCatalog, "describe">,
  runtimeImages: Readonly<Record<Runtime, string>>,
): Promise<RuntimeInfo[]> {
  return Promise.all(
    RUNTIMES.map(async (name): Promise<RuntimeInfo> => {
      const image = runtimeImages[name];
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

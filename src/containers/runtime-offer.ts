import { RUNTIMES, type Runtime, type RuntimeInfo } from "#protocol";
import { defaultCommandOf, entryFileOf } from "./entry-file.ts";
import type { ImageCatalog } from "./image-catalog.ts";

/**
 * The runtimes this server offers, as `server:info` tells them: each one's
 * image, and — read from the engine now, in parallel — whether it has the
 * image, the entry file and the default command. An engine that cannot be
 * asked makes `available` null, never a failed `server:info` (a client reads
 * it at connect, when the engine's state is none of its business yet).
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
        const found = await images.describe(image);
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

import { z } from "zod";
import { ConfigError } from "../config-error.ts";
import { type EnvOf, envList } from "../env-values.ts";
import { parseRuntimeImages, type RuntimeImages } from "../runtime-images.ts";

/** The images workloads run in: each runtime's, and the others an owner may name. */
export const ImageEnv = {
  // Left unset rather than defaulted: parseRuntimeImages must tell "not said" from "said", to refuse a contradiction.
  BERTH_DEFAULT_IMAGE: z.string().min(1).max(255).optional(),
  BERTH_RUNTIME_IMAGES: envList,
  BERTH_ALLOWED_IMAGES: envList,
};

export interface ImageConfig {
  /** The image of a spec that names neither `runtime` nor `image`: the node runtime's. */
  readonly defaultImage: string;
  /** Each offered runtime's image (BERTH_RUNTIME_IMAGES, with BERTH_DEFAULT_IMAGE as node's); a runtime turned off has none. */
  readonly runtimeImages: RuntimeImages;
  /** BERTH_ALLOWED_IMAGES and every runtime's image. */
  readonly allowedImages: readonly string[];
}

export function imageConfig(e: EnvOf<typeof ImageEnv>): ImageConfig {
  const runtimes = parseRuntimeImages(e.BERTH_RUNTIME_IMAGES, e.BERTH_DEFAULT_IMAGE);
  if (!runtimes.ok) throw ConfigError.invalid(runtimes.problem);
  const runtimeImages = runtimes.images;
  return {
    defaultImage: runtimeImages.node,
    runtimeImages,
    // Every runtime's image is allowed: a spec naming a runtime must never be refused for an image it did not name.
    allowedImages: Object.freeze([...new Set([...Object.values(runtimeImages), ...e.BERTH_ALLOWED_IMAGES])]),
  };
}

import type { Runtime } from "#protocol";
import type { Config } from "../config/config.ts";
import { offeredRuntimes } from "../config/runtime-images.ts";
import { ValidationError } from "../errors/errors.ts";
import { ImageIncompatibleError } from "./image-catalog.ts";
import type { BerthImageLabels } from "./image-labels.ts";

type Choice = { runtime?: Runtime; image?: string };
type RuntimeConfig = Pick<Config, "runtimeImages">;

/**
 * The image a spec runs, before the engine is asked anything: the one it
 * names, else its runtime's (BERTH_RUNTIME_IMAGES), else the node runtime's
 * (BERTH_DEFAULT_IMAGE). A spec naming a runtime the operator turned off
 * (`BERTH_RUNTIME_IMAGES=python=`) is VALIDATION_FAILED, with or without an
 * image: the server does not offer that runtime at all.
 *
 * @example imageOfSpec({ runtime: "python" }, config) // → "berth/runtime-python:3.11"
 */
export function imageOfSpec(spec: Choice, config: RuntimeConfig): string {
  const runtime = spec.runtime ?? "node";
  const image = config.runtimeImages[runtime];
  if (image === undefined) {
    const offered = offeredRuntimes(config.runtimeImages);
    throw new ValidationError(
      `This server does not offer the ${runtime} runtime (its operator turned it off); the runtimes it offers: ${offered.join(", ")}.`,
      { details: { field: "runtime", runtime, offered } },
    );
  }
  return spec.image ?? image;
}

/**
 * The runtime a container runs, once its image's labels are known; throws
 * when the spec's runtime and image disagree. The table, for a spec with:
 * - neither: the default image's label, else `node` (the image is configured as node's);
 * - `runtime` only: that runtime — IMAGE_INCOMPATIBLE if the server's image
 *   for it is labelled as another (the operator's configuration is wrong);
 * - `image` only: the image's label, else the runtime the server configured
 *   the image for, else none (a custom image that says nothing);
 * - both: that runtime, if the image's label says so — or, for an image
 *   without the label, if it is the server's image for that runtime (berth's
 *   images from before labels); anything else is VALIDATION_FAILED naming both.
 */
export function runtimeOfImage(
  spec: Choice,
  image: string,
  labels: BerthImageLabels,
  config: RuntimeConfig,
): Runtime | undefined {
  const configured = configuredRuntime(image, config);
  const says = labels.runtime ?? configured;
  if (spec.runtime === undefined) return spec.image === undefined ? (says ?? "node") : says;
  if (says === spec.runtime) return says;
  if (spec.image === undefined) {
    throw new ImageIncompatibleError(
      image,
      `The server's image for the ${spec.runtime} runtime, '${image}', is labelled berth.runtime=${says}; the server's operator must correct BERTH_RUNTIME_IMAGES (or rebuild the image).`,
      { runtime: spec.runtime, imageRuntime: says ?? null },
    );
  }
  const what =
    says === undefined
      ? "does not say which runtime it is for (it has no berth.runtime label)"
      : `is a ${says} image (its berth.runtime label)`;
  throw new ValidationError(
    `The runtime '${spec.runtime}' and the image '${image}' disagree: the image ${what}. Leave out image to run the server's ${spec.runtime} image (${config.runtimeImages[spec.runtime]}), or leave out runtime to run this image as it is.`,
    { details: { field: "runtime", runtime: spec.runtime, image, imageRuntime: says ?? null } },
  );
}

/** The runtime whose configured image is `image`, if any. */
function configuredRuntime(image: string, config: RuntimeConfig): Runtime | undefined {
  const entry = Object.entries(config.runtimeImages).find(([, i]) => i === image);
  return entry?.[0] as Runtime | undefined;
}

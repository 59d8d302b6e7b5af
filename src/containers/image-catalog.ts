import type { Runtime } from "#protocol";
import { PROTOCOL_VERSION } from "../channel/protocol.ts";
import type { DockerClient, ImageFacts } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { type BerthImageLabels, readImageLabels } from "./image-labels.ts";

/** The images berth builds for itself (scripts/setup.mjs), and the command that builds them. */
const BERTH_RUNTIME_IMAGE = /^berth\/runtime-(node|python)(:|$)/;
/** Distinct malformed labels warned about; past it, no more are remembered (nor warned about). */
const MAX_WARNED = 1024;

/** How an operator makes `image` present on the engine, in words for a log line or a message. */
export function howToBuild(image: string): string {
  if (BERTH_RUNTIME_IMAGE.test(image))
    return "run `npm run setup` in berth's directory, which builds it offline";
  return `build it on the engine's host (\`docker build -t ${image} …\`, or \`docker import ROOTFS.tar ${image}\` where no registry can be reached), or pull it where one can`;
}

/** An allowed image that the engine does not have: nothing was created, and nothing will be until it is built. */
export class ImageNotFoundError extends BerthError {
  constructor(image: string) {
    super(
      "IMAGE_NOT_FOUND",
      `The image '${image}' is allowed on this server but not present on its container engine; the server's operator must build it (${howToBuild(image)}), then the same request succeeds.`,
      { details: { image } },
    );
  }
}

/**
 * An image whose workload SDK speaks a channel protocol berth does not
 * (`berth.protocol`), or a runtime image that the operator configured for a
 * runtime its `berth.runtime` label denies: nothing was created, since the
 * workload could never say hello. The operator's to fix, not the client's.
 */
export class ImageIncompatibleError extends BerthError {
  constructor(image: string, message: string, details: Record<string, unknown> = {}) {
    super("IMAGE_INCOMPATIBLE", message, { details: { image, ...details } });
  }
}

/** An image as berth runs it: the engine's facts, and berth's labels on it (checked). */
export interface CatalogImage {
  image: string;
  facts: ImageFacts;
  labels: BerthImageLabels;
}

/**
 * What berth knows of the images it may run: whether the engine has them,
 * the command each runs by default and what its labels say. Asked at every
 * create (one inspect, a few milliseconds) rather than cached, so that an
 * image built or removed while berth runs counts at once.
 */
export class ImageCatalog {
  readonly #docker: DockerClient;
  readonly #log: SystemLogger | undefined;
  readonly #warned = new Set<string>();

  /** `log` hears of a malformed label once per image, label and value. */
  constructor(docker: DockerClient, log?: SystemLogger) {
    this.#docker = docker;
    this.#log = log?.child({ component: "ImageCatalog" });
  }

  /**
   * The image and its labels; IMAGE_NOT_FOUND when the engine has no such
   * image, IMAGE_INCOMPATIBLE when its SDK speaks a protocol berth does not.
   */
  async require(image: string): Promise<CatalogImage> {
    const found = await this.describe(image);
    if (!found) throw new ImageNotFoundError(image);
    const { protocol } = found.labels;
    if (protocol !== undefined && protocol !== PROTOCOL_VERSION) {
      throw new ImageIncompatibleError(
        image,
        `The image '${image}' carries a workload SDK that speaks channel protocol ${protocol} (its berth.protocol label), and this server speaks ${PROTOCOL_VERSION}: its workloads could never connect. The server's operator must rebuild the image with a matching SDK${BERTH_RUNTIME_IMAGE.test(image) ? " (`npm run setup`)" : ""}, or upgrade berth.`,
        { protocol, supported: [PROTOCOL_VERSION] },
      );
    }
    return found;
  }

  /** The image and its labels, or undefined when the engine has no such image. */
  async describe(image: string): Promise<CatalogImage | undefined> {
    const facts = await this.#docker.inspectImage(image);
    if (!facts) return undefined;
    const labels = readImageLabels(facts.labels, ({ label, reason }) => {
      const key = `${image}\u0000${label}\u0000${facts.labels[label]}`;
      if (this.#warned.has(key) || this.#warned.size >= MAX_WARNED) return;
      this.#warned.add(key);
      // The operator's log only: a label is the image builder's text, never shown to a client.
      this.#log?.warn(
        { image, label, reason },
        "an image has a malformed berth label; berth ignores it, as if the image did not carry it",
      );
    });
    return { image, facts, labels };
  }

  /**
   * Checks every image in `images` and logs each missing one with how to
   * build it, and each of `runtimes`' images whose labels say it is for
   * another runtime (or speaks another protocol); berth keeps serving
   * (creates that need one answer IMAGE_NOT_FOUND or IMAGE_INCOMPATIBLE).
   * Never throws: it runs whenever the engine comes back.
   */
  async report(
    images: readonly string[],
    log: SystemLogger,
    runtimes: Readonly<Partial<Record<Runtime, string>>> = {},
  ): Promise<string[]> {
    const missing: string[] = [];
    for (const image of images) {
      try {
        const found = await this.describe(image);
        if (found) {
          const runtime = Object.entries(runtimes).find(([, i]) => i === image)?.[0];
          const { labels } = found;
          if (runtime !== undefined && labels.runtime !== undefined && labels.runtime !== runtime) {
            log.warn(
              { image, runtime, imageRuntime: labels.runtime },
              "a runtime's image is labelled for another runtime; creates with that runtime answer IMAGE_INCOMPATIBLE until BERTH_RUNTIME_IMAGES is corrected",
            );
          }
          if (labels.protocol !== undefined && labels.protocol !== PROTOCOL_VERSION) {
            log.warn(
              { image, protocol: labels.protocol, supported: PROTOCOL_VERSION },
              "an allowed image's workload SDK speaks another channel protocol; creates with it answer IMAGE_INCOMPATIBLE until it is rebuilt",
            );
          }
          continue;
        }
        missing.push(image);
        log.warn(
          { image, fix: howToBuild(image) },
          "an allowed image is missing from the engine; creates that need it answer IMAGE_NOT_FOUND until it is built",
        );
      } catch (err) {
        log.warn(
          { err, image },
          "could not check an allowed image; it is checked again when the engine comes back",
        );
        return missing;
      }
    }
    return missing;
  }
}

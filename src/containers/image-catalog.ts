import type { DockerClient, ImageFacts } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import type { SystemLogger } from "../logging/system-logger.ts";

/** The image berth builds for itself (scripts/setup.mjs), and the command that builds it. */
const BERTH_RUNTIME_IMAGE = /^berth\/runtime-node(:|$)/;

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
 * What berth knows of the images it may run: whether the engine has them,
 * and the command each runs by default. Asked at every create (one inspect,
 * a few milliseconds) rather than cached, so that an image built or removed
 * while berth runs counts at once.
 */
export class ImageCatalog {
  readonly #docker: DockerClient;

  constructor(docker: DockerClient) {
    this.#docker = docker;
  }

  /** The image's facts; IMAGE_NOT_FOUND when the engine has no such image. */
  async require(image: string): Promise<ImageFacts> {
    const facts = await this.#docker.inspectImage(image);
    if (!facts) throw new ImageNotFoundError(image);
    return facts;
  }

  /** The image's facts, or undefined when the engine has no such image. */
  facts(image: string): Promise<ImageFacts | undefined> {
    return this.#docker.inspectImage(image);
  }

  /**
   * Checks every image in `images` and logs each missing one with how to
   * build it; berth keeps serving (creates that need one answer
   * IMAGE_NOT_FOUND). Never throws: it runs whenever the engine comes back.
   */
  async report(images: readonly string[], log: SystemLogger): Promise<string[]> {
    const missing: string[] = [];
    for (const image of images) {
      try {
        if (await this.#docker.inspectImage(image)) continue;
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

import type { CallOptions } from "./call-options.ts";
import type { ClientCore } from "./client-core.ts";
import type { CodeUpload, ImageCheckResult } from "./protocol/index.ts";

/** `client.images`: what the server's admin can learn about images on berth's engine. */
export class Images {
  readonly #core: ClientCore;

  constructor(core: ClientCore) {
    this.#core = core;
  }

  /**
   * Checks whether berth can run workloads in `image` — allowed or not yet —
   * by running a throwaway container from it with berth's hardening and a
   * probe (or `code`, needed for an image without a `berth.runtime` label)
   * that must connect and answer one request. Resolves with every check,
   * passed or not (`ok` when all passed); the admin's only — an owner's
   * client gets FORBIDDEN. It takes as long as the workload needs to
   * connect, at most about 15 s plus the container's start.
   *
   * @example
   *   const result = await berth.images.check("acme/bot:1", { code: await codeFromDirectory("./bot") });
   *   for (const c of result.checks) console.log(c.name, c.status, c.summary, c.fix ?? "");
   */
  check(image: string, options: { code?: CodeUpload } & CallOptions = {}): Promise<ImageCheckResult> {
    const { code, timeoutMs, signal } = options;
    return this.#core.call("image:check", code === undefined ? { image } : { image, code }, {
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
      ...(signal ? { signal } : {}),
    });
  }
}

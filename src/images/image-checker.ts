import type { CodeUpload, ImageCheckResult } from "#protocol";
import type { ChannelPort } from "../channel/channel-port.ts";
import type { CodeEntryList } from "../code/code-entry.ts";
import { readCode } from "../code/read-code.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";
import { newContainerId } from "../containers/container-id.ts";
import type { UidClaims } from "../containers/uid-claims.ts";
import { UndoStack } from "../containers/undo-stack.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { DockerUnavailableError, ShuttingDownError } from "../errors/errors.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { ImageCheckReport } from "./image-check-report.ts";
import { checkImageConfig } from "./image-config-checks.ts";
import { runThrowaway } from "./throwaway-run.ts";
import { LocalThrowawaySite, type ThrowawaySite } from "./throwaway-site.ts";

/**
 * How long the workload has to connect: long enough for an interpreter to
 * start on a busy host (Python imports, a Node.js cold start take well under
 * a second here), short enough that an operator waits for the answer.
 */
const CONNECT_TIMEOUT_MS = 15_000;

export interface ImageCheckerOptions {
  config: Config;
  /** One host's engine and files: where checks run unless a `site` is given. */
  docker: DockerClient;
  files: WorkloadFiles;
  /** Where checks run, when not on berth's own engine (cluster mode: a node placed for each check). */
  site?: ThrowawaySite | undefined;
  instanceId: string;
  /** The uids berth hands out (shared with creates): a check runs as a uid of its own, held until it ends. */
  uids: Pick<UidClaims, "claim">;
  log: SystemLogger;
  /** Default 15 s, and never more than BERTH_READY_TIMEOUT_MS. */
  connectTimeoutMs?: number;
}

export interface CheckRequest {
  image: string;
  code?: CodeUpload | undefined;
}

interface Running {
  uid: number;
  hub?: ChannelPort;
  done: Promise<unknown>;
}

/**
 * Tells an operator whether berth can run workloads in an image, and what is
 * missing, by doing what berth does: it reads the image's command and labels
 * (image-config-checks.ts), then runs a throwaway container from it with
 * exactly berth's hardening and a probe — or the caller's code — as its
 * code, waits (bounded) for the workload to connect over berth's own channel
 * code, and sends it one request (throwaway-run.ts).
 *
 * The container, its socket and its code directory are removed on every
 * path, and by close() for checks under way at shutdown; they carry berth's
 * labels and a container id, so that a berth killed during a check removes
 * them at its next reconciliation, as any orphan — once the check's time,
 * written on the container (`berth.check-until`), is up: until then no
 * reconciliation takes a check under way for an orphan. Where the check runs
 * is its `site`'s: berth's own engine, or in cluster mode a node placed for
 * it (ThrowawaySite).
 *
 * @example
 *   const result = await checker.check(actor, { image: "acme/bot:1" }, redactor);
 *   for (const c of result.checks) console.log(c.name, c.status, c.summary);
 */
export class ImageChecker {
  readonly #o: ImageCheckerOptions;
  readonly #site: ThrowawaySite;
  readonly #log: SystemLogger;
  readonly #connectTimeoutMs: number;
  /** Checks under way: their uids (taken while they run) and their channel hubs (closed at shutdown). */
  readonly #running = new Map<string, Running>();
  #closed = false;

  constructor(options: ImageCheckerOptions) {
    this.#o = options;
    this.#site = options.site ?? new LocalThrowawaySite(options.config, options.docker, options.files);
    this.#log = options.log.child({ component: "ImageChecker" });
    this.#connectTimeoutMs = Math.min(
      options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
      options.config.readyTimeoutMs,
    );
  }

  /**
   * Checks `image` (allowed or not); code over berth's limits, or a bad path
   * in it, is VALIDATION_FAILED before anything is made. `redactor` is the
   * caller's: the workload's output is shown as berth shows it to them.
   */
  async check(actor: Actor, request: CheckRequest, redactor: Redactor): Promise<ImageCheckResult> {
    if (this.#closed) throw new ShuttingDownError();
    const { config } = this.#o;
    const given = request.code
      ? readCode(request.code, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles })
      : undefined;
    const id = newContainerId();
    // Held from the moment it is chosen until the check ends (its container removed): no
    // create or other check choosing meanwhile takes the same one.
    const claim = await this.#o.uids.claim();
    const running: Running = { uid: claim.uid, done: Promise.resolve() };
    const run = this.#check(actor, request.image, given, id, running, redactor);
    running.done = run.catch(() => undefined);
    this.#running.set(id, running);
    try {
      return await run;
    } catch (err) {
      // Cut short by close(): the channel it waited on was closed under it, which says nothing of the image.
      if (this.#closed) throw new ShuttingDownError();
      throw err;
    } finally {
      this.#running.delete(id);
      claim.release();
    }
  }

  /** Refuses new checks, ends those under way (their clean-up runs) and waits for them. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    const running = [...this.#running.values()];
    await Promise.all(running.map((r) => r.hub?.closeAll()));
    await Promise.all(running.map((r) => r.done));
  }

  async #check(
    actor: Actor,
    image: string,
    given: CodeEntryList | undefined,
    id: string,
    running: Running,
    redactor: Redactor,
  ): Promise<ImageCheckResult> {
    const report = new ImageCheckReport(image, this.#o.config.allowedImages.includes(image), redactor);
    const log = this.#log.child({ checkId: id, op: "image check" });
    log.info({ image }, "checking image");
    const site = this.#site;
    const toRun = await checkImageConfig(site.docker, image, given, report);
    if (toRun) {
      const undo = new UndoStack();
      let placed = false;
      let failure: { err: unknown } | undefined;
      try {
        // Placed like a workload (a cluster: a ready node with room), before anything is made for it.
        await site.place(id);
        placed = true;
        const hub = site.channel(log);
        running.hub = hub;
        await runThrowaway({
          ...this.#o,
          docker: site.docker,
          files: site.files,
          hub,
          id,
          uid: running.uid,
          owner: actor.owner,
          image,
          toRun,
          connectTimeoutMs: this.#connectTimeoutMs,
          report,
          redactor,
          undo,
          log,
          closed: () => this.#closed,
        });
      } catch (err) {
        failure = { err };
      }
      // Judged before the clean-up: a node lost under the check (its agent gone) says nothing of the image.
      const lost = placed && !site.reachable(id);
      const all = await undo.unwind(log);
      if (placed) site.end(id, !all);
      if (lost && !this.#closed) {
        throw new DockerUnavailableError({
          details: { op: "image check" },
          cause: new Error("the node the check ran on could not be reached any more"),
        });
      }
      if (failure) throw failure.err;
    }
    const result = report.result();
    log.info(
      {
        image,
        ok: result.ok,
        failed: result.checks.filter((c) => c.status === "failed").map((c) => c.name),
        ms: result.ms,
      },
      "checked image",
    );
    return result;
  }
}

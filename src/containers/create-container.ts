import type { ContainerInfo, CreatedContainer, CreateStep } from "#protocol";
import { admit } from "../admission/admission.ts";
import { readCode } from "../code/read-code.ts";
import { codeBytes, releaseStats } from "../code/release-stats.ts";
import { NameConflictError, NotFoundError } from "../errors/errors.ts";
import type { StepTimer } from "../progress/step-timer.ts";
import { NameTakenError } from "../store/store-errors.ts";
import type { ContainerRecord } from "../store/store-ports.ts";
import type { Actor } from "./actor.ts";
import { buildCreateBody } from "./container-config.ts";
import { type ContainerSpec, toStoredSpec } from "./container-spec.ts";
import { requireEntryFile } from "./entry-file.ts";
import { ImageNotFoundError } from "./image-catalog.ts";
import type { LifecycleContext } from "./lifecycle-context.ts";
import { awaitReady, filteredNetwork } from "./process-steps.ts";
import { keepReleaseContent } from "./release-content.ts";
import { releaseOwnerNetwork } from "./release-owner-network.ts";
import { imageOfSpec, runtimeOfImage } from "./runtime-choice.ts";
import { checkSpecLimits } from "./spec-limits.ts";
import type { UidClaims } from "./uid-claims.ts";
import { UndoStack } from "./undo-stack.ts";

/**
 * The create path: validate the spec and its code, check the image, then — in
 * the new container's turn, admitted — store its row with a free uid, lay out
 * its files and socket, make the engine container and start it. Each step
 * records how to undo what it made, so a failure half-way leaves nothing
 * behind and the caller gets the original error.
 */
export async function createContainer(
  ctx: LifecycleContext,
  uids: UidClaims,
  actor: Actor,
  spec: ContainerSpec,
  id: string,
  timer: StepTimer<CreateStep>,
): Promise<CreatedContainer> {
  const { config, repo, docker, files, secrets } = ctx.options;
  timer.start("validate");
  const image = imageOfSpec(spec, config);
  checkSpecLimits(spec, image, config);
  // Files or an archive, with the same checks and limits as an update; nothing is written if any entry is bad.
  const entries = spec.code
    ? readCode(spec.code, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles })
    : undefined;

  const existing = await repo.getByName(actor.owner, spec.name);
  if (existing) throw new NameConflictError(spec.name, existing.id);
  // Before anything is made: a missing or incompatible image, a runtime the image is not for, or code
  // its default command cannot run, fails here.
  const found = await ctx.images.require(image);
  const runtime = runtimeOfImage(spec, image, found.labels, config);
  if (entries && !spec.command) requireEntryFile(entries, found, runtime);
  const stored = toStoredSpec(spec);
  // Kept as resolved, so that the container shows what it runs whatever the spec said.
  if (runtime !== undefined) stored.runtime = runtime;
  else delete stored.runtime;

  const log = ctx.log.child({ containerId: id, op: "create" });
  const undo = new UndoStack();
  log.info({ name: spec.name, image, runtime }, "creating container");
  return ctx.queue.run(id, "create", async () => {
    let startedAt: number | undefined;
    let networkName: string | undefined;
    // Released once the store records the outcome (or the create is undone): counted once, never twice or not at all.
    const admitted = await admit(
      ctx.admission,
      actor.owner,
      !actor.admin,
      (a) =>
        a.reserveCreate(actor.owner, id, {
          resources: spec.resources,
          starts: spec.start !== false,
          codeBytes: entries ? codeBytes(entries) : 0,
        }),
      async () => {
        // Single host: before anything is stored. Cluster mode: once placed, on that node (below).
        if (spec.network === "outbound" && !ctx.options.networks)
          networkName = await filteredNetwork(ctx, actor.owner, id);
      },
    );
    const record: ContainerRecord = {
      id,
      owner: actor.owner,
      name: spec.name,
      image,
      spec: stored,
      dockerId: null,
      dockerName: `berth-${id}`,
      state: "created",
      health: "none",
      uid: 0, // chosen as it is stored (insertWithFreeUid)
      createdAt: Date.now(),
      startedAt: null,
      exitCode: null,
      release: entries ? 1 : null,
      restartCount: 0,
    };
    try {
      timer.start("write");
      try {
        await uids.insertWithFreeUid(record);
      } catch (err) {
        if (!(err instanceof NameTakenError)) throw err;
        // A create of the same name that stored its row first (after the check above): NAME_CONFLICT, as then.
        const taken = await repo.getByName(actor.owner, spec.name);
        if (taken) throw new NameConflictError(spec.name, taken.id);
        throw err;
      }
      undo.push("delete row", () => repo.delete(id)); // and with it the placement, should there be one
      const generation = (
        await ctx.options.placement?.place(id, spec.resources, { egressFilter: spec.network === "outbound" })
      )?.generation;
      if (spec.network === "outbound" && ctx.options.networks) {
        const nodeId = await ctx.options.networks.nodeOf(id);
        networkName = await filteredNetwork(ctx, actor.owner, id);
        undo.push("release the owner's network", () => releaseOwnerNetwork(ctx, actor.owner, nodeId, id));
      }
      secrets.addEnvironment(actor.owner, spec.env, spec.secretEnv);
      undo.push("forget secrets", () => secrets.removeEnvironment(actor.owner, spec.env, spec.secretEnv));

      await files.layOut(id, entries, undo);
      // Its row once its files are there (the code quota counts the row); the container's row, deleted
      // by the undo above, takes its release rows with it.
      if (entries)
        await ctx.options.releases.insert({
          containerId: id,
          number: 1,
          status: "active",
          createdAt: record.createdAt,
          createdBy: actor.owner,
          ...releaseStats(entries),
          ...(await keepReleaseContent(ctx.options.releaseContents, entries)),
        });
      undo.push("close channel", () => ctx.options.channel.close(id));
      await ctx.options.channel.open(id, { uid: record.uid, gid: record.uid });

      timer.start("create");
      const dockerId = await docker
        .createContainer(
          buildCreateBody({
            id,
            owner: actor.owner,
            instanceId: ctx.options.instanceId,
            uid: record.uid,
            spec: record.spec,
            image,
            socketDir: files.socketDir(id),
            codeDir: files.codeDir(id),
            hasCode: entries !== undefined,
            networkName,
            config,
            generation,
          }),
        )
        .catch((err: unknown) => {
          // The engine's 404 on a create is its image (removed since the check above).
          if (err instanceof NotFoundError) throw new ImageNotFoundError(image);
          throw err;
        });
      undo.push("remove engine container", () => docker.removeContainer(dockerId));
      record.dockerId = dockerId;
      startedAt = Date.now();
      if (spec.start !== false) {
        timer.start("start");
        await docker.startContainer(dockerId);
      }
      // Stored once the engine container is made and started, before its state is: a row
      // without it is a create that a crash cut half-way, which the next start undoes (reconciler).
      await repo.update(id, { dockerId });
      timer.done();
    } catch (err) {
      timer.fail();
      log.warn({ err }, "create failed; cleaning up");
      await undo.unwind(log);
      admitted.release();
      throw err;
    }
    try {
      log.info("created container");
      ctx.states.announce(record, "new", "created");
      // Recorded running before the reservation goes: from then on the quota counts it from the store.
      if (spec.start !== false)
        await ctx.states.write(record, "running", "started", "operation", {
          startedAt: Date.now(),
          exitCode: null,
        });
    } finally {
      admitted.release();
    }
    if (spec.start === false) return created(ctx.info(record), timer);
    // From here on the container exists: a workload that is not ready is the owner's to inspect, fix or delete.
    if (spec.waitReady !== false) await timer.time("ready", () => awaitReady(ctx, record, startedAt));
    return created(ctx.info(record), timer);
  });
}

/** The create's answer: the container and its steps' timings (0 for a step that did not run). */
function created(info: ContainerInfo, timer: StepTimer<CreateStep>): CreatedContainer {
  return { ...info, timings: timer.report(["validate", "write", "create", "start", "ready"]) };
}

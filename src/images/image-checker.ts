import { mkdir, rm } from "node:fs/promises";
import type { CodeUpload, ImageCheckResult } from "#protocol";
import { SocketCommunicationHandler } from "../channel/socket-communication-handler.ts";
import type { Config } from "../config/config.ts";
import type { Actor } from "../containers/actor.ts";
import { buildCreateBody, CODE_DIR_IN_CONTAINER } from "../containers/container-config.ts";
import { newContainerId } from "../containers/container-id.ts";
import type { ContainerPaths } from "../containers/container-paths.ts";
import { entryFileOf } from "../containers/entry-file.ts";
import { howToBuild } from "../containers/image-catalog.ts";
import { NotReadyError, waitUntilReady } from "../containers/readiness.ts";
import { allocateUid } from "../containers/spec-limits.ts";
import { UndoStack } from "../containers/undo-stack.ts";
import type { DockerClient, ImageFacts } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import { ShuttingDownError } from "../errors/errors.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import { asStorageError } from "../store/storage-guard.ts";
import type { CodeEntryList } from "../updates/code-entry.ts";
import { readCode } from "../updates/read-code.ts";
import { switchRelease } from "../updates/release-pointer.ts";
import { writeReleaseEntries } from "../updates/write-release-entries.ts";
import { ImageCheckReport } from "./image-check-report.ts";
import { readBerthLabels } from "./image-labels.ts";
import { isProbeAnswer, PROBE_MARK, probeCode } from "./image-probes.ts";

/** Where the workload's code is: the read-only code mount's current release, berth's working directory. */
export const CHECK_WORKDIR = `${CODE_DIR_IN_CONTAINER}/current`;

/**
 * How long the workload has to connect: long enough for an interpreter to
 * start on a busy host (Python imports, a Node.js cold start take well under
 * a second here), short enough that an operator waits for the answer.
 */
const CONNECT_TIMEOUT_MS = 15_000;
/** The one request's timeout: the probe answers at once. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Lines of output shown when the check fails after the start. */
const OUTPUT_LINES = 20;

export interface ImageCheckerOptions {
  config: Config;
  docker: DockerClient;
  paths: ContainerPaths;
  instanceId: string;
  /** Whether a container of the store already runs as this uid: a check runs as a uid of its own. */
  isUidTaken: (uid: number) => boolean;
  log: SystemLogger;
  /** Default 15 s, and never more than BERTH_READY_TIMEOUT_MS. */
  connectTimeoutMs?: number;
}

export interface ImageCheckRequest {
  image: string;
  code?: CodeUpload | undefined;
}

/**
 * Tells an operator whether berth can run workloads in an image, and what is
 * missing, by doing what berth does: it reads the image's command and labels,
 * then runs a throwaway container from it with exactly berth's hardening
 * (buildCreateBody: its own uid, read-only root, no capabilities, no network,
 * the socket and code directories mounted as for any workload) and a probe —
 * or the caller's code — as its code, waits (bounded) for the workload to
 * connect over berth's own channel code, and sends it one request.
 *
 * The container, its socket and its code directory are removed on every path
 * (they carry berth's labels and a container id, so a berth that died during
 * a check removes them at its next reconciliation, as any orphan).
 *
 * @example
 *   const result = await checker.check(actor, { image: "acme/bot:1" }, redactor);
 *   for (const c of result.checks) console.log(c.name, c.status, c.summary);
 */
export class ImageChecker {
  readonly #o: ImageCheckerOptions;
  readonly #log: SystemLogger;
  readonly #connectTimeoutMs: number;
  /** Checks under way: their uids (taken while they run) and their channel hubs (closed on shutdown). */
  readonly #running = new Map<
    string,
    { uid: number; hub?: SocketCommunicationHandler; done: Promise<unknown> }
  >();
  #closed = false;

  constructor(options: ImageCheckerOptions) {
    this.#o = options;
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
  async check(actor: Actor, request: ImageCheckRequest, redactor: Redactor): Promise<ImageCheckResult> {
    if (this.#closed) throw new ShuttingDownError();
    const { config } = this.#o;
    const given = request.code
      ? readCode(request.code, { maxBytes: config.maxCodeBytes, maxFiles: config.maxCodeFiles })
      : undefined;
    const id = newContainerId();
    const uid = allocateUid(
      config.uidRange,
      (u) => this.#o.isUidTaken(u) || [...this.#running.values()].some((r) => r.uid === u),
    );
    const entry: { uid: number; hub?: SocketCommunicationHandler; done: Promise<unknown> } = {
      uid,
      done: Promise.resolve(),
    };
    const run = this.#check(actor, request.image, given, id, entry, redactor);
    entry.done = run.catch(() => undefined);
    this.#running.set(id, entry);
    try {
      return await run;
    } catch (err) {
      // Cut short by close(): the channel it waited on was closed under it, which says nothing of the image.
      if (this.#closed) throw new ShuttingDownError();
      throw err;
    } finally {
      this.#running.delete(id);
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
    entry: { uid: number; hub?: SocketCommunicationHandler },
    redactor: Redactor,
  ): Promise<ImageCheckResult> {
    const { config, docker } = this.#o;
    const report = new ImageCheckReport(image, config.allowedImages.includes(image));
    const log = this.#log.child({ checkId: id, op: "image check" });
    log.info({ image }, "checking image");

    const [facts, rawLabels] = await Promise.all([
      docker.inspectImage(image),
      docker.inspectImageLabels(image),
    ]);
    if (!facts || !rawLabels) {
      report.fail(
        "image",
        "The container engine has no such image (berth never pulls one).",
        `${howToBuild(image).replace(/^./, (c) => c.toUpperCase())}.`,
      );
      return finish(report, log);
    }
    report.pass("image", "present on the container engine");

    const labels = readBerthLabels(rawLabels);
    const command = [...facts.entrypoint, ...facts.cmd];
    if (labels.command && command.length > 0 && JSON.stringify(labels.command) !== JSON.stringify(command))
      labels.problems.push(
        `berth.command says ${JSON.stringify(labels.command)}, but the image runs ${JSON.stringify(command)}`,
      );
    if (labels.runtime) report.facts.runtime = labels.runtime;
    if (labels.problems.length > 0) {
      report.fail(
        "labels",
        labels.problems.join("; "),
        "Correct the LABELs in the image's Dockerfile (docs/images.md lists them), or leave out those berth should not read.",
      );
    } else {
      const found = Object.entries(rawLabels)
        .filter(([k, v]) => /^berth\.(runtime|entry|command|protocol)$/.test(k) && v !== "")
        .map(([k, v]) => `${k}=${v}`);
      report.pass(
        "labels",
        found.length > 0
          ? found.join(", ")
          : "none (a custom image: berth runs its own command, with the code a spec gives)",
      );
    }

    if (command.length === 0) {
      report.fail(
        "command",
        "The image has neither an ENTRYPOINT nor a CMD, so a workload without a `command` of its own has nothing to run.",
        'Give the image a command in exec form, e.g. CMD ["python3", "main.py"] (no shell needed).',
      );
      return finish(report, log);
    }
    report.pass("command", JSON.stringify(command));

    // The code: the caller's, else berth's probe for the image's runtime, else none (the image runs on its own).
    const entryFile = labels.entry ?? entryFileOf(facts);
    let code: CodeEntryList = [];
    if (given) {
      code = given;
      report.facts.code = "given";
    } else if (labels.runtime) {
      code = probeCode(labels.runtime, labels.entry);
      report.facts.code = "probe";
    }
    if (entryFile === undefined) {
      report.pass("entry", "the image names no entry file (no berth.entry label): nothing to check");
    } else if (code.some((e) => e.path === entryFile && e.kind !== "dir")) {
      report.pass("entry", `${entryFile} is in the ${report.facts.code === "probe" ? "probe" : "code"}`);
    } else {
      report.fail(
        "entry",
        `The image's command runs ${entryFile}, which the code ${report.facts.code === "none" ? "(none given)" : "given"} does not have.`,
        report.facts.code === "none"
          ? `Check it with code that has ${entryFile} (berth image check IMAGE --code DIR), or give the image a berth.runtime label so that berth's probe is used.`
          : `Add ${entryFile} to the code, or run a spec with a \`command\` that runs your entry file.`,
      );
    }

    const undo = new UndoStack();
    try {
      await this.#run(actor, image, facts, code, id, entry, report, redactor, undo, log);
    } finally {
      await undo.unwind(log);
    }
    return finish(report, log);
  }

  async #run(
    actor: Actor,
    image: string,
    facts: ImageFacts,
    code: CodeEntryList,
    id: string,
    entry: { uid: number; hub?: SocketCommunicationHandler },
    report: ImageCheckReport,
    redactor: Redactor,
    undo: UndoStack,
    log: SystemLogger,
  ): Promise<void> {
    const { config, docker, paths } = this.#o;
    const uid = entry.uid;
    const command = [...facts.entrypoint, ...facts.cmd];
    // The directories and the socket, laid out as berth lays out a container's (container-files.ts).
    try {
      undo.push("remove code", () => rm(paths.codeDir(id), { recursive: true, force: true }));
      await mkdir(paths.codeDir(id), { recursive: true, mode: 0o755 });
      await writeReleaseEntries(paths.releaseDir(id, 1), code);
      await switchRelease(paths.codeDir(id), 1);
      undo.push("remove socket directory", () => rm(paths.socketDir(id), { recursive: true, force: true }));
      await mkdir(paths.socketDir(id), { recursive: true, mode: 0o755 });
    } catch (err) {
      throw asStorageError(err);
    }
    // A hub of its own: the check's channel events must not reach the services that follow real containers.
    const hub = new SocketCommunicationHandler({
      runDir: config.runDir,
      maxFrameBytes: config.maxFrameBytes,
      maxRequestTimeoutMs: config.maxRequestTimeoutMs,
      log,
    });
    entry.hub = hub;
    undo.push("close channel", () => hub.closeAll());
    if (this.#closed) throw new ShuttingDownError();
    await hub.open(id, { uid, gid: uid });

    const body = buildCreateBody({
      id,
      owner: actor.owner,
      instanceId: this.#o.instanceId,
      uid,
      spec: { name: "image-check" },
      image,
      socketDir: paths.socketDir(id),
      codeDir: paths.codeDir(id),
      hasCode: true,
      networkName: undefined,
      config,
    });
    body.WorkingDir = CHECK_WORKDIR;
    body.Labels = { ...body.Labels, "berth.check": "image" };
    const hardening = `uid ${uid}:${uid}, read-only root, no capabilities, no network`;
    let dockerId: string;
    let startedAt: number;
    try {
      dockerId = await docker.createContainer(body);
      undo.push("remove engine container", () => docker.removeContainer(dockerId));
      startedAt = Date.now();
      await docker.startContainer(dockerId);
    } catch (err) {
      const reason = this.#engineReason(err, id, redactor);
      if (/chdir|cwd|working directory/i.test(reason)) {
        report.fail("start", `The engine could not start it: ${reason}`, "See the working directory check.");
        report.fail(
          "workdir",
          `The process could not enter ${CHECK_WORKDIR} as uid ${uid}.`,
          "berth mounts the code there, readable by any uid; make sure the image does not shadow /run/berth-code with a volume or a file of its own.",
        );
      } else {
        report.fail(
          "start",
          `The engine could not start it with berth's hardening (${hardening}): ${reason}`,
          "The image must run as any uid with a read-only root filesystem and no capabilities; see docs/images.md.",
        );
      }
      return;
    }
    report.pass("start", `started as ${hardening}`);

    const output = async () =>
      (await docker.containerLogs(dockerId, OUTPUT_LINES, startedAt).catch(() => [])).map((line) =>
        presentOutputLine(line, redactor),
      );
    try {
      await waitUntilReady({
        id,
        dockerId,
        timeoutMs: this.#connectTimeoutMs,
        startedAt,
        docker,
        channel: hub,
        redactor,
      });
    } catch (err) {
      if (!(err instanceof NotReadyError)) throw err;
      const details = err.details as { exitCode?: number; output?: string[]; reason?: string };
      if (details.output) report.facts.output = details.output;
      if (details.exitCode !== undefined) report.facts.exitCode = details.exitCode;
      if (err.cause_ === "exited") {
        report.fail(
          "connect",
          `The workload exited with code ${details.exitCode} before it connected to BERTH_SOCKET.`,
          exitedFix(details.exitCode, command),
        );
        report.skip("workdir", "not known: the workload exited before it said anything");
      } else if (err.cause_ === "bad_hello") {
        report.fail(
          "connect",
          `The workload connected, but berth refused its handshake: ${details.reason}.`,
          "Say hello as docs/protocol.md shows (the workload SDKs do), with protocol version 1.",
        );
        report.pass("workdir", `the process ran in ${CHECK_WORKDIR} as uid ${uid}`);
      } else {
        report.fail(
          "connect",
          `The workload did not connect to BERTH_SOCKET within ${this.#connectTimeoutMs} ms.`,
          "Its command must start a workload that connects to the socket in BERTH_SOCKET and says hello (docs/protocol.md); the SDKs @berth/workload and berth_workload do.",
        );
        report.skip("workdir", "not known: the workload never connected");
        if (!details.output) report.facts.output = await output();
      }
      return;
    }
    const status = hub.status(id);
    if (status.protocol !== undefined) report.facts.protocol = status.protocol;
    report.pass("connect", `said hello over BERTH_SOCKET with protocol ${status.protocol ?? "?"}`);

    const asked = Date.now();
    let answer: unknown;
    try {
      answer = await hub.request(id, { probe: PROBE_MARK }, { timeoutMs: REQUEST_TIMEOUT_MS });
      report.pass("request", `answered in ${Date.now() - asked} ms`);
    } catch (err) {
      if (err instanceof BerthError && err.code === "WORKLOAD_ERROR") {
        const message = String((err.details as { message?: unknown } | undefined)?.message ?? "");
        report.pass(
          "request",
          `answered with an error of its own (${presentOutputLine(message, redactor, { maxLength: 200 })}): the channel works`,
        );
      } else {
        report.fail(
          "request",
          `The workload did not answer a request: ${err instanceof BerthError ? `${err.code}: ${err.message}` : "the request failed"}`,
          "Answer every request frame with a response frame of the same id (docs/protocol.md); the SDKs do once a handler is set.",
        );
        report.facts.output = await output();
      }
    }
    if (isProbeAnswer(answer)) {
      if (answer.error === undefined)
        report.pass(
          "workdir",
          // The engine resolves the link: the process sees the release the pointer named.
          `uid ${answer.uid} read ${answer.entries ?? 0} ${answer.entries === 1 ? "entry" : "entries"} of ${CHECK_WORKDIR} (${presentOutputLine(answer.cwd, redactor, { maxLength: 200 })})`,
        );
      else
        report.fail(
          "workdir",
          `uid ${answer.uid} cannot read ${CHECK_WORKDIR}: ${presentOutputLine(answer.error, redactor, { maxLength: 200 })}`,
          "berth writes the code readable by any uid; make sure the image does not shadow /run/berth-code.",
        );
    } else {
      report.pass("workdir", `the workload ran in ${CHECK_WORKDIR} as uid ${uid}`);
    }
  }

  /**
   * The engine's own words on why it refused, for the admin who asked: host
   * paths of the check's directories shown as where they are mounted, then
   * sanitised, redacted and cut as any output line.
   */
  #engineReason(err: unknown, id: string, redactor: Redactor): string {
    const cause =
      err instanceof BerthError
        ? (err.cause as { json?: { message?: unknown }; message?: unknown })
        : undefined;
    let text = String(cause?.json?.message ?? cause?.message ?? (err as Error)?.message ?? "unknown");
    const { paths, config } = this.#o;
    for (const [host, shown] of [
      [paths.socketDir(id), "/run/berth"],
      [paths.codeDir(id), CODE_DIR_IN_CONTAINER],
      [config.runDir, "<run dir>"],
      [config.dataDir, "<data dir>"],
    ] as const)
      text = text.replaceAll(host, shown);
    return presentOutputLine(text, redactor, { maxLength: 500 });
  }
}

/** Shells berth's runtime images do not have: a shell-form CMD runs through one of them. */
const SHELLS = new Set(["/bin/sh", "sh", "/bin/bash", "bash"]);

/**
 * What to do about a workload that exited before it connected. 127 is what
 * the init process (berth runs the engine's) exits with when it cannot
 * execute the command at all.
 */
function exitedFix(exitCode: number | undefined, command: string[]): string {
  if (exitCode === 127 && SHELLS.has(command[0] ?? ""))
    return `The image runs its command through ${command[0]} (a shell-form CMD or ENTRYPOINT), and an image without a shell cannot: write it in exec form, e.g. CMD ["python3", "main.py"].`;
  if (exitCode === 127)
    return `The program ${JSON.stringify(command[0] ?? "")} could not be executed: it is not in the image, not on its PATH, or not executable by any uid.`;
  return "Read its output below: a missing interpreter or SDK, a file it cannot find, or a write outside /tmp (the root filesystem is read-only).";
}

function finish(report: ImageCheckReport, log: SystemLogger): ImageCheckResult {
  const result = report.result();
  log.info(
    {
      image: result.image,
      ok: result.ok,
      failed: result.checks.filter((c) => c.status === "failed").map((c) => c.name),
      ms: result.ms,
    },
    "checked image",
  );
  return result;
}

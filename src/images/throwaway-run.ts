import type { ChannelPort } from "../channel/channel-port.ts";
import type { Config } from "../config/config.ts";
import { CHECK_LABEL, CHECK_MARGIN_MS, CHECK_UNTIL_LABEL } from "../containers/check-container.ts";
import { buildCreateBody, CODE_DIR_IN_CONTAINER } from "../containers/container-config.ts";
import { NotReadyError, waitUntilReady } from "../containers/readiness.ts";
import type { UndoStack } from "../containers/undo-stack.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import { ShuttingDownError } from "../errors/errors.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { WorkloadFiles } from "../workload-files/workload-files.ts";
import { engineReason, exitedFix } from "./failure-advice.ts";
import type { ImageCheckReport } from "./image-check-report.ts";
import type { ImageToRun } from "./image-config-checks.ts";
import { isProbeAnswer, PROBE_MARK } from "./image-probes.ts";

/** Where the workload's code is: the read-only code mount's current release, berth's working directory. */
export const CHECK_WORKDIR = `${CODE_DIR_IN_CONTAINER}/current`;
/** The one request's timeout: the probe answers at once. */
const REQUEST_TIMEOUT_MS = 5_000;
/** Lines of output shown when the check fails after the start. */
const OUTPUT_LINES = 20;

export interface ThrowawayRun {
  config: Config;
  docker: DockerClient;
  files: WorkloadFiles;
  instanceId: string;
  /** The check's id: a container id, so that a berth killed mid-check removes what it left as an orphan. */
  id: string;
  uid: number;
  owner: string;
  image: string;
  toRun: ImageToRun;
  connectTimeoutMs: number;
  report: ImageCheckReport;
  redactor: Redactor;
  /** Everything made is pushed here; the caller unwinds it on every path. */
  undo: UndoStack;
  log: SystemLogger;
  /** The check's own channel hub (ThrowawaySite.channel): closed by the undo, and by a shutdown to cut the check short. */
  hub: ChannelPort;
  closed: () => boolean;
}

/**
 * The checks that run the image, once, in a throwaway container made as
 * berth makes a workload's — its files laid out as WorkloadFiles lays
 * them out, its create body from buildCreateBody — with the working
 * directory at the code's current release: `start`, `workdir`, `connect`,
 * `request`. Marks each in the report; throws only for berth's own
 * failures (storage, the engine unreachable, shutdown).
 */
export async function runThrowaway(o: ThrowawayRun): Promise<void> {
  const { config, docker, files, id, uid, report, redactor, undo, hub } = o;
  // When the check is over at the latest: written on its container, so that no reconciliation or sweep
  // (another API server's, in a cluster) takes it for an orphan before then.
  const until = Date.now() + o.connectTimeoutMs + REQUEST_TIMEOUT_MS + CHECK_MARGIN_MS;
  await files.layOut(id, o.toRun.code, undo);
  // Its own channel closed (a cluster's hub leaves the node's channels open when it stops), then the hub.
  undo.push("close channel", async () => {
    try {
      await hub.close(id);
    } finally {
      await hub.closeAll();
    }
  });
  if (o.closed()) throw new ShuttingDownError();
  await hub.open(id, { uid, gid: uid });

  const body = buildCreateBody({
    id,
    owner: o.owner,
    instanceId: o.instanceId,
    uid,
    spec: { name: "image-check" },
    image: o.image,
    socketDir: files.socketDir(id),
    codeDir: files.codeDir(id),
    hasCode: true,
    networkName: undefined,
    config,
  });
  // Explicit, whatever berth's default is: the check is of an image that needs no /app link.
  body.WorkingDir = CHECK_WORKDIR;
  body.Labels = { ...body.Labels, [CHECK_LABEL]: "image", [CHECK_UNTIL_LABEL]: String(until) };
  const hardening = `uid ${uid}:${uid}, read-only root, no capabilities, no network`;
  let dockerId: string;
  let startedAt: number;
  try {
    dockerId = await docker.createContainer(body);
    undo.push("remove engine container", () => docker.removeContainer(dockerId));
    startedAt = Date.now();
    await docker.startContainer(dockerId);
  } catch (err) {
    if (err instanceof BerthError && err.code === "DOCKER_UNAVAILABLE") throw err;
    const reason = engineReason(
      err,
      {
        socketDir: files.socketDir(id),
        codeDir: files.codeDir(id),
        runDir: config.runDir,
        dataDir: config.dataDir,
      },
      redactor,
    );
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
  if (!(await connects(o, hub, dockerId, startedAt, output))) return;

  const asked = Date.now();
  let answered: { answer: unknown } | undefined;
  try {
    answered = { answer: await hub.request(id, { probe: PROBE_MARK }, { timeoutMs: REQUEST_TIMEOUT_MS }) };
    report.pass("request", `answered in ${Date.now() - asked} ms`);
  } catch (err) {
    if (err instanceof BerthError && err.code === "WORKLOAD_ERROR") {
      const message = String((err.details as { message?: unknown } | undefined)?.message ?? "");
      report.pass(
        "request",
        `answered with an error of its own (${presentOutputLine(message, redactor, { maxLength: 200 })}): the channel works`,
      );
      answered = { answer: undefined };
    } else {
      report.fail(
        "request",
        `The workload did not answer a request: ${err instanceof BerthError ? `${err.code}: ${err.message}` : "the request failed"}`,
        "Answer every request frame with a response frame of the same id (docs/protocol.md); the SDKs do once a handler is set.",
      );
      report.facts.output = await output();
    }
  }
  checkWorkdir(report, answered, uid, redactor);
}

/**
 * The `workdir` check, from the request's answer: the probe's own word on
 * what it read there, or — any other answer, or an error of the workload's
 * own — that it ran there (the engine enters the directory before the
 * program starts). Without an answer nothing is known.
 */
function checkWorkdir(
  report: ImageCheckReport,
  answered: { answer: unknown } | undefined,
  uid: number,
  redactor: Redactor,
): void {
  if (answered === undefined) {
    report.skip("workdir", "not known: the workload did not answer");
    return;
  }
  const { answer } = answered;
  if (!isProbeAnswer(answer)) {
    report.pass("workdir", `the workload ran in ${CHECK_WORKDIR} as uid ${uid}`);
  } else if (answer.error === undefined) {
    const entries = answer.entries ?? 0;
    report.pass(
      "workdir",
      // The engine resolves the link: the process sees the release the pointer named.
      `uid ${answer.uid} read ${entries} ${entries === 1 ? "entry" : "entries"} of ${CHECK_WORKDIR} (${presentOutputLine(answer.cwd, redactor, { maxLength: 200 })})`,
    );
  } else {
    report.fail(
      "workdir",
      `uid ${answer.uid} cannot read ${CHECK_WORKDIR}: ${presentOutputLine(answer.error, redactor, { maxLength: 200 })}`,
      "berth writes the code readable by any uid; make sure the image does not shadow /run/berth-code.",
    );
  }
}

/** The `connect` check, through berth's own readiness wait; false (with the report marked) when it failed. */
async function connects(
  o: ThrowawayRun,
  hub: ChannelPort,
  dockerId: string,
  startedAt: number,
  output: () => Promise<string[]>,
): Promise<boolean> {
  const { report, id, uid } = o;
  try {
    await waitUntilReady({
      id,
      dockerId,
      timeoutMs: o.connectTimeoutMs,
      startedAt,
      docker: o.docker,
      channel: hub,
      redactor: o.redactor,
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
        exitedFix(details.exitCode, o.toRun.command),
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
        `The workload did not connect to BERTH_SOCKET within ${o.connectTimeoutMs} ms.`,
        "Its command must start a workload that connects to the socket in BERTH_SOCKET and says hello (docs/protocol.md); the SDKs @berth/workload and berth_workload do.",
      );
      report.skip("workdir", "not known: the workload never connected");
      if (!details.output) report.facts.output = await output();
    }
    return false;
  }
  const status = hub.status(id);
  if (status.protocol !== undefined) report.facts.protocol = status.protocol;
  report.pass("connect", `said hello over BERTH_SOCKET with protocol ${status.protocol ?? "?"}`);
  return true;
}

import type { DockerClient } from "../docker/docker-client.ts";
import { BerthError } from "../errors/berth-error.ts";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { Redactor } from "../logging/redactor.ts";
import type { WorkloadChannel } from "./workload-channel.ts";

export type NotReadyCause = "exited" | "never_connected" | "bad_hello" | "timeout";

/** Lines of the workload's output kept in a NOT_READY answer. */
const OUTPUT_LINES = 20;

/** The workload did not become ready; `details.cause` says why, as soon as the cause is known. */
export class NotReadyError extends BerthError {
  readonly cause_: NotReadyCause;
  constructor(cause: NotReadyCause, message: string, details: Record<string, unknown> = {}) {
    super("NOT_READY", message, { details: { cause, ...details } });
    this.cause_ = cause;
  }
}

export interface ReadinessInput {
  id: string;
  dockerId: string;
  timeoutMs: number;
  /**
   * When berth (re)started the process: only a hello from a connection made
   * since then counts. Undefined for a container berth did not just start,
   * where a workload connected now is ready at once.
   */
  startedAt: number | undefined;
  docker: DockerClient;
  channel: WorkloadChannel;
  /** The container owner's redactor: the output is shown to the owner (and to the admin, as the owner sees it). */
  redactor: Redactor;
}

/**
 * Waits until the workload is ready — its hello has arrived on the channel —
 * and fails as soon as the cause of a failure is known rather than at the
 * end of the timeout: the process exiting (with its exit code and the last
 * lines of its output), a bad hello, or the time running out.
 */
export async function waitUntilReady(input: ReadinessInput): Promise<void> {
  const { id, dockerId, docker, channel, redactor } = input;
  const since = input.startedAt ?? Date.now();
  // A hello that came before this call but after the start counts; checked and
  // then waited for without yielding, so none can slip between the two.
  const now = channel.status(id);
  if (now.connected && (input.startedAt === undefined || (now.connectedAt ?? 0) >= input.startedAt)) return;
  // Likewise a refused hello: a workload quick to start can be refused before this wait listens.
  const refused = channel.lastBadHello(id);
  if (refused !== undefined && refused.at >= since) throw badHello(refused.reason);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(new Error("ready timeout")), input.timeoutMs);
  try {
    const outcome = await Promise.race([
      channel
        .waitForHello(id, { signal: abort.signal, fresh: true })
        .then(() => ({ kind: "ready" as const })),
      docker.waitForExit(dockerId, abort.signal).then((exitCode) => ({ kind: "exited" as const, exitCode })),
      new Promise<{ kind: "bad_hello"; reason: string }>((resolve) => {
        const listener = (badId: string, reason: string) => {
          if (badId === id) resolve({ kind: "bad_hello", reason });
        };
        channel.on("bad_hello", listener);
        abort.signal.addEventListener("abort", () => channel.off("bad_hello", listener), { once: true });
      }),
      new Promise<{ kind: "timeout" }>((resolve) =>
        abort.signal.addEventListener("abort", () => resolve({ kind: "timeout" }), { once: true }),
      ),
    ]);
    if (outcome.kind === "ready") return;
    // Only this run's lines: the engine container keeps the output of earlier runs (and releases) too.
    const output = async () =>
      (await docker.containerLogs(dockerId, OUTPUT_LINES, input.startedAt).catch(() => [])).map((line) =>
        presentOutputLine(line, redactor),
      );
    if (outcome.kind === "exited") {
      throw new NotReadyError(
        "exited",
        `The workload exited with code ${outcome.exitCode} before it was ready.`,
        { exitCode: outcome.exitCode, output: await output() },
      );
    }
    if (outcome.kind === "bad_hello") throw badHello(outcome.reason);
    const status = channel.status(id);
    if (status.connectedAt === undefined || status.connectedAt < since) {
      // Its output usually says why (a crash loop inside, a wrong socket path, a long start-up).
      throw new NotReadyError(
        "never_connected",
        `The workload never connected to its socket within ${input.timeoutMs} ms; it must connect to BERTH_SOCKET and say hello (see docs/protocol.md).`,
        { timeoutMs: input.timeoutMs, output: await output() },
      );
    }
    throw new NotReadyError("timeout", `The workload was not ready within ${input.timeoutMs} ms.`, {
      timeoutMs: input.timeoutMs,
    });
  } finally {
    clearTimeout(timer);
    abort.abort(new Error("settled"));
  }
}

function badHello(reason: string): NotReadyError {
  return new NotReadyError("bad_hello", `The workload's handshake was refused: ${reason}.`, { reason });
}

import { BerthError } from "../errors/berth-error.ts";
import { DockerError, DockerUnavailableError, NotFoundError } from "../errors/errors.ts";

/** Socket-level failures that mean "the engine is not there right now". */
const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOENT",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "EHOSTUNREACH",
]);

/** What the engine was asked, in words that finish "The container engine could not …". */
const OPS: Record<string, string> = {
  "container create": "create the container",
  "container start": "start the container",
  "container stop": "stop the container",
  "container update": "change the container's CPU limit",
  "container remove": "remove the container",
  "container inspect": "read the container's state",
  "container list": "list containers",
  "container logs": "read the container's output",
  "container stats": "read the container's resource usage",
  "container wait": "wait for the container",
  "network create": "create the network",
  "network inspect": "read the network",
  "network remove": "remove the network",
  "network list": "list networks",
  "image inspect": "find the image",
  events: "follow its events",
  version: "report its version",
  info: "report which node it is",
  ping: "answer",
};

/** Turns whatever dockerode threw into a berth error; the engine's own text stays in `cause`, for the system log only. */
export function toDockerError(err: unknown, op: string): BerthError {
  if (err instanceof BerthError) return err;
  const e = err as { code?: string; statusCode?: number; message?: string };
  if (e.code && UNREACHABLE.has(e.code)) return new DockerUnavailableError({ cause: err, details: { op } });
  if (e.message?.includes("socket hang up"))
    return new DockerUnavailableError({ cause: err, details: { op } });
  if (e.statusCode === 404) return new NotFoundError("engine object", { cause: err, details: { op } });
  if (typeof e.statusCode === "number") {
    return new DockerError(`The container engine could not ${OPS[op] ?? op}.`, e.statusCode, {
      cause: err,
      retryable: e.statusCode >= 500,
      details: { op, statusCode: e.statusCode },
    });
  }
  return new DockerUnavailableError({ cause: err, details: { op } });
}

/** Worth another attempt: unreachable, reset, or a 5xx. Never 404 or 409. */
export function isTransient(err: unknown): boolean {
  if (err instanceof DockerUnavailableError) return true;
  return err instanceof DockerError && err.statusCode !== undefined && err.statusCode >= 500;
}

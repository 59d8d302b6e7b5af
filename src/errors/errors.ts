import { BerthError, type BerthErrorOptions } from "./berth-error.ts";

/** A client sent something berth will not accept; `details.issues` lists what and where. */
export class ValidationError extends BerthError {
  constructor(message: string, options?: BerthErrorOptions) {
    super("VALIDATION_FAILED", message, options);
  }
}

/** No such container for this caller — also what another owner's container looks like. */
export class NotFoundError extends BerthError {
  constructor(what = "container", options?: BerthErrorOptions) {
    super("NOT_FOUND", `No such ${what}.`, options);
  }
}

/** The name is taken by one of the caller's containers; details carry its id so a lost ack can be recovered. */
export class NameConflictError extends BerthError {
  constructor(name: string, existingId: string) {
    super("NAME_CONFLICT", `A container named '${name}' already exists.`, {
      details: { name, id: existingId },
    });
  }
}

export class ConflictError extends BerthError {
  constructor(message?: string, options?: BerthErrorOptions) {
    super("CONFLICT", message, options);
  }
}

/** Cluster mode: no ready node has room for the workload (or matches its constraints); retry once one has. */
export class NoCapacityError extends BerthError {
  constructor(options?: BerthErrorOptions) {
    super("NO_CAPACITY", undefined, options);
  }
}

export class UnauthorizedError extends BerthError {
  constructor(message?: string) {
    super("UNAUTHORIZED", message);
  }
}

/** The caller is authenticated, but the request is the admin's only (`image:check`). */
export class ForbiddenError extends BerthError {
  constructor(what: string) {
    super("FORBIDDEN", `${what} is for the server's admin only; connect with the admin's token.`);
  }
}

export class DockerUnavailableError extends BerthError {
  constructor(options?: BerthErrorOptions) {
    super("DOCKER_UNAVAILABLE", undefined, options);
  }
}

/** The engine answered, but with a failure; `statusCode` is the engine's HTTP status. */
export class DockerError extends BerthError {
  readonly statusCode: number | undefined;
  constructor(message: string | undefined, statusCode: number | undefined, options?: BerthErrorOptions) {
    super("DOCKER_ERROR", message, options);
    this.statusCode = statusCode;
  }
}

export class StorageError extends BerthError {
  /** `message` replaces the registry's, which speaks of the data directory: e.g. for a database server. */
  constructor(options?: BerthErrorOptions, message?: string) {
    super("STORAGE_ERROR", message, options);
  }
}

export class ShuttingDownError extends BerthError {
  constructor() {
    super("SHUTTING_DOWN");
  }
}

export class InternalError extends BerthError {
  constructor(options?: BerthErrorOptions) {
    super("INTERNAL", undefined, options);
  }
}

/**
 * berth cannot do this here yet — e.g. an engine call that the node agents do
 * not forward yet (`details.op`). Never a condition a client can cause: a
 * client that meets it has met a gap in berth, so it travels as INTERNAL.
 */
export class NotSupportedError extends BerthError {
  constructor(message: string, options?: BerthErrorOptions) {
    super("INTERNAL", message, options);
  }
}

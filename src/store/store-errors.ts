/**
 * A uniqueness the store enforces was about to be broken. Internal to berth:
 * the service that wrote turns it into what a client sees (NAME_CONFLICT),
 * or picks another uid and tries again. Each store maps its own database's
 * constraint error to one of these, so no service reads SQLite or PostgreSQL
 * error codes.
 */
export class NameTakenError extends Error {
  override readonly name = "NameTakenError";
  readonly owner: string;
  readonly containerName: string;

  constructor(owner: string, containerName: string, options?: ErrorOptions) {
    super(`owner ${owner} already has a container named ${containerName}`, options);
    this.owner = owner;
    this.containerName = containerName;
  }
}

export class UidTakenError extends Error {
  override readonly name = "UidTakenError";
  readonly uid: number;

  constructor(uid: number, options?: ErrorOptions) {
    super(`uid ${uid} is taken`, options);
    this.uid = uid;
  }
}

/**
 * A placement's compare-and-set lost: the container's generation was no
 * longer the one the caller read (another API server placed it, or removed
 * its placement, meanwhile). Nothing was written. The caller reads `current`
 * again and decides anew; it never retries with the same expectation.
 */
export class StalePlacementError extends Error {
  override readonly name = "StalePlacementError";
  readonly containerId: string;
  readonly expectedGeneration: number;
  /** The generation as read just after the refusal (0: not placed); for logs, not to retry with. */
  readonly currentGeneration: number;

  constructor(
    containerId: string,
    expectedGeneration: number,
    currentGeneration: number,
    options?: ErrorOptions,
  ) {
    super(
      `container ${containerId} is no longer at generation ${expectedGeneration} (now ${currentGeneration})`,
      options,
    );
    this.containerId = containerId;
    this.expectedGeneration = expectedGeneration;
    this.currentGeneration = currentGeneration;
  }
}

/** A container the store was asked to place has no row: never stored, or deleted meanwhile. Nothing was written. */
export class ContainerGoneError extends Error {
  override readonly name = "ContainerGoneError";
  readonly containerId: string;

  constructor(containerId: string, options?: ErrorOptions) {
    super(`container ${containerId} has no row to place`, options);
    this.containerId = containerId;
  }
}

/**
 * Release content whose bytes are not the ones its digest names: a put given
 * the wrong digest (nothing was written), or a stored row that no longer
 * matches its name (corruption, or a write around berth). Internal: a client
 * sees INTERNAL, since a digest is computed by berth, never given by a client.
 */
export class ContentDigestMismatchError extends Error {
  override readonly name = "ContentDigestMismatchError";
  readonly digest: string;
  /** The digest of the bytes at hand. */
  readonly actual: string;

  constructor(digest: string, actual: string, options?: ErrorOptions) {
    super(`release content named ${digest.slice(0, 80)} has the digest ${actual}`, options);
    this.digest = digest;
    this.actual = actual;
  }
}

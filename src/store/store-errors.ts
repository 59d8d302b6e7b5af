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

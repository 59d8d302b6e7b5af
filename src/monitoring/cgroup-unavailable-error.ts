/**
 * The cgroup files of a container cannot be used: no pid, a layout berth does
 * not understand, a file it cannot read or parse. Never reaches a client —
 * the sampler catches it and asks the engine instead.
 */
export class CgroupUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CgroupUnavailableError";
  }
}

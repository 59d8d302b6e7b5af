import { join } from "node:path";

/** Where a container's files live on the host. Ids are berth ids, never client text. */
export class ContainerPaths {
  readonly #dataDir: string;
  readonly #runDir: string;

  constructor(dataDir: string, runDir: string) {
    this.#dataDir = dataDir;
    this.#runDir = runDir;
  }

  codeDir(id: string): string {
    return join(this.#dataDir, "code", id);
  }

  releaseDir(id: string, release: number): string {
    return join(this.codeDir(id), "releases", String(release));
  }

  /** Mounted read-only at /run/berth; holds berth.sock. */
  socketDir(id: string): string {
    return join(this.#runDir, id);
  }

  socketPath(id: string): string {
    return join(this.socketDir(id), "berth.sock");
  }
}

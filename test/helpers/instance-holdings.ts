import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type Dockerode from "dockerode";
import { type Client, ok, type TestServer } from "./test-server.ts";

/**
 * Everything one berth instance holds for one owner, from every side: its
 * rows (as the owner lists them), the engine containers carrying its
 * instance label, and the code and socket directories on disk. A failed
 * operation must leave these as they were; after a reconciliation, all four
 * name the same containers.
 */
export interface Holdings {
  rows: string[];
  engine: string[];
  codeDirs: string[];
  socketDirs: string[];
}

export async function holdings(server: TestServer, owner: Client, engine: Dockerode): Promise<Holdings> {
  const { items } = await ok(owner, "container:list", { limit: 500 });
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`berth.instance=${server.berth.instanceId}`] },
  });
  return {
    rows: items.map((c) => c.id).sort(),
    engine: containers.map((c) => c.Labels["berth.id"] ?? c.Id).sort(),
    codeDirs: await entries(join(server.berth.config.dataDir, "code")),
    socketDirs: await entries(server.berth.config.runDir),
  };
}

/** The same ids everywhere: what a clean store and engine look like. */
export function agreeing(ids: readonly string[]): Holdings {
  const sorted = [...ids].sort();
  return { rows: sorted, engine: sorted, codeDirs: sorted, socketDirs: sorted };
}

async function entries(dir: string): Promise<string[]> {
  return (await readdir(dir).catch(() => [] as string[])).sort();
}

/** Removes every engine container of this instance from `engine` (a private engine; the shared one is cleaned by TestServer). */
export async function removeInstanceFrom(engine: Dockerode, instanceId: string): Promise<void> {
  const containers = await engine.listContainers({
    all: true,
    filters: { label: [`berth.instance=${instanceId}`] },
  });
  await Promise.all(
    containers.map((c) =>
      engine
        .getContainer(c.Id)
        .remove({ force: true })
        .catch(() => {}),
    ),
  );
}

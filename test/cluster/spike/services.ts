import type Dockerode from "dockerode";
import { sleep } from "./spike-log.ts";

/** A Swarm task, as far as the spike reads it. */
export interface Task {
  ID: string;
  NodeID: string;
  DesiredState: string;
  Status: { State: string; Err?: string; ContainerStatus?: { ContainerID?: string } };
}

/** Workloads as Swarm services, through one manager's engine: create, update, watch their tasks, remove. */
export class Services {
  readonly #manager: Dockerode;

  constructor(manager: Dockerode) {
    this.#manager = manager;
  }

  async create(spec: object): Promise<string> {
    const created = (await this.#manager.createService(spec as Dockerode.CreateServiceOptions)) as {
      id?: string;
      ID?: string;
    };
    return (created.id ?? created.ID)!;
  }

  /** Replaces the service's spec; the tasks of the old one are replaced as its update config says. */
  async update(id: string, spec: object): Promise<void> {
    const info = (await this.#manager.getService(id).inspect()) as { Version: { Index: number } };
    await this.#manager.getService(id).update({ version: info.Version.Index, ...spec });
  }

  /** The service's tasks as `from` (by default the manager this was made with) sees them. */
  async tasks(serviceId: string, from: Dockerode = this.#manager): Promise<Task[]> {
    return (await from.listTasks({ filters: { service: [serviceId] } })) as Task[];
  }

  /**
   * Polls every 20 ms until a task of the service runs and is meant to (with
   * start-first, the task being replaced still runs a while), other than the
   * `known` ones (e.g. the tasks from before an update).
   */
  async waitRunning(
    serviceId: string,
    timeoutMs: number,
    known: ReadonlySet<string> = new Set(),
    from?: Dockerode,
  ): Promise<Task> {
    const deadline = Date.now() + timeoutMs;
    let last: Task[] = [];
    for (;;) {
      last = await this.tasks(serviceId, from).catch(() => last);
      const task = last.find(
        (t) => t.Status.State === "running" && t.DesiredState === "running" && !known.has(t.ID),
      );
      if (task) return task;
      if (Date.now() > deadline) {
        throw new Error(
          `no task running within ${timeoutMs} ms: ${JSON.stringify(last.map((t) => t.Status))}`,
        );
      }
      await sleep(20);
    }
  }

  /** Removes the service, then waits until its containers are gone from `node`, so one round does not load the next. */
  async remove(id: string, node: Dockerode): Promise<void> {
    await this.#manager
      .getService(id)
      .remove()
      .catch(() => {});
    for (let i = 0; i < 300; i++) {
      const left = await node.listContainers({
        all: true,
        filters: { label: [`com.docker.swarm.service.id=${id}`] },
      });
      if (left.length === 0) return;
      await sleep(100);
    }
  }
}

import { describe, expect, it } from "vitest";
import { ConflictError } from "../errors/errors.ts";
import type { ContainerStore } from "../store/store-ports.ts";
import { containerRecord } from "../store/testing/container-record.ts";
import type { StatusChange } from "./lifecycle-types.ts";
import { StateWriter } from "./state-writer.ts";

describe("StateWriter's fence (cluster mode: a turn that lost its container's lock)", () => {
  function writer(fenced: Set<string>) {
    const written: string[] = [];
    const told: StatusChange[] = [];
    const repo = {
      update: async (id: string, changes: { state?: string }) => {
        written.push(`${id} ${changes.state}`);
      },
    } as unknown as ContainerStore;
    const states = new StateWriter(
      repo,
      (r) => ({ id: r.id, state: r.state }) as never,
      (change) => told.push(change),
      (id) => {
        if (fenced.has(id)) throw new ConflictError("lost the container's lock");
      },
    );
    return { states, written, told };
  }

  it("writes nothing and tells no one when the turn may no longer write the container", async () => {
    const { states, written, told } = writer(new Set(["C1"]));
    const record = containerRecord("C1", 20_001, { state: "stopping", dockerId: "n1:a" });
    await expect(states.write(record, "stopped", "stopped", "operation")).rejects.toMatchObject({
      code: "CONFLICT",
    });
    expect(written).toEqual([]);
    expect(told).toEqual([]);
    expect(record.state).toBe("stopping");
  });

  it("writes and tells as before for a turn that holds its lock", async () => {
    const { states, written, told } = writer(new Set(["C9"]));
    const record = containerRecord("C1", 20_001, { state: "stopping", dockerId: "n1:a" });
    await states.write(record, "stopped", "stopped", "operation");
    expect(written).toEqual(["C1 stopped"]);
    expect(told.map((c) => `${c.from} → ${c.info.state}`)).toEqual(["stopping → stopped"]);
  });
});

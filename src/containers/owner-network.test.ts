import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { FakeDockerClient } from "../docker/testing/fake-docker-client.ts";
import { managedLabels } from "./container-config.ts";
import { ensureOwnerNetwork, ownerNetworkName } from "./owner-network.ts";

describe("an owner's bridge as single-host berth makes it", () => {
  it("is named from the instance and the owner's hash, labelled as berth's, with ICC off", async () => {
    const docker = new FakeDockerClient();
    const made = await ensureOwnerNetwork(docker, "c0ffee00c0ffee00", "alice@example.org");
    const slug = createHash("sha256").update("alice@example.org").digest("hex").slice(0, 12);
    expect(made.name).toBe(`berth-c0ffee00-${slug}`);
    expect(ownerNetworkName("c0ffee00c0ffee00", "alice@example.org")).toBe(made.name);
    // The labels network/owner-network-spec.ts writes are berth's own (the agent's use the same).
    expect(docker.calls.find((c) => c.method === "ensureNetwork")?.arg).toEqual({
      name: made.name,
      labels: { ...managedLabels("c0ffee00c0ffee00"), "berth.owner": "alice@example.org" },
      options: { "com.docker.network.bridge.enable_icc": "false" },
    });
  });
});

import { describe, expect, it } from "vitest";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { docker, echoCode, useTestServer } from "../helpers/test-server.ts";

// Outbound containers need the egress filter, and so iptables, and so root.
describe.skipIf(NEEDS_ROOT)("outbound network, where the server allows it", () => {
  const server = useTestServer({ BERTH_ALLOW_NETWORK: "true" });

  it("puts each owner's containers on the owner's own bridge, without traffic between containers, and removes it with the last", async () => {
    const [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const a1 = await alice.containers.create({ name: "net-1", network: "outbound", code: await echoCode() });
    const a2 = await alice.containers.create({ name: "net-2", network: "outbound", code: await echoCode() });
    const b1 = await bob.containers.create({ name: "net-1", network: "outbound", code: await echoCode() });
    const none = await alice.containers.create({ name: "offline", code: await echoCode() });
    const modeOf = async (id: string) =>
      (await docker.getContainer(`berth-${id}`).inspect()).HostConfig.NetworkMode;

    const [m1, m2, mb, mn] = await Promise.all([a1.id, a2.id, b1.id, none.id].map(modeOf));
    expect(m1).toBe(m2);
    expect(mb).not.toBe(m1);
    expect(mn).toBe("none");
    const network = await docker.getNetwork(m1!).inspect();
    expect(network.Options).toMatchObject({ "com.docker.network.bridge.enable_icc": "false" });
    expect(network.Labels).toMatchObject({
      "berth.owner": "alice",
      "berth.instance": server.berth.instanceId,
    });

    await a1.delete();
    await expect(docker.getNetwork(m1!).inspect()).resolves.toBeDefined(); // still used by net-2
    await a2.delete();
    await expect(docker.getNetwork(m1!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await b1.delete();
    await expect(docker.getNetwork(mb!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await none.delete();
  });
});

import { describe, expect, it } from "vitest";
import { NEEDS_ROOT } from "../helpers/needs-root.ts";
import { docker, echoCode, ok, useTestServer } from "../helpers/test-server.ts";

// Outbound containers need the egress filter, and so iptables, and so root.
describe.skipIf(NEEDS_ROOT)("outbound network, where the server allows it", () => {
  const server = useTestServer({ BERTH_ALLOW_NETWORK: "true" });

  it("puts each owner's containers on the owner's own bridge, without traffic between containers, and removes it with the last", async () => {
    const [alice, bob] = await Promise.all([server.connect("alice"), server.connect("bob")]);
    const a1 = await ok(alice, "container:create", {
      name: "net-1",
      network: "outbound",
      code: await echoCode(),
    });
    const a2 = await ok(alice, "container:create", {
      name: "net-2",
      network: "outbound",
      code: await echoCode(),
    });
    const b1 = await ok(bob, "container:create", {
      name: "net-1",
      network: "outbound",
      code: await echoCode(),
    });
    const none = await ok(alice, "container:create", { name: "offline", code: await echoCode() });
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

    await ok(alice, "container:delete", { id: a1.id });
    await expect(docker.getNetwork(m1!).inspect()).resolves.toBeDefined(); // still used by net-2
    await ok(alice, "container:delete", { id: a2.id });
    await expect(docker.getNetwork(m1!).inspect()).rejects.toMatchObject({ statusCode: 404 });
    await ok(bob, "container:delete", { id: b1.id });
    await expect(docker.getNetwork(mb!).inspect()).rejects.toMatchObject({ statusCode: 404 });
  });
});

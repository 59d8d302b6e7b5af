import { describe, expect, it } from "vitest";
import type { ContainerCreateBody } from "../docker/docker-client.ts";
import { ownerNetworkName } from "../network/owner-network-spec.ts";
import { CreateBodySchema } from "./create-body-schema.ts";
import { workloadBody } from "./testing/workload-body.ts";

type Fields = Record<string, unknown>;

/** The body with one change made to a copy of it: to the body, its HostConfig, or its first mount. */
function changed(edit: (body: Fields, host: Fields, mount: Fields) => void): unknown {
  const body = structuredClone(workloadBody()) as unknown as Fields;
  const host = body.HostConfig as Fields;
  edit(body, host, (host.Mounts as Fields[])[0] as Fields);
  return body;
}

function refusedAt(body: unknown): string[] {
  const parsed = CreateBodySchema.safeParse(body);
  return parsed.success ? [] : parsed.error.issues.map((i) => i.path.join("."));
}

describe("the create body a node agent accepts", () => {
  it("is berth's own hardened body, with and without code, command, env and labels", () => {
    const bodies: ContainerCreateBody[] = [
      workloadBody(),
      workloadBody({ hasCode: true }),
      workloadBody({
        spec: {
          command: ["node", "index.js"],
          env: { MODE: "x" },
          secretEnv: { API_KEY: "s3cret-value" },
          labels: { team: "a" },
          resources: { cpus: 0.5, memoryMb: 64, pids: 32 },
        },
      }),
    ];
    for (const body of bodies) expect(CreateBodySchema.parse(body)).toEqual(body);
  });

  it.each([
    ["a privileged container", (_b: Fields, h: Fields) => (h.Privileged = true), "HostConfig.Privileged"],
    ["a capability kept", (_b: Fields, h: Fields) => (h.CapDrop = []), "HostConfig.CapDrop"],
    ["no no-new-privileges", (_b: Fields, h: Fields) => (h.SecurityOpt = []), "HostConfig.SecurityOpt"],
    ["a writable root", (_b: Fields, h: Fields) => (h.ReadonlyRootfs = false), "HostConfig.ReadonlyRootfs"],
    ["swap", (_b: Fields, h: Fields) => (h.MemorySwap = -1), "HostConfig.MemorySwap"],
    ["root's uid", (b: Fields) => (b.User = "0:0"), "User"],
    [
      "a writable mount",
      (_b: Fields, _h: Fields, m: Fields) => (m.ReadOnly = false),
      "HostConfig.Mounts.0.ReadOnly",
    ],
    [
      "a mount elsewhere",
      (_b: Fields, _h: Fields, m: Fields) => (m.Target = "/etc"),
      "HostConfig.Mounts.0.Target",
    ],
    [
      "a relative source",
      (_b: Fields, _h: Fields, m: Fields) => (m.Source = "../../etc"),
      "HostConfig.Mounts.0.Source",
    ],
    ["the host's network", (_b: Fields, h: Fields) => (h.NetworkMode = "host"), "HostConfig.NetworkMode"],
    ["the host's pid namespace", (_b: Fields, h: Fields) => (h.PidMode = "host"), "HostConfig"],
    ["host paths as Binds", (_b: Fields, h: Fields) => (h.Binds = ["/:/host"]), "HostConfig"],
    ["a device", (_b: Fields, h: Fields) => (h.Devices = [{ PathOnHost: "/dev/sda" }]), "HostConfig"],
    ["a field beside berth's", (b: Fields) => (b.Entrypoint = ["sh"]), ""],
    ["a name not berth's", (b: Fields) => (b.name = "postgres"), "name"],
  ])("refuses %s", (_what, edit, path) => {
    expect(refusedAt(changed(edit))).toContain(path);
  });

  it("takes an outbound workload on its own owner's bridge, as the agent names it from the body's labels", () => {
    const body = workloadBody({ networkName: ownerNetworkName("agent-link-test", "alice") });
    expect(body.HostConfig?.NetworkMode).toMatch(/^berth-agent-li-[0-9a-f]{12}$/);
    expect(CreateBodySchema.parse(body)).toEqual(body);
  });

  it.each([
    ["another owner's bridge", ownerNetworkName("agent-link-test", "bob"), false],
    ["another instance's bridge", ownerNetworkName("other-instance", "alice"), false],
    ["Docker's default bridge", "bridge", false],
    ["the host's network", "host", false],
    ["another container's network", "container:berth-Cother", false],
    ["its own bridge, with the network disabled", ownerNetworkName("agent-link-test", "alice"), true],
  ])("refuses an outbound workload on %s", (_what, network, disabled) => {
    const body = changed((b, h) => {
      h.NetworkMode = network;
      b.NetworkDisabled = disabled;
    });
    expect(refusedAt(body).length).toBeGreaterThan(0);
  });

  it("refuses no network with the network enabled", () => {
    expect(refusedAt(changed((b) => (b.NetworkDisabled = false)))).toContain("NetworkDisabled");
  });
});

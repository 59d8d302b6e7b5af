import { z } from "zod";
import { ownerNetworkName } from "../network/owner-network-spec.ts";
import { NETWORK_NAME_PATTERN } from "./network-ops.ts";

/**
 * The only create body a node agent accepts: berth's hardened workload
 * (containers/container-config.ts, `buildCreateBody`), field for field. The
 * agent holds its node's engine socket — root on that node — so it does not
 * take an API server's word for what a container may be: anything beside or
 * beyond the hardening (a privileged flag, a capability kept, a host path
 * mounted writable, the host's network or pid namespace, swap) is refused
 * before the engine sees it. Unknown fields are refused at every level.
 *
 * The network is `none`, or for `network: 'outbound'` the owner's own bridge
 * on the node — exactly the one whose name the agent derives from the body's
 * own `berth.instance` and `berth.owner` labels (network/owner-network-spec.ts),
 * which only the agent makes, with its node's egress filter on it
 * (agent/node-networks.ts): never the host's network, another container's,
 * Docker's default bridge or another owner's bridge.
 */
const hostPath = z
  .string()
  .max(4096)
  .regex(/^\/[^\0]*$/, "must be an absolute path")
  .refine((p) => !p.split("/").includes(".."), "must not climb with '..'");

const ReadOnlyBind = z.strictObject({
  Type: z.literal("bind"),
  Source: hostPath,
  Target: z.enum(["/run/berth", "/run/berth-code"]),
  ReadOnly: z.literal(true),
});

const positiveInt = z.number().int().positive();

const HardenedHostConfig = z
  .strictObject({
    Init: z.literal(true),
    Privileged: z.literal(false),
    ReadonlyRootfs: z.literal(true),
    CapDrop: z.tuple([z.literal("ALL")]),
    SecurityOpt: z.tuple([z.literal("no-new-privileges")]),
    IpcMode: z.literal("private"),
    // size=0 would be no limit at all.
    Tmpfs: z.strictObject({ "/tmp": z.string().regex(/^rw,nosuid,nodev,size=[1-9]\d*[kmg]?,mode=1777$/) }),
    // Bounded: a limit of 2^53 is no limit (berth's own configuration stays far below these).
    Memory: positiveInt.max(1024 * 2 ** 30),
    MemorySwap: positiveInt.max(1024 * 2 ** 30),
    PidsLimit: positiveInt.max(65_536),
    NanoCpus: positiveInt.max(256 * 1e9),
    LogConfig: z.strictObject({
      Type: z.literal("json-file"),
      Config: z.strictObject({ "max-size": z.string().max(16), "max-file": z.string().max(8) }),
    }),
    // "none", or the owner's bridge (checked against the body's labels below); no other mode.
    NetworkMode: z.union([z.literal("none"), z.string().regex(NETWORK_NAME_PATTERN)]),
    RestartPolicy: z.strictObject({ Name: z.literal("no") }),
    Mounts: z.array(ReadOnlyBind).max(2),
  })
  .refine((h) => h.MemorySwap === h.Memory, {
    message: "MemorySwap must equal Memory (no swap)",
    path: ["MemorySwap"],
  });

export const CreateBodySchema = z
  .strictObject({
    name: z.string().regex(/^berth-[A-Za-z0-9_.-]{1,120}$/),
    Image: z.string().min(1).max(512),
    Cmd: z.array(z.string().max(65_536)).max(1024).optional(),
    Env: z.array(z.string().max(65_536)).max(1024),
    Labels: z.record(z.string().max(256), z.string().max(4096)),
    // A uid of its own, never root's, and its own group: another (the docker group, shadow) would hand it
    // whatever that group may open.
    User: z
      .string()
      .regex(/^[1-9]\d{0,9}:[1-9]\d{0,9}$/, "must be a non-root uid:gid")
      .refine((u) => u.split(":")[0] === u.split(":")[1], "the group must be the workload's own uid"),
    WorkingDir: z.string().max(4096),
    NetworkDisabled: z.boolean(),
    HostConfig: HardenedHostConfig,
  })
  .superRefine((body, ctx) => {
    const mode = body.HostConfig.NetworkMode;
    if (mode === "none") {
      if (!body.NetworkDisabled)
        ctx.addIssue({
          code: "custom",
          path: ["NetworkDisabled"],
          message: "a workload without a network has it disabled",
        });
      return;
    }
    const own = ownerNetworkName(body.Labels["berth.instance"] ?? "", body.Labels["berth.owner"] ?? "");
    if (
      mode !== own ||
      body.Labels["berth.instance"] === undefined ||
      body.Labels["berth.owner"] === undefined
    )
      ctx.addIssue({
        code: "custom",
        path: ["HostConfig", "NetworkMode"],
        message: "a workload's network is 'none' or its own owner's bridge",
      });
    if (body.NetworkDisabled)
      ctx.addIssue({
        code: "custom",
        path: ["NetworkDisabled"],
        message: "an outbound workload's network is enabled",
      });
  });

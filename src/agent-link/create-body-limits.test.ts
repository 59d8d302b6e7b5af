import { describe, expect, it } from "vitest";
import { CreateBodySchema } from "./create-body-schema.ts";
import { workloadBody } from "./testing/workload-body.ts";

type Fields = Record<string, unknown>;

describe("the create body a node agent accepts, beyond berth's own", () => {
  function body(edit: (b: Fields, mount: Fields) => void): unknown {
    const b = structuredClone(workloadBody()) as unknown as Fields;
    const mounts = (b.HostConfig as Fields).Mounts as Fields[];
    edit(b, mounts[0] as Fields);
    return b;
  }

  it("refuses a group other than the workload's own uid (e.g. the docker group, 999, or shadow, 42)", () => {
    expect(CreateBodySchema.safeParse(body((b) => (b.User = "100123:999"))).success).toBe(false);
    expect(CreateBodySchema.safeParse(body((b) => (b.User = "100123:42"))).success).toBe(false);
  });

  it("refuses limits that are no limits (pids, memory)", () => {
    const pids = body((b) => ((b.HostConfig as Fields).PidsLimit = Number.MAX_SAFE_INTEGER));
    expect(CreateBodySchema.safeParse(pids).success).toBe(false);
    const tmpfs = body(
      (b) => ((b.HostConfig as Fields).Tmpfs = { "/tmp": "rw,nosuid,nodev,size=0,mode=1777" }),
    );
    expect(CreateBodySchema.safeParse(tmpfs).success).toBe(false);
    // berth's own body passes.
    expect(CreateBodySchema.safeParse(body(() => {})).success).toBe(true);
  });
});

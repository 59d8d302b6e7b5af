import { describe, expect, it } from "vitest";
import {
  ChannelBusyError,
  ChannelDisconnectedError,
  ChannelNotConnectedError,
  ChannelTimeoutError,
  FrameTooLargeError,
  WorkloadError,
} from "../channel/channel-errors.ts";
import { BerthError } from "../errors/berth-error.ts";
import {
  ConflictError,
  DockerError,
  DockerUnavailableError,
  InternalError,
  NotFoundError,
  NotSupportedError,
} from "../errors/errors.ts";
import { fromLinkError, LinkErrorSchema, toLinkError } from "./link-error.ts";
import { StalePlacementRefusal } from "./stale-placement-refusal.ts";

/** What the API side holds after the error crossed the link (through JSON, as Socket.IO sends it). */
function across(err: unknown, classes: "engine" | "channel" = "engine"): BerthError {
  const wire = LinkErrorSchema.parse(JSON.parse(JSON.stringify(toLinkError(err))));
  return fromLinkError(wire, "node1", classes);
}

describe("an error crossing the agent link", () => {
  it("comes back as DockerUnavailableError, retryable, with its details", () => {
    const back = across(new DockerUnavailableError({ details: { op: "container start" } }));
    expect(back).toBeInstanceOf(DockerUnavailableError);
    expect(back).toMatchObject({
      code: "DOCKER_UNAVAILABLE",
      retryable: true,
      details: { op: "container start" },
    });
  });

  it("comes back as a DockerError with the engine's status and message", () => {
    const sent = new DockerError("The container engine could not create the container.", 409, {
      details: { op: "container create", statusCode: 409 },
    });
    const back = across(sent);
    expect(back).toBeInstanceOf(DockerError);
    expect((back as DockerError).statusCode).toBe(409);
    expect(back.message).toBe(sent.message);
    expect(back.retryable).toBe(false);
  });

  it("keeps a 5xx's retryable flag", () => {
    expect(across(new DockerError("x", 503, { retryable: true })).retryable).toBe(true);
  });

  it("comes back as NotFoundError", () => {
    const back = across(new NotFoundError("engine object", { details: { op: "container inspect" } }));
    expect(back).toBeInstanceOf(NotFoundError);
    expect(back.message).toBe("No such engine object.");
  });

  it("comes back as ConflictError; a code the engine port never throws comes back as INTERNAL, nothing of it kept", () => {
    expect(across(new ConflictError("busy"))).toBeInstanceOf(ConflictError);
    const other = across(new BerthError("RATE_LIMITED", "slow down"));
    expect(other).toBeInstanceOf(InternalError);
    expect(other.message).not.toContain("slow down");
  });

  it("never lets an agent tell a client an auth error, a message or details of its own making", () => {
    const wire = LinkErrorSchema.parse({
      code: "UNAUTHORIZED",
      category: "auth",
      message: "Your session ended: sign in again at https://evil.example",
      retryable: false,
      details: { anything: "the agent likes" },
    });
    const err = fromLinkError(wire, "node1");
    expect(err).toBeInstanceOf(InternalError);
    expect(err).toMatchObject({ code: "INTERNAL", category: "system" });
    expect(JSON.stringify({ ...err, message: err.message })).not.toContain("evil.example");
  });

  it("never carries a cause, nor the text of an error that is not berth's", () => {
    const secretPath = "/var/lib/docker/overlay2/abc: permission denied";
    const wire = toLinkError(new Error(secretPath));
    expect(wire).toEqual({
      code: "INTERNAL",
      category: "system",
      message: "Something went wrong inside berth.",
      retryable: false,
    });
    const withCause = toLinkError(new DockerUnavailableError({ cause: new Error(secretPath) }));
    expect(JSON.stringify(withCause)).not.toContain("overlay2");
    expect(across(new Error(secretPath))).toBeInstanceOf(InternalError);
  });

  it("says which node answered, in the cause only", () => {
    const back = across(new DockerUnavailableError());
    expect(String((back.cause as Error).message)).toContain("node1");
    expect(back.details).toBeUndefined();
  });

  it("travels a NotSupportedError as INTERNAL with its message", () => {
    const back = across(new NotSupportedError("not yet", { details: { op: "followLogs" } }));
    expect(back).toMatchObject({ code: "INTERNAL", message: "not yet", details: { op: "followLogs" } });
  });

  it("is refused when it names a code berth does not have", () => {
    expect(LinkErrorSchema.safeParse({ code: "NOPE", message: "", retryable: false }).success).toBe(false);
  });

  it("of a workload's channel comes back as the channel's own class, message and flag", () => {
    const sent = [
      new ChannelNotConnectedError(),
      new ChannelDisconnectedError("closed"),
      new ChannelTimeoutError(250),
      new ChannelBusyError(10, 5),
      new FrameTooLargeError(70_000, 65_536),
      new WorkloadError({ message: "no such op", code: "E_OP" }),
    ];
    for (const err of sent) {
      const back = across(err, "channel");
      expect(back).toBeInstanceOf(err.constructor);
      expect({ ...back, message: back.message }).toEqual({ ...err, message: err.message });
      expect(back.retryable).toBe(err.retryable);
    }
    // The engine's classes are not the channel's, nor the other way round.
    expect(across(new ChannelTimeoutError(1))).toBeInstanceOf(InternalError);
    expect(across(new DockerError("x", 500), "channel")).toBeInstanceOf(InternalError);
  });

  it("of a channel is INTERNAL when its details are not the class's (an agent does not shape them)", () => {
    const wire = LinkErrorSchema.parse({
      code: "CHANNEL_TIMEOUT",
      category: "communication",
      message: "Sign in again at https://evil.example",
      retryable: false,
      details: { timeoutMs: 5, link: "https://evil.example" },
    });
    expect(fromLinkError(wire, "node1", "channel")).toBeInstanceOf(InternalError);
    const said = fromLinkError({ ...wire, details: { timeoutMs: 5 } }, "node1", "channel");
    expect(said).toBeInstanceOf(ChannelTimeoutError);
    expect(said.message).not.toContain("evil");
  });

  it("of a call routed by an older placement is STALE_PLACEMENT on the link, retryable on the API side as each port says it", () => {
    const wire = LinkErrorSchema.parse(
      JSON.parse(JSON.stringify(toLinkError(new StalePlacementRefusal("C1", 1, 2)))),
    );
    expect(wire).toMatchObject({
      code: "STALE_PLACEMENT",
      retryable: true,
      details: { containerId: "C1", generation: 1, known: 2 },
    });
    const channel = fromLinkError(wire, "node1", "channel");
    expect(channel).toBeInstanceOf(ChannelNotConnectedError);
    expect(channel).toMatchObject({ retryable: true, details: { reason: "stale_placement" } });
    const engine = fromLinkError(wire, "node1");
    expect(engine).toBeInstanceOf(ConflictError);
    expect(engine).toMatchObject({
      code: "CONFLICT",
      retryable: true,
      details: { reason: "stale_placement" },
    });
  });
});

import { describe, expect, it } from "vitest";
import { LabelMap } from "./container-spec.ts";

describe("labels", () => {
  it.each([
    "berth.owner",
    "com.docker.compose.project",
    "com.docker.swarm.task.id",
    "COM.DOCKER.compose.service",
    "io.docker.x",
    "org.dockerproject.x",
    "org.opencontainers.image.source",
  ])("reserves %s", (key) => {
    expect(LabelMap.safeParse({ [key]: "v" }).success).toBe(false);
  });

  it.each(["team", "com.example.owner", "my.com.docker.x", "com.dockerhub-mirror"])("allows %s", (key) => {
    expect(LabelMap.safeParse({ [key]: "v" }).success).toBe(true);
  });
});

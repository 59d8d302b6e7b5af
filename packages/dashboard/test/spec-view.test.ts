import { describe, expect, it } from "vitest";
import { specView } from "../src/container/spec-view.ts";
import { info } from "./fake-client.ts";

describe("the spec the page shows", () => {
  it("takes image, runtime, labels, restart policy and network from the container's info", () => {
    const view = specView(
      info("web", { runtime: "node", labels: { team: "blue" }, restartPolicy: "always" }),
    );
    expect(view).toEqual({
      image: "berth/runtime-node:24",
      runtime: "node",
      labels: { team: "blue" },
      restartPolicy: "always",
      network: "none",
    });
  });

  it("has no detail until the container's own status answer brings the rest of the spec", () => {
    expect(specView(info("web")).detail).toBeUndefined();
  });

  it("takes command, env, secret keys, limits and health check from the spec berth sent", () => {
    const sent = {
      command: ["node", "server.js"],
      env: { MODE: "prod" },
      secretEnvKeys: ["API_KEY", "DB_PASSWORD"],
      resources: { memoryMb: 256, cpus: 1, pids: 256 },
      healthCheck: { request: { ping: 1 }, expect: { pong: 1 }, intervalMs: 5_000, retries: 3 },
    };
    expect(specView(info("web"), sent).detail).toEqual(sent);
  });

  it("holds the secret env's keys only, even were values sent", () => {
    const sent = { env: { MODE: "prod" }, secretEnv: { API_KEY: "s3cr3t-value" } };
    const view = specView(info("web"), sent);
    expect(view.detail?.secretEnvKeys).toEqual(["API_KEY"]);
    expect(view.detail?.env).toEqual({ MODE: "prod" });
    expect(JSON.stringify(view)).not.toContain("s3cr3t-value");
  });

  it("leaves out a field of the wrong type rather than show it raw", () => {
    const sent = {
      command: ["node", 1],
      env: { OK: "yes", BAD: { nested: true } },
      secretEnvKeys: ["A", 2],
      resources: { memoryMb: "lots", cpus: 0.5 },
      healthCheck: { request: "ping", intervalMs: { every: "now" }, retries: 2 },
    };
    expect(specView(info("web"), sent).detail).toEqual({
      env: { OK: "yes" },
      secretEnvKeys: ["A"],
      resources: { cpus: 0.5 },
      healthCheck: { request: "ping", retries: 2 },
    });
  });

  it("says which values berth cut and how many entries it left out, checked like the rest", () => {
    const sent = {
      env: { CA: "-----BEGIN … …[truncated]" },
      secretEnvKeys: [],
      resources: {},
      truncated: { env: ["CA", 3], args: [1], omittedEnv: 12, omittedArgs: "many", healthCheck: true },
    };
    expect(specView(info("web"), sent).detail?.cuts).toEqual({
      env: ["CA"],
      args: [1],
      omittedEnv: 12,
      omittedArgs: 0,
      healthCheck: true,
    });
    expect(specView(info("web"), { env: {} }).detail?.cuts).toBeUndefined();
  });
});

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

  it("has no detail while berth does not send the rest of the spec", () => {
    expect(specView(info("web")).detail).toBeUndefined();
  });

  it("holds the secret env's keys only, even were values sent", () => {
    const sent = { ...info("web"), spec: { env: { MODE: "prod" }, secretEnv: { API_KEY: "s3cr3t-value" } } };
    const view = specView(sent);
    expect(view.detail?.secretEnvKeys).toEqual(["API_KEY"]);
    expect(view.detail?.env).toEqual({ MODE: "prod" });
    expect(JSON.stringify(view)).not.toContain("s3cr3t-value");
  });

  it("takes the detail from the container's own status answer when the live info has none", () => {
    const answered = { ...info("web"), spec: { env: {}, secretEnvKeys: ["TOKEN"], resources: {} } };
    expect(specView(info("web"), answered).detail?.secretEnvKeys).toEqual(["TOKEN"]);
  });

  it("leaves out a field of the wrong type rather than show it raw", () => {
    const sent = {
      ...info("web"),
      spec: {
        command: ["node", 1],
        env: { OK: "yes", BAD: { nested: true } },
        secretEnvKeys: ["A", 2],
        resources: { memoryMb: "lots", cpus: 0.5 },
      },
    };
    expect(specView(sent).detail).toEqual({
      env: { OK: "yes" },
      secretEnvKeys: ["A"],
      resources: { cpus: 0.5 },
    });
  });
});

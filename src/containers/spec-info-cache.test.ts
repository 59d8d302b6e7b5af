import { describe, expect, it } from "vitest";
import { REDACTED } from "../logging/redactor.ts";
import { SecretRegistry } from "../logging/secret-registry.ts";
import type { StoredSpec } from "./container-spec.ts";
import { toSpecInfo } from "./container-spec-info.ts";
import { SpecInfoCache } from "./spec-info-cache.ts";

const DEFAULTS = { memoryMb: 256, cpus: 1, pids: 256 };

describe("the shown specs kept between status answers", () => {
  it("builds a spec's shown form once while the secrets stay as they are", () => {
    const cache = new SpecInfoCache();
    const spec: StoredSpec = { name: "web", env: { MODE: "prod" } };
    let builds = 0;
    const build = () => {
      builds++;
      return toSpecInfo(spec, DEFAULTS, new SecretRegistry().forOwner("alice"));
    };
    const first = cache.get(spec, 7, build);
    expect(cache.get(spec, 7, build)).toBe(first);
    expect(builds).toBe(1);
    // Another spec (a container created again under the same name) is its own entry.
    cache.get({ ...spec }, 7, build);
    expect(builds).toBe(2);
  });

  it("builds it again once a secret added since would hide part of it", () => {
    const secrets = new SecretRegistry();
    const cache = new SpecInfoCache();
    const spec: StoredSpec = { name: "web", env: { GREETING: "hello new-s3cr3t-value" } };
    const show = () =>
      cache.get(spec, secrets.generationOf("alice"), () =>
        toSpecInfo(spec, DEFAULTS, secrets.forOwner("alice")),
      );
    expect(show().env.GREETING).toBe("hello new-s3cr3t-value");

    // alice's next container makes the value a secret of hers: it must not show here either.
    secrets.addEnvironment("alice", undefined, { K: "new-s3cr3t-value" });
    expect(show().env.GREETING).toBe(`hello ${REDACTED}`);
    secrets.removeEnvironment("alice", undefined, { K: "new-s3cr3t-value" });
    expect(show().env.GREETING).toBe("hello new-s3cr3t-value");
    secrets.setTokens(new Map([["alice", "new-s3cr3t-value"]]), undefined);
    expect(show().env.GREETING).toBe(`hello ${REDACTED}`);
  });

  it("keeps alice's spec when bob's secrets change: each owner's creates and deletes move only their own generation", () => {
    const secrets = new SecretRegistry();
    const cache = new SpecInfoCache();
    const spec: StoredSpec = { name: "web", env: { MODE: "prod" } };
    let builds = 0;
    const show = () =>
      cache.get(spec, secrets.generationOf("alice"), () => {
        builds++;
        return toSpecInfo(spec, DEFAULTS, secrets.forOwner("alice"));
      });
    show();
    secrets.addEnvironment("bob", undefined, { K: "bobs-s3cr3t" });
    secrets.removeEnvironment("bob", undefined, { K: "bobs-s3cr3t" });
    secrets.setTokens(new Map([["bob", "bobs-token-value"]]), "admin-token-value");
    show();
    expect(builds).toBe(1);

    // A reload that leaves alice's token as it was keeps her spec too; one that changes it does not.
    secrets.setTokens(new Map([["bob", "bobs-new-token"]]), undefined);
    show();
    expect(builds).toBe(1);
    secrets.setTokens(new Map([["alice", "alices-token-value"]]), undefined);
    show();
    expect(builds).toBe(2);
  });

  it("never sees an owner's generation come back to an earlier value, even once the owner holds no secret", () => {
    const secrets = new SecretRegistry();
    const seen = [secrets.generationOf("alice")];
    for (let i = 0; i < 3; i++) {
      secrets.addEnvironment("alice", undefined, { K: `s3cr3t-${i}` });
      seen.push(secrets.generationOf("alice"));
      secrets.removeEnvironment("alice", undefined, { K: `s3cr3t-${i}` });
      seen.push(secrets.generationOf("alice"));
    }
    expect(new Set(seen).size).toBe(seen.length);
  });
});

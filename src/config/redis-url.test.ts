import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";
import { RedisUrl } from "./redis-url.ts";

describe("BERTH_REDIS_URL", () => {
  const url = "redis://:s3cr%40t-pw@redis.internal:6379/2";

  it("is absent by default: pushes reach this server's clients only", () => {
    expect(loadConfig({}).redis).toBeUndefined();
    expect(loadConfig({ BERTH_REDIS_URL: "" }).redis).toBeUndefined();
  });

  it("takes redis:// and rediss:// URLs, with a user, a database number or neither", () => {
    for (const value of [url, "rediss://berth:s3cr%40t-pw@redis.internal:6380", "redis://127.0.0.1:6379"]) {
      expect(loadConfig({ BERTH_REDIS_URL: value }).redis?.reveal()).toBe(value);
    }
  });

  it.each([
    ["http://:s3cr%40t-pw@redis.internal:6379", /redis:\/\/ or rediss:\/\//],
    ["redis://:s3cr%40t-pw@redis.internal:6379/berth", /database number/],
    ["s3cr%40t-pw", /not a URL/],
    // The Redis client decodes the user and password at connect: a malformed escape threw a URIError at start-up.
    ["redis://:s3cr%zzt-pw@redis.internal:6379", /BERTH_REDIS_URL: .*percent-escape/],
    ["redis://s3cr%zz:pw@redis.internal:6379", /BERTH_REDIS_URL: .*percent-escape/],
  ])("refuses %s without quoting it", (value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ BERTH_REDIS_URL: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain("s3cr");
  });

  it("shows its password to nothing but reveal(): not JSON, inspect (pino, console) or a string", () => {
    const config = loadConfig({ BERTH_REDIS_URL: url });
    const redis = config.redis as RedisUrl;
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 5 }), `${redis}`, redis.redacted]) {
      expect(shown).not.toContain("s3cr");
    }
    expect(redis.redacted).toBe("redis://:[REDACTED]@redis.internal:6379/2");
    expect(inspect(redis)).toBe("RedisUrl(redis://:[REDACTED]@redis.internal:6379/2)");
  });

  it("names the password in both its forms for the redactor", () => {
    expect((RedisUrl.parse(url) as RedisUrl).secrets()).toEqual(["s3cr%40t-pw", "s3cr@t-pw"]);
    expect((RedisUrl.parse("redis://redis.internal") as RedisUrl).secrets()).toEqual([]);
  });
});

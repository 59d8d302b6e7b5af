import { inspect } from "node:util";
import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";
import { DatabaseUrl } from "./database-url.ts";

describe("BERTH_DATABASE_URL", () => {
  const url = "postgres://berth:s3cr%40t-pw@db.internal:5432/berth?sslmode=require";

  it("is absent by default: the store is SQLite in the data directory", () => {
    expect(loadConfig({}).database).toBeUndefined();
    expect(loadConfig({ BERTH_DATABASE_URL: "" }).database).toBeUndefined();
  });

  it("takes postgres:// and postgresql:// URLs, a Unix socket directory too", () => {
    expect(loadConfig({ BERTH_DATABASE_URL: url }).database?.reveal()).toBe(url);
    const socket = "postgresql://berth@localhost/berth?host=%2Fvar%2Frun%2Fpostgresql";
    expect(loadConfig({ BERTH_DATABASE_URL: socket }).database?.reveal()).toBe(socket);
  });

  it.each([
    ["mysql://berth:s3cr%40t-pw@db/berth", /postgres:\/\/ or postgresql:\/\//],
    ["postgres://berth:s3cr%40t-pw@db.internal", /names no database/],
    ["s3cr%40t-pw", /not a URL/],
  ])("refuses %s without quoting it", (value, message) => {
    let thrown: unknown;
    try {
      loadConfig({ BERTH_DATABASE_URL: value });
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(ConfigError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain("s3cr");
  });

  it("shows its password to nothing but reveal(): not JSON, inspect (pino, console) or a string", () => {
    const config = loadConfig({ BERTH_DATABASE_URL: url });
    const db = config.database as DatabaseUrl;
    for (const shown of [JSON.stringify(config), inspect(config, { depth: 5 }), `${db}`, db.redacted]) {
      expect(shown).not.toContain("s3cr");
    }
    expect(db.redacted).toBe("postgres://berth:[REDACTED]@db.internal:5432/berth?sslmode=require");
  });

  it("names the password in both its forms for the redactor", () => {
    const db = DatabaseUrl.parse(url) as DatabaseUrl;
    expect(db.secrets()).toEqual(["s3cr%40t-pw", "s3cr@t-pw"]);
    expect((DatabaseUrl.parse("postgres://berth@db/berth") as DatabaseUrl).secrets()).toEqual([]);
  });
});

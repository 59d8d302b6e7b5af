import { describe, expect, it } from "vitest";
import { PgDatabase, passwordForms } from "./pg-database.ts";

describe("the connection URL's password", () => {
  it("is hidden as written and as decoded", () => {
    expect(passwordForms("postgres://berth:s%40cret@db:5432/berth")).toEqual(["s%40cret", "s@cret"]);
    expect(passwordForms("postgres://berth:plain@db/berth")).toEqual(["plain"]);
    expect(passwordForms("postgres://berth@db/berth")).toEqual([]);
  });

  it("is hidden as written when its escape is malformed and cannot be decoded", async () => {
    expect(passwordForms("postgres://berth:ab%zz@db/berth")).toEqual(["ab%zz"]);
    const db = new PgDatabase("postgres://berth:ab%zz@db/berth");
    try {
      expect(db.hide('password authentication failed for "ab%zz"')).toBe(
        'password authentication failed for "[REDACTED]"',
      );
    } finally {
      await db.close();
    }
  });

  it("is hidden even in a URL that URL cannot read", () => {
    expect(() => new URL("postgres://berth:s3cret@db host/berth")).toThrow();
    expect(passwordForms("postgres://berth:s3cret@db host/berth")).toEqual(["s3cret"]);
  });
});

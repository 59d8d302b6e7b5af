import pg from "pg";
import { describe, expect, it } from "vitest";
import { StorageError } from "../../errors/errors.ts";
import { asPgStorageError } from "./pg-errors.ts";

describe("PostgreSQL errors", () => {
  const hide = (text: string) => text.split("s3cret").join("[REDACTED]");
  const dbError = (code: string, message = "failed") =>
    Object.assign(new pg.DatabaseError(message, 0, "error"), { code });

  it.each([
    ["53100", "disk is full"],
    ["25006", "read-only"],
    ["57P01", "shutting down"],
    ["08006", "(08006)"],
  ])("maps SQLSTATE %s to STORAGE_ERROR", (code, reason) => {
    expect(asPgStorageError(dbError(code), hide)).toMatchObject({
      code: "STORAGE_ERROR",
      details: { reason: expect.stringContaining(reason) },
    });
  });

  it("passes constraint and statement errors through for their caller", () => {
    for (const code of ["23505", "23503", "42601", "22P02"]) {
      const err = dbError(code);
      expect(asPgStorageError(err, hide)).toBe(err);
    }
  });

  it("blanks the password from whatever the server or the driver said", () => {
    const err = Object.assign(new Error("connect ECONNREFUSED s3cret"), { code: "ECONNREFUSED" });
    expect(asPgStorageError(err, hide)).toMatchObject({
      details: { reason: expect.not.stringContaining("s3cret") },
    });
    const lost = asPgStorageError(new Error("Connection terminated unexpectedly near s3cret"), hide);
    expect(lost).toBeInstanceOf(StorageError);
    expect(JSON.stringify((lost as StorageError).details)).not.toContain("s3cret");
  });
});

/** Whether an insert is waiting for the activity lock. */

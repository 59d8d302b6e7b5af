import { afterEach, describe, expect, it, vi } from "vitest";
import { ContainerRepository } from "../../src/store/container-repository.ts";
import { eventually } from "../helpers/deadline.ts";
import { startTestServer } from "../helpers/test-server.ts";

describe("the periodic egress re-check", () => {
  afterEach(() => vi.restoreAllMocks());

  it("logs a store that cannot be read and carries on, rather than end berth with an unhandled rejection", async () => {
    const server = await startTestServer({}, { egressRecheckMs: 50 });
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // The seam is the repository's prototype: a real SQLite read error needs a broken database file under
      // an open handle, which SQLite would only notice on pages it has not cached.
      const all = vi.spyOn(ContainerRepository.prototype, "all").mockImplementation(() => {
        throw new Error("SQLITE_IOERR: disk I/O error");
      });
      await eventually(
        5_000,
        "the failed re-check is logged twice (so it ran again after the failure)",
        () => {
          return (
            server
              .logs()
              .split("\n")
              .filter((l) => l.includes("could not check the egress filter")).length >= 2
          );
        },
      );
      expect(all).toHaveBeenCalled();
      expect(unhandled).toEqual([]);
      // berth still answers.
      (await server.connect("alice")).disconnect();
    } finally {
      process.off("unhandledRejection", onUnhandled);
      vi.restoreAllMocks();
      await server.close();
    }
  });
});

import { type BerthError, isBerthError } from "../../packages/client/src/index.ts";

/**
 * The BerthError that `operation` was refused with, for a test that reads
 * more of it than `rejects.toMatchObject` can say (a message's wording, an
 * issue's path); fails the test when the operation succeeds instead.
 *
 * @example
 *   const err = await refused(alice.containers.create({ name: "x", image: "alpine:latest" }));
 *   expect(err.message).toContain("is not allowed");
 */
export async function refused(operation: Promise<unknown>): Promise<BerthError> {
  try {
    await operation;
  } catch (err) {
    if (isBerthError(err)) return err;
    throw err;
  }
  throw new Error("expected berth to refuse the operation, but it succeeded");
}

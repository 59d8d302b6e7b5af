import { afterEach, beforeEach, describe, it } from "vitest";
import type { ContainerRecord, ReleaseRecord, Store } from "../store-ports.ts";
import { activityContract } from "./activity-contract.ts";
import { containerContract } from "./container-contract.ts";
import { containerRecord } from "./container-record.ts";
import type { ContractContext, StoreHarness } from "./contract-context.ts";
import { placementContract } from "./placement-contract.ts";
import { releaseContentContract } from "./release-content-contract.ts";
import { releaseContract } from "./release-contract.ts";

export type { StoreHarness } from "./contract-context.ts";

/**
 * The behaviour every store must have, declared once and run against each
 * (src/store/sqlite-store.test.ts, src/store/postgres/postgres-store.test.ts):
 * what a service may rely on whichever database berth was given. What only
 * one database can get wrong (commit order of sequences, a server going away)
 * is tested beside that store.
 */
export function describeStoreContract(kind: string, harness: StoreHarness): void {
  describe(`the ${kind} store`, () => {
    let current: Store | undefined;
    let uid = 200_000;
    beforeEach(async () => {
      current = await harness.open();
    });
    afterEach(async () => {
      await current?.close();
    });
    const ctx: ContractContext = {
      harness,
      store: () => {
        if (!current) throw new Error("no store open");
        return current;
      },
      container: (id: string, extra: Partial<ContainerRecord> = {}): ContainerRecord =>
        containerRecord(id, uid++, extra),
      release: (containerId: string, number: number, extra: Partial<ReleaseRecord> = {}): ReleaseRecord => ({
        containerId,
        number,
        status: "previous",
        createdAt: 2_000 + number,
        createdBy: "alice",
        bytes: 100 * number,
        files: number,
        hash: `h${number}`,
        contentDigest: null,
        ...extra,
      }),
    };

    containerContract(ctx);
    releaseContract(ctx);
    releaseContentContract(ctx);
    activityContract(ctx);
    placementContract(ctx);

    it("closes twice without complaint", async () => {
      await ctx.store().close();
      await ctx.store().close();
    });
  });
}

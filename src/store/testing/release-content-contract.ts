import { beforeEach, describe, expect, it } from "vitest";
import { packRelease } from "../../code/pack-release.ts";
import { releaseDigest } from "../../code/release-digest.ts";
import { ContentDigestMismatchError } from "../store-errors.ts";
import type { ContractContext } from "./contract-context.ts";

/** Packed release bytes of one file, and their digest: distinct for every `text`. */
function content(text: string): { bytes: Buffer; digest: string } {
  return packRelease([{ path: "index.js", kind: "file", mode: 0o644, content: Buffer.from(text) }]);
}

const NOW = { graceMs: 0 };

/** The ReleaseContentStore, and the release rows that name its contents. */
export function releaseContentContract(ctx: ContractContext): void {
  describe("release contents", () => {
    const contents = () => ctx.store().releaseContents;
    beforeEach(async () => {
      await ctx.store().containers.insert(ctx.container("C1"));
      await ctx.store().containers.insert(ctx.container("C2"));
    });

    it("gives back the bytes put under their digest, and nothing under another", async () => {
      const a = content("a");
      expect(await contents().has(a.digest)).toBe(false);
      expect(await contents().get(a.digest)).toBeUndefined();
      await contents().put(a.digest, a.bytes);
      expect(await contents().has(a.digest)).toBe(true);
      const back = await contents().get(a.digest);
      expect(Buffer.isBuffer(back)).toBe(true);
      expect(back).toEqual(a.bytes);
      const b = content("b");
      expect(await contents().has(b.digest)).toBe(false);
      expect(await contents().get(b.digest)).toBeUndefined();
    });

    it("keeps the bytes of every value, up to the largest release berth accepts", async () => {
      // Every byte value (a text column would mangle some), and the default BERTH_MAX_CODE_BYTES of content.
      const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
      const large = Buffer.alloc(8 * 1024 * 1024, all);
      const packed = packRelease([{ path: "big.bin", kind: "file", mode: 0o644, content: large }]);
      await contents().put(packed.digest, packed.bytes);
      const back = await contents().get(packed.digest);
      expect(back?.length).toBe(packed.bytes.length);
      expect(back && releaseDigest(back)).toBe(packed.digest);
    });

    it("keeps one row for a digest put twice", async () => {
      const a = content("a");
      await contents().put(a.digest, a.bytes);
      await contents().put(a.digest, Buffer.from(a.bytes));
      expect(await contents().get(a.digest)).toEqual(a.bytes);
      // One row to drop, once no release names it.
      expect(await contents().sweepUnreferenced(NOW)).toBe(1);
      expect(await contents().has(a.digest)).toBe(false);
    });

    it("refuses bytes that are not the digest's with ContentDigestMismatchError, and stores nothing", async () => {
      const a = content("a");
      const b = content("b");
      const wrong = contents().put(a.digest, b.bytes);
      await expect(wrong).rejects.toBeInstanceOf(ContentDigestMismatchError);
      await expect(wrong).rejects.toMatchObject({ digest: a.digest, actual: b.digest });
      for (const digest of ["sha256:nothex", "", `SHA256:${a.digest.slice(7)}`, a.digest.slice(7)]) {
        await expect(contents().put(digest, a.bytes)).rejects.toBeInstanceOf(ContentDigestMismatchError);
      }
      expect(await contents().has(a.digest)).toBe(false);
      expect(await contents().has(b.digest)).toBe(false);
      expect(await contents().sweepUnreferenced(NOW)).toBe(0);
    });

    it("carries a release row's content digest, and none when it has none", async () => {
      const a = content("a");
      await contents().put(a.digest, a.bytes);
      await ctx.store().releases.insert(ctx.release("C1", 1, { contentDigest: a.digest }));
      await ctx.store().releases.insert(ctx.release("C1", 2));
      await ctx.store().releases.insert({ ...ctx.release("C1", 3), contentDigest: undefined });
      expect(await ctx.store().releases.get("C1", 1)).toEqual(
        ctx.release("C1", 1, { contentDigest: a.digest }),
      );
      expect((await ctx.store().releases.list("C1")).map((r) => r.contentDigest)).toEqual([
        null,
        null,
        a.digest,
      ]);
      await ctx.store().releases.setStatus("C1", 1, "pending");
      expect((await ctx.store().releases.pending())[0]?.contentDigest).toBe(a.digest);
    });

    it("refuses a release row naming a content that was never put, and writes no row", async () => {
      const never = content("never put");
      await expect(
        ctx.store().releases.insert(ctx.release("C1", 1, { contentDigest: never.digest })),
      ).rejects.toThrow();
      expect(await ctx.store().releases.list("C1")).toEqual([]);
    });

    it("sweeps the contents no release names, and keeps those one does", async () => {
      const a = content("a");
      const b = content("b");
      const c = content("c");
      const d = content("d");
      for (const x of [a, b, c, d]) await contents().put(x.digest, x.bytes);
      await ctx.store().releases.insert(ctx.release("C1", 1, { contentDigest: a.digest }));
      // One content named by two releases of two containers (the same code deployed twice).
      await ctx.store().releases.insert(ctx.release("C1", 2, { contentDigest: b.digest }));
      await ctx.store().releases.insert(ctx.release("C2", 1, { contentDigest: b.digest }));
      expect(await contents().sweepUnreferenced(NOW)).toBe(2);
      expect(await contents().has(a.digest)).toBe(true);
      expect(await contents().has(b.digest)).toBe(true);
      expect(await contents().has(c.digest)).toBe(false);
      expect(await contents().has(d.digest)).toBe(false);
      // A release deleted (pruned, or a failed update's): its content goes once no other release names it.
      await ctx.store().releases.delete("C1", 2);
      expect(await contents().sweepUnreferenced(NOW)).toBe(0);
      await ctx.store().releases.delete("C2", 1);
      expect(await contents().sweepUnreferenced(NOW)).toBe(1);
      expect(await contents().has(b.digest)).toBe(false);
      expect(await contents().get(a.digest)).toEqual(a.bytes);
    });

    it("sweeps the contents of a deleted container's releases", async () => {
      const a = content("a");
      const shared = content("shared");
      await contents().put(a.digest, a.bytes);
      await contents().put(shared.digest, shared.bytes);
      await ctx.store().releases.insert(ctx.release("C1", 1, { contentDigest: a.digest }));
      await ctx.store().releases.insert(ctx.release("C1", 2, { contentDigest: shared.digest }));
      await ctx.store().releases.insert(ctx.release("C2", 1, { contentDigest: shared.digest }));
      expect(await contents().sweepUnreferenced(NOW)).toBe(0);
      await ctx.store().containers.delete("C1");
      expect(await contents().sweepUnreferenced(NOW)).toBe(1);
      expect(await contents().has(a.digest)).toBe(false);
      expect(await contents().has(shared.digest)).toBe(true);
    });

    it("leaves an unreferenced content alone within the grace after its last put", async () => {
      const a = content("a");
      await contents().put(a.digest, a.bytes);
      // Put a moment ago: an update about to insert the release row that names it.
      expect(await contents().sweepUnreferenced()).toBe(0);
      expect(await contents().sweepUnreferenced({ graceMs: 60_000 })).toBe(0);
      expect(await contents().has(a.digest)).toBe(true);
      expect(await contents().sweepUnreferenced(NOW)).toBe(1);
    });

    it("lets two stores put one digest at once: both succeed, one row", async () => {
      // A second store on the same database, as another API server holds it: connections of its own.
      const other = await ctx.harness.reopen(ctx.store());
      try {
        for (let round = 0; round < 10; round++) {
          const x = content(`round ${round}`);
          await Promise.all([
            contents().put(x.digest, x.bytes),
            other.releaseContents.put(x.digest, x.bytes),
          ]);
          expect(await other.releaseContents.get(x.digest)).toEqual(x.bytes);
          expect(await contents().get(x.digest)).toEqual(x.bytes);
        }
        expect(await contents().sweepUnreferenced(NOW)).toBe(10);
      } finally {
        await other.close();
      }
    });
  });
}

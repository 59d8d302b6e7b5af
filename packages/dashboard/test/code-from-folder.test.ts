import { describe, expect, it } from "vitest";
import { codeFromArchive, codeFromFolder, type PickedFile } from "../src/actions/code-from-folder.ts";
import { CodeInputError } from "../src/actions/code-input-error.ts";

const LIMITS = { maxCodeBytes: 1000, maxCodeFiles: 3, maxPayloadBytes: 1024 * 1024 };

/** A file as `<input type=file webkitdirectory>` gives it: its path starts with the picked folder's name. */
function picked(path: string, content: string | Uint8Array): PickedFile {
  const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
  return {
    name: path.split("/").at(-1)!,
    webkitRelativePath: path.includes("/") ? path : "",
    size: bytes.byteLength,
    arrayBuffer: async () => bytes.slice().buffer as ArrayBuffer,
  };
}

async function refusal(promise: Promise<unknown>): Promise<CodeInputError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof CodeInputError)) throw new Error(`expected a CodeInputError, got ${String(err)}`);
  return err;
}

describe("code from a picked folder", () => {
  it("maps each file to its path under the folder, text as text and anything else as bytes", async () => {
    const binary = new Uint8Array([0xff, 0xfe, 0x00, 0x01]);
    const code = await codeFromFolder(
      [picked("bot/index.js", "console.log(1)"), picked("bot/lib/data.bin", binary)],
      LIMITS,
    );
    expect(code).toEqual({ files: { "index.js": "console.log(1)", "lib/data.bin": binary } });
  });

  it("leaves a repository's .git folder out, as the berth command does", async () => {
    const code = await codeFromFolder(
      [picked("bot/index.js", "x"), picked("bot/.git/HEAD", "ref"), picked("bot/.git/objects/ab", "y")],
      LIMITS,
    );
    expect(Object.keys(code.files ?? {})).toEqual(["index.js"]);
  });

  it("refuses more files than berth's maxCodeFiles before reading any, naming both numbers", async () => {
    const files = ["a", "b", "c", "d"].map((n) => picked(`bot/${n}.js`, "x"));
    const err = await refusal(codeFromFolder(files, LIMITS));
    expect(err.problem).toBe("too-many-files");
    expect(err.message).toContain("4 files");
    expect(err.message).toContain("at most 3 (maxCodeFiles)");
  });

  it("refuses more bytes than berth's maxCodeBytes, naming the size and the limit", async () => {
    const err = await refusal(codeFromFolder([picked("bot/index.js", "x".repeat(1001))], LIMITS));
    expect(err.problem).toBe("too-large");
    expect(err.message).toContain("maxCodeBytes");
    expect(err.message).toContain("1001 B");
  });

  it("refuses what one message to berth could not carry", async () => {
    const limits = { ...LIMITS, maxCodeBytes: 10 * 1024 * 1024, maxPayloadBytes: 100 * 1024 };
    const err = await refusal(codeFromFolder([picked("bot/big.js", "x".repeat(50 * 1024))], limits));
    expect(err.message).toContain("maxPayloadBytes");
  });

  it("refuses an empty folder and a path berth would not take", async () => {
    expect((await refusal(codeFromFolder([picked("bot/.git/HEAD", "x")], LIMITS))).problem).toBe("empty");
    const err = await refusal(codeFromFolder([picked("bot/a\u0007b.js", "x")], LIMITS));
    expect(err.problem).toBe("bad-path");
  });
});

describe("code from a picked archive", () => {
  it("sends a .tar.gz as it is", async () => {
    const bytes = new Uint8Array([0x1f, 0x8b, 8, 0]);
    expect(await codeFromArchive(picked("bot.tar.gz", bytes), LIMITS)).toEqual({ archive: bytes });
  });

  it("refuses a file that is not a tar or tar.gz, and one too big for a message", async () => {
    expect((await refusal(codeFromArchive(picked("bot.zip", "PK"), LIMITS))).problem).toBe("not-an-archive");
    const big = picked("bot.tar", "x".repeat(2000));
    expect((await refusal(codeFromArchive(big, { ...LIMITS, maxPayloadBytes: 1000 }))).problem).toBe(
      "too-large",
    );
  });
});

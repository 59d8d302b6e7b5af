import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { useTestServer } from "../helpers/test-server.ts";
import { buildThrowawayImageFrom, removeImage } from "../helpers/throwaway-image.ts";

const doc = await readFile(new URL("../../docs/images.md", import.meta.url), "utf8");

/** The fenced block of `lang` in docs/images.md whose text starts with `first` (indented under a list item). */
function block(lang: string, first: string): string {
  for (const m of doc.matchAll(/^( *)```(\w+)\n([\s\S]*?)^\1```$/gm)) {
    const [, indent = "", fence, body = ""] = m;
    const text = body.replace(new RegExp(`^${indent}`, "gm"), "");
    if (fence === lang && text.startsWith(first)) return text;
  }
  throw new Error(`docs/images.md has no ${lang} block starting with ${first}`);
}

describe("the worked example of docs/images.md", () => {
  const server = useTestServer();
  let work: string;
  let image = "";

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-img-doc-"));
    await mkdir(join(work, "site", "tinyweather"), { recursive: true });
    await writeFile(join(work, "site", "tinyweather", "__init__.py"), block("python", "# site/tinyweather/"));
    await writeFile(join(work, "Dockerfile"), block("dockerfile", "FROM berth/runtime-python:3.11"));
    // `chmod -R a+rX site`, as the page says: mkdtemp made the folder 0700.
    for (const dir of [work, join(work, "site"), join(work, "site", "tinyweather")]) await chmod(dir, 0o755);
    image = await buildThrowawayImageFrom(work, "weather");
  });

  afterAll(async () => {
    if (image) await removeImage(image);
    await rm(work, { recursive: true, force: true });
  });

  it("builds an image that passes every check with berth's probe and with the bot's own code", async () => {
    const admin = await server.connect("admin");
    const probed = await admin.images.check(image);
    expect(probed.checks.filter((c) => c.status !== "passed")).toEqual([]);
    expect(probed).toMatchObject({ ok: true, runtime: "python", code: "probe" });

    const bot = await admin.images.check(image, {
      code: { files: { "main.py": block("python", "# bot/main.py") } },
    });
    expect(bot.checks.filter((c) => c.status !== "passed")).toEqual([]);
    expect(bot).toMatchObject({ ok: true, code: "given", protocol: 1 });
    expect(bot.checks.find((c) => c.name === "workdir")?.summary).toMatch(
      /^the workload ran in \/run\/berth-code\/current as uid \d+$/,
    );
  });
});

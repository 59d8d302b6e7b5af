import { execFileSync } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// Server code in a test only: the archive must be one berth's own reader accepts.
import { readCodeArchive } from "../../../../src/code/read-code-archive.ts";
import { codeFromDirectory } from "../../src/code/code-from-directory.ts";

const LIMITS = { maxBytes: 8 * 1024 * 1024, maxFiles: 10_000 };

describe("codeFromDirectory", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "berth-code-"));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  const put = async (path: string, content: string | Uint8Array = "") => {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  };

  /** What berth would write for an archive answer: path → content (files) or "->target" (links) or "/" (folders). */
  const unpacked = (archive: Uint8Array) =>
    Object.fromEntries(
      readCodeArchive(archive, LIMITS).map((e) => [
        e.path,
        e.kind === "file"
          ? Buffer.from(e.content).toString("latin1")
          : e.kind === "dir"
            ? "/"
            : `->${e.target}`,
      ]),
    );

  it("sends text files as { files }", async () => {
    await put("index.js", "console.log('hi')\n");
    await put("lib/util.js", "export const é = 1;\n");
    expect(await codeFromDirectory(dir)).toEqual({
      files: { "index.js": "console.log('hi')\n", "lib/util.js": "export const é = 1;\n" },
    });
  });

  it("sends a folder with a binary file as a tar.gz that berth's reader unpacks exactly", async () => {
    const binary = new Uint8Array([0, 0xff, 0xfe, 0x80, 10]);
    await put("index.js", "x");
    await put("assets/logo.bin", binary);
    const code = await codeFromDirectory(dir);
    expect(code).toHaveProperty("archive");
    const archive = (code as { archive: Uint8Array }).archive;
    expect([archive[0], archive[1]]).toEqual([0x1f, 0x8b]);
    expect(unpacked(archive)).toEqual({
      "assets/logo.bin": Buffer.from(binary).toString("latin1"),
      "index.js": "x",
    });
  });

  it("keeps long and non-ASCII names through pax headers", async () => {
    const long = `${"a".repeat(120)}/${"b".repeat(120)}/${"ü".repeat(60)}.js`;
    await put(long, "deep");
    await put("bin.dat", new Uint8Array([0xff]));
    const { archive } = (await codeFromDirectory(dir)) as { archive: Uint8Array };
    expect(unpacked(archive)).toMatchObject({ [long]: "deep" });
  });

  it("uses an archive for what { files } cannot carry: executables, empty folders, symlinks", async () => {
    await put("index.js", "x");
    await put("run.sh", "#!/bin/sh\n");
    await chmod(join(dir, "run.sh"), 0o755);
    await mkdir(join(dir, "empty"));
    await symlink("index.js", join(dir, "main.js"));
    const { archive } = (await codeFromDirectory(dir)) as { archive: Uint8Array };
    const entries = readCodeArchive(archive, LIMITS);
    expect(entries.find((e) => e.path === "run.sh")).toMatchObject({ mode: 0o755 });
    expect(entries.find((e) => e.path === "index.js")).toMatchObject({ mode: 0o644 });
    expect(unpacked(archive)).toEqual({
      empty: "/",
      "index.js": "x",
      "main.js": "->index.js",
      "run.sh": "#!/bin/sh\n",
    });
  });

  it("rewrites a link that stays inside into the only form berth accepts ('..' at the front)", async () => {
    await put("lib/a.js", "a");
    await put("bin/b.js", "b");
    await symlink("../bin/../lib/a.js", join(dir, "bin", "a.js"));
    await symlink(join(dir, "lib"), join(dir, "libdir"));
    const { archive } = (await codeFromDirectory(dir)) as { archive: Uint8Array };
    expect(unpacked(archive)).toMatchObject({ "bin/a.js": "->../lib/a.js", libdir: "->lib" });
  });

  it("resolves a link through another link as the folder does, not by its letters", async () => {
    // c/.. is sub, not the root: `a -> c/../x` leads to sub/x on disk, and must in the archive too.
    await put("x", "top");
    await put("sub/x", "inner");
    await put("sub/deep/y", "y");
    await symlink("sub/deep", join(dir, "c"));
    await symlink("c/../x", join(dir, "a"));
    const { archive } = (await codeFromDirectory(dir)) as { archive: Uint8Array };
    expect(unpacked(archive)).toMatchObject({ a: "->sub/x", c: "->sub/deep" });
  });

  it("refuses a link whose '..' climbs out through another link", async () => {
    await put("sub/deep/y", "y");
    await symlink("sub/deep", join(dir, "c"));
    // By its letters c/../../x leaves the folder; on disk it is sub/deep/../../x = x, inside.
    await symlink("c/../../x", join(dir, "a"));
    await symlink("c/../../../outside", join(dir, "b"));
    await expect(codeFromDirectory(dir, { ignore: ["b"] })).resolves.toHaveProperty("archive");
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      details: { reason: "symlink-escapes", path: "b" },
    });
  });

  it.each([
    ["a relative climb", "../outside"],
    ["an absolute path", "/etc/passwd"],
  ])("refuses a symlink that leaves the folder by %s", async (_what, target) => {
    await put("index.js", "x");
    await symlink(target, join(dir, "out"));
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "symlink-escapes", path: "out" },
    });
  });

  it("refuses a symlink that leaves through another link", async () => {
    await put("index.js", "x");
    await symlink("/etc", join(dir, "etc"));
    await symlink("etc/passwd", join(dir, "pw"));
    await expect(codeFromDirectory(dir, { ignore: ["/etc"] })).rejects.toMatchObject({
      details: { reason: "symlink-escapes", path: "pw" },
    });
  });

  it("refuses a FIFO, naming it, unless it is ignored", async () => {
    await put("index.js", "x");
    execFileSync("mkfifo", [join(dir, "pipe")]);
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "special-file", path: "pipe" },
    });
    await expect(codeFromDirectory(dir, { ignore: ["pipe"] })).resolves.toEqual({
      files: { "index.js": "x" },
    });
  });

  it("refuses a path berth would refuse", async () => {
    await put("a\\b.js", "x");
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      details: { reason: "bad-path", path: "a\\b.js" },
    });
  });

  it("leaves out .git/ and what .berthignore and the ignore option list, but keeps node_modules/", async () => {
    await put("index.js", "x");
    await put(".git/HEAD", "ref");
    await put("node_modules/dep/index.js", "dep");
    await put("secret.env", "TOKEN=1");
    await put("logs/a.log", "l");
    await put("logs/keep.log", "k");
    await put("test/a.test.js", "t");
    await put(".berthignore", "# local only\n*.env\nlogs/*\n!logs/keep.log\n");
    expect(await codeFromDirectory(dir, { ignore: ["test/"] })).toEqual({
      files: {
        ".berthignore": expect.any(String),
        "index.js": "x",
        "logs/keep.log": "k",
        "node_modules/dep/index.js": "dep",
      },
    });
  });

  // A hostile folder's .berthignore is read before the walk's checks; it gets them itself.
  it("refuses a FIFO named .berthignore instead of waiting for a writer", async () => {
    await put("index.js", "x");
    execFileSync("mkfifo", [join(dir, ".berthignore")]);
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "special-file", path: ".berthignore" },
    });
  });

  it.each([
    ["/dev/zero", "/dev/zero"],
    ["a file inside", "rules.txt"],
  ])("refuses a .berthignore that is a link (to %s): only a regular file is read", async (_what, target) => {
    await put("rules.txt", "*.log\n");
    await symlink(target, join(dir, ".berthignore"));
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      code: "VALIDATION_FAILED",
      details: { reason: "special-file", path: ".berthignore" },
    });
  });

  it("refuses a .berthignore larger than 1 MiB", async () => {
    await put(".berthignore", `${"#".repeat(1024 * 1024)}\n`);
    await expect(codeFromDirectory(dir)).rejects.toMatchObject({
      details: { reason: "too-large", path: ".berthignore", limit: 1024 * 1024 },
    });
  });

  it("lets .berthignore bring .git back with a '!' line", async () => {
    await put(".git/HEAD", "ref");
    await put(".berthignore", "!.git/\n");
    expect(await codeFromDirectory(dir)).toMatchObject({ files: { ".git/HEAD": "ref" } });
  });

  it("refuses code over maxCodeBytes with PAYLOAD_TOO_LARGE, naming the limit", async () => {
    await put("index.js", "x".repeat(100));
    await expect(codeFromDirectory(dir, { limits: { maxCodeBytes: 99 } })).rejects.toMatchObject({
      name: "BerthError",
      code: "PAYLOAD_TOO_LARGE",
      retryable: false,
      details: { reason: "too-large", limit: 99 },
    });
  });

  it("refuses more files than maxCodeFiles", async () => {
    for (const name of ["a", "b", "c"]) await put(name, name);
    await expect(codeFromDirectory(dir, { limits: { maxCodeFiles: 2 } })).rejects.toMatchObject({
      code: "PAYLOAD_TOO_LARGE",
      details: { reason: "too-many-files", limit: 2 },
    });
  });

  it("counts every archive entry against maxCodeFiles, as berth does", async () => {
    await put("a", "a");
    await mkdir(join(dir, "e1"));
    await mkdir(join(dir, "e2"));
    await expect(codeFromDirectory(dir, { limits: { maxCodeFiles: 2 } })).rejects.toMatchObject({
      details: { reason: "too-many-files" },
    });
  });

  it("switches to an archive when the files do not fit one message, and refuses when neither does", async () => {
    // Text that compresses well: too large as JSON for a 100 KiB message, small as a tar.gz.
    await put("index.js", "x".repeat(80 * 1024));
    const limits = { maxPayloadBytes: 100 * 1024 };
    expect(await codeFromDirectory(dir, { limits })).toHaveProperty("archive");
    await put("noise.bin", crypto.getRandomValues(new Uint8Array(60 * 1024)));
    await expect(codeFromDirectory(dir, { limits })).rejects.toMatchObject({
      details: { reason: "too-large", limit: 100 * 1024 },
    });
  });

  it("refuses a path that is not a folder", async () => {
    await put("file.js", "x");
    await expect(codeFromDirectory(join(dir, "file.js"))).rejects.toMatchObject({
      details: { reason: "not-a-directory" },
    });
    await expect(codeFromDirectory(join(dir, "missing"))).rejects.toMatchObject({
      details: { reason: "unreadable" },
    });
  });
});

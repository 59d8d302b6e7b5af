import { describe, expect, it } from "vitest";
import type { ImageFacts } from "../docker/docker-client.ts";
import { defaultCommandOf, entryFileOf, requireEntryFile, staleEntryLabel } from "./entry-file.ts";
import type { BerthImageLabels } from "./image-labels.ts";

const file = (path: string) => ({
  path,
  kind: "file" as const,
  content: Buffer.from("1"),
  mode: 0o644 as const,
});
const image = (facts: Partial<ImageFacts>, labels: BerthImageLabels = {}) => ({
  image: "img",
  facts: { entrypoint: [], cmd: [], labels: {}, ...facts },
  labels,
});

describe("the entry file of an image's default command", () => {
  it("is the berth.entry label first, when the default command runs it", () => {
    expect(entryFileOf(image({ cmd: ["python3", "main.py"] }, { entry: "main.py" }))).toBe("main.py");
    expect(entryFileOf(image({ cmd: ["node", "/app/src/app.js"] }, { entry: "src/app.js" }))).toBe(
      "src/app.js",
    );
    expect(
      entryFileOf(
        image({ cmd: ["python3", "bot.py"] }, { entry: "bot.py", command: ["python3", "-u", "bot.py"] }),
      ),
    ).toBe("bot.py");
  });

  it("is not a berth.entry that the default command does not run: one inherited from a base image", () => {
    // FROM berth/runtime-python:3.11, CMD ["python3", "bot.py"], LABEL berth.command="": main.py stays behind.
    const derived = image({ cmd: ["python3", "bot.py"] }, { entry: "main.py", runtime: "python" });
    expect(entryFileOf(derived)).toBe(undefined);
    expect(staleEntryLabel(derived)).toBe("main.py");
    expect(() => requireEntryFile([file("bot.py")], derived, "python")).not.toThrow();
    // The berth.command label is the command when it is there, stale or not.
    const labelled = image(
      { cmd: ["python3", "bot.py"] },
      { entry: "main.py", command: ["python3", "main.py"] },
    );
    expect(entryFileOf(labelled)).toBe("main.py");
    expect(staleEntryLabel(labelled)).toBe(undefined);
    // A partial name is not the file: xmain.py does not run main.py.
    expect(staleEntryLabel(image({ cmd: ["python3", "xmain.py"] }, { entry: "main.py" }))).toBe("main.py");
    // Without the label's help, an old /app command still says it.
    expect(entryFileOf(image({ cmd: ["node", "/app/index.js"] }, { entry: "src/app.js" }))).toBe("index.js");
  });

  it("is, without the label, the first argument under /app/, from the entrypoint then the command (images from before labels)", () => {
    expect(entryFileOf(image({ cmd: ["node", "/app/index.js"] }))).toBe("index.js");
    expect(entryFileOf(image({ entrypoint: ["python3"], cmd: ["/app/bot/main.py", "--x"] }))).toBe(
      "bot/main.py",
    );
    expect(
      entryFileOf(image({ entrypoint: ["/usr/bin/tini", "--"], cmd: ["sh", "-c", "node /app/x.js"] })),
    ).toBe(undefined);
    expect(entryFileOf(image({}))).toBe(undefined);
    expect(entryFileOf(image({ cmd: ["node", "/app/"] }))).toBe(undefined);
    // A relative command says nothing berth can check without the label.
    expect(entryFileOf(image({ cmd: ["node", "index.js"] }))).toBe(undefined);
  });

  it("comes with the default command: the berth.command label, else ENTRYPOINT then CMD", () => {
    expect(
      defaultCommandOf(image({ cmd: ["python3", "main.py"] }, { command: ["python3", "-u", "main.py"] })),
    ).toEqual(["python3", "-u", "main.py"]);
    expect(defaultCommandOf(image({ entrypoint: ["tini"], cmd: ["node", "/app/index.js"] }))).toEqual([
      "tini",
      "node",
      "/app/index.js",
    ]);
  });

  it("must be in the code, as a file or a link, and is named when it is not", () => {
    const old = image({ cmd: ["node", "/app/index.js"] });
    expect(() => requireEntryFile([file("index.js")], old, undefined)).not.toThrow();
    expect(() =>
      requireEntryFile([{ path: "index.js", kind: "symlink", target: "dist/index.js" }], old, undefined),
    ).not.toThrow();
    expect(() => requireEntryFile([{ path: "index.js", kind: "dir" }], old, undefined)).toThrow(
      /The code has no 'index.js', which the image img runs by default \(node \/app\/index.js\)/,
    );
    expect(() => requireEntryFile([file("src/index.js")], old, undefined)).toThrow(
      expect.objectContaining({ code: "VALIDATION_FAILED", details: { field: "code", missing: "index.js" } }),
    );
    expect(() => requireEntryFile([], image({ entrypoint: ["/bin/app"] }), undefined)).not.toThrow();
  });

  it("names the runtime when there is one", () => {
    const python = image(
      { cmd: ["python3", "main.py"] },
      { entry: "main.py", command: ["python3", "main.py"] },
    );
    expect(() => requireEntryFile([file("main.py")], python, "python")).not.toThrow();
    expect(() => requireEntryFile([file("index.js")], python, "python")).toThrow(
      expect.objectContaining({
        code: "VALIDATION_FAILED",
        message:
          "The code has no 'main.py', which the python runtime's image img runs by default (python3 main.py); add 'main.py' to the code, or give a `command` that runs your entry file.",
        details: { field: "code", missing: "main.py", runtime: "python" },
      }),
    );
  });
});

import { describe, expect, it } from "vitest";
import type { Runtime } from "#protocol";
import { loadConfig } from "../config/config.ts";
import type { BerthImageLabels } from "./image-labels.ts";
import { imageOfSpec, runtimeOfImage } from "./runtime-choice.ts";

const config = loadConfig({ BERTH_ALLOWED_IMAGES: "acme/py:1,acme/node:1,acme/plain:1" });
const NODE = "berth/runtime-node:24";
const PYTHON = "berth/runtime-python:3.11";
/** What each image's labels say on this engine: berth's node image from before labels has none. */
const LABELS: Record<string, BerthImageLabels> = {
  [NODE]: {},
  [PYTHON]: { runtime: "python" },
  "acme/py:1": { runtime: "python" },
  "acme/node:1": { runtime: "node" },
  "acme/plain:1": {},
};

function choose(spec: { runtime?: Runtime; image?: string }) {
  const image = imageOfSpec(spec, config);
  try {
    return { image, runtime: runtimeOfImage(spec, image, LABELS[image] ?? {}, config) };
  } catch (err) {
    return { image, error: (err as { code: string }).code };
  }
}

describe("choosing the image and runtime of a spec", () => {
  it.each([
    // neither
    [{}, { image: NODE, runtime: "node" }],
    // runtime only: the server's image for it
    [{ runtime: "node" }, { image: NODE, runtime: "node" }],
    [{ runtime: "python" }, { image: PYTHON, runtime: "python" }],
    // image only: what its label says, else what the server configured it for, else nothing
    [{ image: PYTHON }, { image: PYTHON, runtime: "python" }],
    [{ image: NODE }, { image: NODE, runtime: "node" }],
    [{ image: "acme/py:1" }, { image: "acme/py:1", runtime: "python" }],
    [{ image: "acme/plain:1" }, { image: "acme/plain:1", runtime: undefined }],
    // both, agreeing: by the label, or as the server's image for that runtime (no label)
    [
      { runtime: "python", image: "acme/py:1" },
      { image: "acme/py:1", runtime: "python" },
    ],
    [
      { runtime: "node", image: "acme/node:1" },
      { image: "acme/node:1", runtime: "node" },
    ],
    [
      { runtime: "node", image: NODE },
      { image: NODE, runtime: "node" },
    ],
    [
      { runtime: "python", image: PYTHON },
      { image: PYTHON, runtime: "python" },
    ],
    // both, disagreeing
    [
      { runtime: "node", image: "acme/py:1" },
      { image: "acme/py:1", error: "VALIDATION_FAILED" },
    ],
    [
      { runtime: "python", image: "acme/node:1" },
      { image: "acme/node:1", error: "VALIDATION_FAILED" },
    ],
    [
      { runtime: "python", image: NODE },
      { image: NODE, error: "VALIDATION_FAILED" },
    ],
    [
      { runtime: "node", image: PYTHON },
      { image: PYTHON, error: "VALIDATION_FAILED" },
    ],
    [
      { runtime: "python", image: "acme/plain:1" },
      { image: "acme/plain:1", error: "VALIDATION_FAILED" },
    ],
  ] as const)("%j → %j", (spec, expected) => {
    expect(choose(spec)).toEqual(expected);
  });

  it("names both, and what the image says, when they disagree", () => {
    const label = () =>
      runtimeOfImage({ runtime: "node", image: "acme/py:1" }, "acme/py:1", { runtime: "python" }, config);
    expect(label).toThrow(
      expect.objectContaining({
        message:
          "The runtime 'node' and the image 'acme/py:1' disagree: the image is a python image (its berth.runtime label). Leave out image to run the server's node image (berth/runtime-node:24), or leave out runtime to run this image as it is.",
        details: { field: "runtime", runtime: "node", image: "acme/py:1", imageRuntime: "python" },
      }),
    );
    const none = () =>
      runtimeOfImage({ runtime: "python", image: "acme/plain:1" }, "acme/plain:1", {}, config);
    expect(none).toThrow(/the image does not say which runtime it is for \(it has no berth.runtime label\)/);
  });

  it("blames the server, not the client, when its image for a runtime is labelled as another", () => {
    const misconfigured = loadConfig({ BERTH_RUNTIME_IMAGES: "python=acme/node:1" });
    expect(() =>
      runtimeOfImage({ runtime: "python" }, "acme/node:1", { runtime: "node" }, misconfigured),
    ).toThrow(
      expect.objectContaining({
        code: "IMAGE_INCOMPATIBLE",
        details: { image: "acme/node:1", runtime: "python", imageRuntime: "node" },
      }),
    );
    // The default image runs as what it is.
    expect(runtimeOfImage({}, "x:1", { runtime: "python" }, misconfigured)).toBe("python");
  });

  it("refuses a runtime the operator turned off, with or without an image, naming those it offers", () => {
    const off = loadConfig({ BERTH_RUNTIME_IMAGES: "python=", BERTH_ALLOWED_IMAGES: "acme/py:1" });
    for (const spec of [{ runtime: "python" as const }, { runtime: "python" as const, image: "acme/py:1" }]) {
      expect(() => imageOfSpec(spec, off)).toThrow(
        expect.objectContaining({
          code: "VALIDATION_FAILED",
          message:
            "This server does not offer the python runtime (its operator turned it off); the runtimes it offers: node.",
          details: { field: "runtime", runtime: "python", offered: ["node"] },
        }),
      );
    }
    expect(imageOfSpec({}, off)).toBe(NODE);
    expect(imageOfSpec({ image: "acme/py:1" }, off)).toBe("acme/py:1");
  });
});

import { RUNTIMES, type Runtime } from "#protocol";

/** berth's own images (scripts/setup.mjs builds them): what BERTH_RUNTIME_IMAGES says when it is not set. */
export const DEFAULT_RUNTIME_IMAGES: Readonly<Record<Runtime, string>> = Object.freeze({
  node: "berth/runtime-node:24",
  python: "berth/runtime-python:3.11",
});

/**
 * The image of each runtime this server offers. `node` always has one: it is
 * the runtime of a spec that names neither `runtime` nor `image`; any other
 * may be turned off, and then has none.
 */
export type RuntimeImages = Readonly<{ node: string } & Partial<Record<Runtime, string>>>;

/** The image of each runtime, or the first problem found, in words for the start-up error. */
export type RuntimeImagesResult = { ok: true; images: RuntimeImages } | { ok: false; problem: string };

/**
 * Reads BERTH_RUNTIME_IMAGES (`node=IMAGE,python=IMAGE`; a runtime left out
 * keeps berth's own image, and `python=` — no image — turns that runtime off:
 * it is neither allowed nor offered) together with BERTH_DEFAULT_IMAGE, which predates
 * runtimes and means the node runtime's image — the one a spec naming neither
 * `runtime` nor `image` gets. Either variable may set it; both may only when
 * they agree, since berth could not tell which one the operator meant.
 * Each runtime needs an image of its own: one image carries one
 * `berth.runtime` label, so it cannot be two runtimes at once. `node` cannot
 * be turned off: a spec naming neither `runtime` nor `image` runs it, and a
 * server that refused such specs would break every client written before
 * runtimes (BERTH_DEFAULT_IMAGE may name any image for it instead).
 *
 * @example parseRuntimeImages(["python=acme/py:3.11"], undefined)
 *   // → { ok: true, images: { node: "berth/runtime-node:24", python: "acme/py:3.11" } }
 */
export function parseRuntimeImages(
  entries: readonly string[],
  defaultImage: string | undefined,
): RuntimeImagesResult {
  const images: { node: string } & Partial<Record<Runtime, string>> = { ...DEFAULT_RUNTIME_IMAGES };
  const named = new Set<string>();
  for (const entry of entries) {
    const at = entry.indexOf("=");
    const name = entry.slice(0, at).trim();
    const image = entry.slice(at + 1).trim();
    if (at <= 0) {
      return {
        ok: false,
        problem: `BERTH_RUNTIME_IMAGES: '${entry}' is not RUNTIME=IMAGE (e.g. python=berth/runtime-python:3.11)`,
      };
    }
    if (!isRuntime(name)) {
      return {
        ok: false,
        problem: `BERTH_RUNTIME_IMAGES: '${name}' is not a runtime berth knows (${RUNTIMES.join(", ")})`,
      };
    }
    if (named.has(name)) return { ok: false, problem: `BERTH_RUNTIME_IMAGES: '${name}' is named twice` };
    if (image.length > 255)
      return {
        ok: false,
        problem: `BERTH_RUNTIME_IMAGES: the image of '${name}' is longer than 255 characters`,
      };
    named.add(name);
    if (image !== "") {
      images[name] = image;
      continue;
    }
    if (name === "node") {
      return {
        ok: false,
        problem:
          "BERTH_RUNTIME_IMAGES: 'node=' would turn off the node runtime, which cannot be: it runs every spec that names neither runtime nor image; give it an image (node=IMAGE, or BERTH_DEFAULT_IMAGE) instead",
      };
    }
    delete images[name];
  }
  if (defaultImage !== undefined) {
    if (named.has("node") && images.node !== defaultImage) {
      return {
        ok: false,
        problem: `BERTH_DEFAULT_IMAGE '${defaultImage}' and BERTH_RUNTIME_IMAGES node=${images.node} disagree: both name the node runtime's image (the default); set one of them, or the same image in both`,
      };
    }
    images.node = defaultImage;
  }
  for (const a of RUNTIMES) {
    for (const b of RUNTIMES) {
      if (a < b && images[a] !== undefined && images[a] === images[b]) {
        return {
          ok: false,
          problem: `BERTH_RUNTIME_IMAGES: '${a}' and '${b}' have the same image ${images[a]}; each runtime needs an image of its own`,
        };
      }
    }
  }
  return { ok: true, images: Object.freeze(images) };
}

export function isRuntime(value: string): value is Runtime {
  return (RUNTIMES as readonly string[]).includes(value);
}

/**
 * The runtimes this server offers — those with an image — in RUNTIMES order.
 *
 * @example offeredRuntimes({ node: "berth/runtime-node:24" }) // → ["node"]
 */
export function offeredRuntimes(images: RuntimeImages): Runtime[] {
  return RUNTIMES.filter((runtime) => images[runtime] !== undefined);
}

import type { Config } from "../config/config.ts";
import { ValidationError } from "../errors/errors.ts";
import type { ContainerSpec } from "./container-spec.ts";

/**
 * The checks on a spec that depend on this server's configuration (the
 * schema checks everything else): an allowed image, network only where
 * allowed, resources within the server's ceilings.
 */
export function checkSpecLimits(spec: ContainerSpec, image: string, config: Config): void {
  const fail = (field: string, message: string): never => {
    throw new ValidationError(message, { details: { field } });
  };
  if (!config.allowedImages.includes(image)) {
    // The operator's list, which every client of this server may know (server:info will publish it too).
    throw new ValidationError(
      `The image '${shorten(image)}' is not allowed on this server; use one of: ${config.allowedImages.join(", ")} (or leave image out, and name a runtime: ${runtimeList(config)}).`,
      { details: { field: "image", allowedImages: [...config.allowedImages] } },
    );
  }
  if (spec.network === "outbound" && !config.allowNetwork) {
    fail("network", "Network access is not allowed on this server.");
  }
  const r = spec.resources;
  if (r?.memoryMb !== undefined && r.memoryMb > config.maxMemoryMb) {
    fail("resources.memoryMb", `memoryMb may be at most ${config.maxMemoryMb}.`);
  }
  if (r?.cpus !== undefined && r.cpus > config.maxCpus)
    fail("resources.cpus", `cpus may be at most ${config.maxCpus}.`);
  if (r?.pids !== undefined && r.pids > config.maxPids)
    fail("resources.pids", `pids may be at most ${config.maxPids}.`);
}

/**
 * A random free uid in the configured range. Random rather than the lowest
 * free one, so that containers of different berth instances sharing an engine
 * (which cannot see each other's rows) are unlikely to share one either.
 * `isTaken` may ask the store; the uid is free when it answered, and the
 * store's uniqueness (UidTakenError) catches one taken since.
 */
export async function allocateUid(
  range: { first: number; last: number },
  isTaken: (uid: number) => boolean | Promise<boolean>,
): Promise<number> {
  for (let attempt = 0; attempt < 1000; attempt++) {
    const uid = range.first + Math.floor(Math.random() * (range.last - range.first + 1));
    if (!(await isTaken(uid))) return uid;
  }
  throw new ValidationError("No free uid is left in BERTH_UID_RANGE; delete containers or widen the range.");
}

/** `node (berth/runtime-node:24), python (…)`, for a message. */
function runtimeList(config: Config): string {
  return Object.entries(config.runtimeImages)
    .map(([name, image]) => `${name} (${image})`)
    .join(", ");
}

/** A client's text echoed in a message, cut so that a 255-character name does not drown the rest. */
function shorten(text: string, max = 80): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

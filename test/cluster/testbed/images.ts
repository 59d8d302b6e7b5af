import { createReadStream, createWriteStream, existsSync } from "node:fs";
import { readdir, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import Dockerode from "dockerode";
import { PREFIX } from "./names.ts";

/** The shared engine, which the test bed only reads images from. */
const shared = new Dockerode({ socketPath: "/var/run/docker.sock" });

/**
 * `docker save` of an image from the shared engine, kept beside the test bed's
 * directory under the image's id (a tear-down keeps it, so that the next `up`
 * skips the save; a newer build of the image replaces it).
 */
export async function savedImage(image: string): Promise<string> {
  const { Id } = await shared.getImage(image).inspect();
  const prefix = `${PREFIX}image-${image.replace(/[^A-Za-z0-9_.-]/g, "_")}-`;
  const file = join(tmpdir(), `${prefix}${Id.replace(/^sha256:/, "").slice(0, 16)}.tar`);
  if (existsSync(file)) return file;
  for (const old of await readdir(tmpdir())) {
    if (old.startsWith(prefix)) await rm(join(tmpdir(), old), { force: true });
  }
  // Written aside and renamed: a concurrent run never reads half a tar.
  const partial = `${file}.${process.pid}.partial`;
  await pipeline((await shared.getImage(image).get()) as NodeJS.ReadableStream, createWriteStream(partial));
  await rename(partial, file);
  return file;
}

/** Loads a saved image into one engine. */
export async function loadImage(docker: Dockerode, tar: string, image: string): Promise<void> {
  const progress = (await docker.loadImage(createReadStream(tar))) as NodeJS.ReadableStream;
  let text = "";
  for await (const chunk of progress) text += chunk.toString();
  if (/"error"/.test(text)) throw new Error(`could not load ${image}: ${text.slice(0, 500)}`);
  await docker.getImage(image).inspect();
}

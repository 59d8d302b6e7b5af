import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";

/**
 * Builds an image from a Dockerfile given as text (no build context: FROM an
 * image the engine has, LABEL, CMD, … — offline), tagged with a name of its
 * own under `berth-test/`, and answers the tag. Remove it with removeImage.
 *
 * @example const tag = await buildThrowawayImage(`FROM berth/runtime-node:24\nLABEL berth.runtime=node\n`);
 */
export async function buildThrowawayImage(dockerfile: string, name = "image"): Promise<string> {
  const tag = `berth-test/${name}:${randomBytes(4).toString("hex")}`;
  await docker(["build", "-q", "-t", tag, "-"], dockerfile);
  return tag;
}

/** Like buildThrowawayImage, from a folder that holds a Dockerfile and what it copies. */
export async function buildThrowawayImageFrom(contextDir: string, name = "image"): Promise<string> {
  const tag = `berth-test/${name}:${randomBytes(4).toString("hex")}`;
  await docker(["build", "-q", "-t", tag, contextDir]);
  return tag;
}

/** Removes a throwaway image; one that is gone already is no error. */
export async function removeImage(tag: string): Promise<void> {
  await docker(["rmi", "-f", tag]).catch(() => {});
}

function docker(args: string[], input = ""): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("docker", args, { stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.on("data", (c: Buffer) => {
      out += c.toString();
    });
    child.stderr.on("data", (c: Buffer) => {
      err += c.toString();
    });
    child.once("error", reject);
    child.once("close", (code) =>
      code === 0 ? resolve(out) : reject(new Error(`docker ${args.join(" ")} failed (${code}): ${err}`)),
    );
    // A docker that exits before it read its input (most commands read none) closes the pipe: the write's
    // EPIPE says nothing the exit code does not, and unheard it would end the test worker.
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

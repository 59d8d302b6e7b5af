import { stat } from "node:fs/promises";
import type { BerthClient, CodeUpload } from "@berth/client";
import { codeFromDirectory } from "@berth/client/code";
import { CliError, EXIT } from "./cli-error.ts";

/**
 * The code in folder `dir` as berth takes it, within the limits this berth
 * announced in `server:info` (files when they fit, an archive otherwise;
 * `.berthignore` honoured). A path that is not a folder is a usage error.
 *
 * @example const code = await readCode(berth, "./app", "--code");
 */
export async function readCode(client: BerthClient, dir: string, what: string): Promise<CodeUpload> {
  const s = await stat(dir).catch(() => undefined);
  if (!s?.isDirectory()) throw new CliError(`${what} '${dir}' is not a folder`, EXIT.USAGE);
  return (await codeFromDirectory(dir, { limits: client.info.limits })) as CodeUpload;
}

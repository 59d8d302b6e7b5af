import { execFile } from "node:child_process";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Runs a program (no shell) and resolves with its standard output; a failure names the command and its stderr. */
export async function command(file: string, args: readonly string[]): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, { maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr?.trim();
    throw new Error(`${file} ${args.join(" ")}: ${stderr || (err as Error).message}`, { cause: err });
  }
}

/** `ip …` in the root namespace. */
export function ip(...args: string[]): Promise<string> {
  return command("ip", args);
}

/** `ip …` inside a node's namespace (`ip netns exec` is fine for ip itself; only dockerd needs nsenter). */
export function ipIn(netns: string, ...args: string[]): Promise<string> {
  return command("ip", ["-n", netns, ...args]);
}

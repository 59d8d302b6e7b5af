import { execFile } from "node:child_process";

/**
 * berth's view of the host's packet filter: one `iptables` call with an
 * argument list, resolving with its standard output. The egress firewall
 * depends on this interface only; `ExecFileIptables` is the real adapter and
 * unit tests use `FakeIptables`.
 */
export interface Iptables {
  /** Rejects with IptablesError when the command fails (exit code ≠ 0) or cannot run. */
  run(args: readonly string[]): Promise<string>;
}

export class IptablesError extends Error {
  /** The exit code; undefined when the binary could not be run at all (missing, not permitted). */
  readonly exitCode: number | undefined;
  constructor(message: string, exitCode: number | undefined, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "IptablesError";
    this.exitCode = exitCode;
  }
}

/**
 * Runs the `iptables` binary found on the PATH (whichever backend it is,
 * nft or legacy: the same one Docker's own rules went through, since Docker
 * calls the same binary). No shell: arguments are passed as an array. `-w`
 * waits for the xtables lock, which Docker and other berth instances take too.
 */
export class ExecFileIptables implements Iptables {
  readonly #binary: string;
  readonly #timeoutMs: number;

  constructor(binary = "iptables", timeoutMs = 10_000) {
    this.#binary = binary;
    this.#timeoutMs = timeoutMs;
  }

  run(args: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        this.#binary,
        ["-w", "5", ...args],
        { timeout: this.#timeoutMs, encoding: "utf8" },
        (err, stdout, stderr) => {
          if (!err) {
            resolve(stdout);
            return;
          }
          const code = typeof err.code === "number" ? err.code : undefined;
          const why = stderr.trim() || err.message;
          reject(new IptablesError(`${this.#binary} ${args.join(" ")}: ${why}`, code, { cause: err }));
        },
      );
    });
  }
}

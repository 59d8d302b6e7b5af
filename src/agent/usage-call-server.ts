import type { CallAnswer } from "../agent-link/agent-link-contract.ts";
import { toLinkError } from "../agent-link/link-error.ts";
import { isUsageOp, type ParsedUsageArgsOf, USAGE_OPS, type UsageOp } from "../agent-link/usage-ops.ts";
import { ValidationError } from "../errors/errors.ts";
import { fromZodError } from "../errors/to-wire.ts";
import type { SystemLogger } from "../logging/system-logger.ts";
import type { NodeUsage } from "./node-usage.ts";

type Invokers = { [O in UsageOp]: (args: ParsedUsageArgsOf<O>) => Promise<unknown> };

/**
 * Serves API servers' `usage` calls: samples of this node's workloads'
 * resource usage (NodeUsage). Every call is checked before anything is read:
 * an operation of the allow-list (USAGE_OPS) and a whole engine id; NodeUsage
 * then samples berth's own containers of this node only.
 */
export class UsageCallServer {
  readonly #usage: NodeUsage;
  readonly #log: SystemLogger;

  constructor(usage: NodeUsage, log: SystemLogger) {
    this.#usage = usage;
    this.#log = log;
  }

  async answer(op: string, args: unknown[]): Promise<CallAnswer> {
    if (!isUsageOp(op))
      return failed(new ValidationError(`The node agent has no usage operation named '${op}'.`));
    const parsed = USAGE_OPS[op].args.safeParse(args);
    if (!parsed.success) {
      this.#log.warn({ op, issues: parsed.error.issues.length }, "refused a usage call's arguments");
      return failed(fromZodError(parsed.error));
    }
    try {
      const invoke = this.#invokers[op] as (args: unknown) => Promise<unknown>;
      return { ok: true, value: (await invoke(parsed.data)) ?? null };
    } catch (err) {
      this.#log.debug({ err, op }, "usage call failed");
      return failed(err);
    }
  }

  readonly #invokers: Invokers = {
    sample: ([engineId, fresh]) => this.#usage.sample(engineId, fresh),
  };
}

function failed(err: unknown): CallAnswer {
  return { ok: false, error: toLinkError(err) };
}

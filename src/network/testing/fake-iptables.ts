import { type Iptables, IptablesError } from "../iptables.ts";

/**
 * An in-memory filter table that answers the handful of iptables commands the
 * egress firewall uses (-S, -N, -F, -X, -A, -I, -D) as the real one does,
 * including its refusals (a missing chain, a chain still referenced, a rule
 * that is not there). `broken` makes every call fail as a missing binary would.
 */
export class FakeIptables implements Iptables {
  /** chain → rules, each rule its argument list after the chain name. */
  readonly chains = new Map<string, string[][]>([
    ["INPUT", []],
    ["DOCKER-USER", [["-j", "RETURN"]]],
  ]);
  readonly calls: string[][] = [];
  broken: string | undefined;

  static readonly BUILTIN = new Set(["INPUT"]);

  async run(args: readonly string[]): Promise<string> {
    this.calls.push([...args]);
    if (this.broken !== undefined) throw new IptablesError(this.broken, undefined);
    const [op, chain = "", ...rule] = args;
    const rules = this.chains.get(chain);
    const fail = (message: string): never => {
      throw new IptablesError(`iptables ${args.join(" ")}: ${message}`, 1);
    };
    switch (op) {
      case "-S": {
        if (!rules) return fail("No chain/target/match by that name.");
        const head = FakeIptables.BUILTIN.has(chain) ? `-P ${chain} ACCEPT` : `-N ${chain}`;
        return `${[head, ...rules.map((r) => `-A ${chain} ${quoteComments(r)}`)].join("\n")}\n`;
      }
      case "-N":
        if (rules) return fail("Chain already exists.");
        this.chains.set(chain, []);
        return "";
      case "-F":
        if (!rules) return fail("No chain/target/match by that name.");
        rules.length = 0;
        return "";
      case "-X":
        if (!rules) return fail("No chain/target/match by that name.");
        if (rules.length > 0 || this.#referenced(chain)) return fail("Directory not empty / in use.");
        this.chains.delete(chain);
        return "";
      case "-A":
      case "-I":
        if (!rules) return fail("No chain/target/match by that name.");
        this.#target(rule, fail);
        if (op === "-A") rules.push(rule);
        else rules.unshift(rule);
        return "";
      case "-D": {
        if (!rules) return fail("No chain/target/match by that name.");
        const at = rules.findIndex((r) => r.join(" ") === rule.join(" "));
        if (at === -1) return fail("Bad rule (does a matching rule exist in that chain?).");
        rules.splice(at, 1);
        return "";
      }
      default:
        return fail(`unsupported by the fake: ${op}`);
    }
  }

  /** Every rule, as `chain: args`, for readable assertions. */
  dump(): string[] {
    return [...this.chains].flatMap(([chain, rules]) => rules.map((r) => `${chain}: ${r.join(" ")}`));
  }

  #target(rule: string[], fail: (m: string) => never): void {
    const target = rule[rule.indexOf("-j") + 1];
    if (target !== undefined && /^B[FI]/.test(target) && !this.chains.has(target))
      fail("Couldn't load target.");
  }

  #referenced(chain: string): boolean {
    return [...this.chains.values()].some((rules) => rules.some((r) => r[r.indexOf("-j") + 1] === chain));
  }
}

/** iptables prints comment values in double quotes. */
function quoteComments(rule: string[]): string {
  return rule.map((a, i) => (rule[i - 1] === "--comment" ? `"${a}"` : a)).join(" ");
}

import {
  IMAGE_CHECKS,
  type ImageCheckCode,
  type ImageCheckItem,
  type ImageCheckName,
  type ImageCheckResult,
} from "#protocol";

/**
 * The answer of one image check as it is found out: every check starts
 * `skipped` (it did not run because an earlier one failed) and is marked
 * passed or failed as the check gets to it; `result()` gives them in
 * IMAGE_CHECKS order, `ok` only when none failed and none was left skipped.
 */
export class ImageCheckReport {
  readonly #image: string;
  readonly #allowed: boolean;
  readonly #started = Date.now();
  readonly #checks = new Map<ImageCheckName, ImageCheckItem>();
  readonly facts: {
    runtime?: string;
    code: ImageCheckCode;
    protocol?: number;
    exitCode?: number;
    output?: string[];
  } = { code: "none" };

  constructor(image: string, allowed: boolean) {
    this.#image = image;
    this.#allowed = allowed;
    for (const name of IMAGE_CHECKS)
      this.#checks.set(name, { name, status: "skipped", summary: "not run: an earlier check failed" });
  }

  pass(name: ImageCheckName, summary: string): void {
    this.#checks.set(name, { name, status: "passed", summary });
  }

  fail(name: ImageCheckName, summary: string, fix: string): void {
    this.#checks.set(name, { name, status: "failed", summary, fix });
  }

  /** Marks a check skipped with a reason of its own (rather than an earlier failure). */
  skip(name: ImageCheckName, summary: string): void {
    this.#checks.set(name, { name, status: "skipped", summary });
  }

  failed(name: ImageCheckName): boolean {
    return this.#checks.get(name)?.status === "failed";
  }

  result(): ImageCheckResult {
    const checks = IMAGE_CHECKS.map((name) => this.#checks.get(name) as ImageCheckItem);
    const result: ImageCheckResult = {
      image: this.#image,
      ok: checks.every((c) => c.status === "passed"),
      allowed: this.#allowed,
      code: this.facts.code,
      checks,
      ms: Date.now() - this.#started,
    };
    if (this.facts.runtime !== undefined) result.runtime = this.facts.runtime;
    if (this.facts.protocol !== undefined) result.protocol = this.facts.protocol;
    if (this.facts.exitCode !== undefined) result.exitCode = this.facts.exitCode;
    if (this.facts.output !== undefined && this.facts.output.length > 0) result.output = this.facts.output;
    return result;
  }
}

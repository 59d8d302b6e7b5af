import {
  IMAGE_CHECKS,
  type ImageCheckCode,
  type ImageCheckItem,
  type ImageCheckName,
  type ImageCheckResult,
} from "#protocol";
import { presentOutputLine } from "../logging/present-output-line.ts";
import type { Redactor } from "../logging/redactor.ts";

/**
 * The longest summary or fix a check shows: room for a command and a reason,
 * not for the megabytes an image's CMD or labels may hold.
 */
export const MAX_CHECK_TEXT = 1_000;

/**
 * The answer of one image check as it is found out: every check starts
 * `skipped` (it did not run because an earlier one failed) and is marked
 * passed or failed as the check gets to it; `result()` gives them in
 * IMAGE_CHECKS order, `ok` only when none failed and none was left skipped.
 *
 * Every summary and fix goes through presentOutputLine() here, once for all:
 * they quote the image (its labels, its command, its engine's words) and the
 * workload (its answer), which are anyone's text — an OSC 52 sequence, a C1
 * control, a bidi override or a megabyte of CMD reaches the admin's terminal
 * as visible, redacted text of at most MAX_CHECK_TEXT characters.
 *
 * @example
 *   const report = new ImageCheckReport("acme/bot:1", true, redactor);
 *   report.pass("command", JSON.stringify(command)); // sanitised and cut
 */
export class ImageCheckReport {
  readonly #image: string;
  readonly #allowed: boolean;
  readonly #redactor: Redactor;
  readonly #started = Date.now();
  readonly #checks = new Map<ImageCheckName, ImageCheckItem>();
  readonly facts: {
    runtime?: string;
    code: ImageCheckCode;
    protocol?: number;
    exitCode?: number;
    output?: string[];
  } = { code: "none" };

  /** `redactor` is the caller's: what the report quotes is shown as berth shows them any output. */
  constructor(image: string, allowed: boolean, redactor: Redactor) {
    this.#image = image;
    this.#allowed = allowed;
    this.#redactor = redactor;
    for (const name of IMAGE_CHECKS)
      this.#checks.set(name, { name, status: "skipped", summary: "not run: an earlier check failed" });
  }

  pass(name: ImageCheckName, summary: string): void {
    this.#checks.set(name, { name, status: "passed", summary: this.#shown(summary) });
  }

  fail(name: ImageCheckName, summary: string, fix: string): void {
    this.#checks.set(name, {
      name,
      status: "failed",
      summary: this.#shown(summary),
      fix: this.#shown(fix),
    });
  }

  /** Marks a check skipped with a reason of its own (rather than an earlier failure). */
  skip(name: ImageCheckName, summary: string): void {
    this.#checks.set(name, { name, status: "skipped", summary: this.#shown(summary) });
  }

  #shown(text: string): string {
    return presentOutputLine(text, this.#redactor, { maxLength: MAX_CHECK_TEXT });
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

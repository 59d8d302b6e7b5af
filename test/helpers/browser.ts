import { execFileSync } from "node:child_process";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";

/** Debian's Chromium, which set-up installs; playwright-core downloads no browser of its own. */
export const CHROMIUM = "/usr/bin/chromium";

/** How long the browser tests wait for what the page shows (a push, a render) before they fail saying what. */
export const PAGE_WAIT_MS = 15_000;

export interface BrowserSession {
  /** A fresh page in a context of its own (its own sessionStorage: a separate tab, or a separate person). */
  page(): Promise<Page>;
  /** A fresh page of `url`'s dashboard, signed in with `token`, showing the overview. */
  signedIn(url: string, token: string): Promise<Page>;
}

/**
 * One headless Chromium for the enclosing `describe` (one per test file):
 * launched before its tests, closed after them with every page it opened.
 * Builds the dashboard first when its sources changed, so that a test never
 * drives a stale build.
 *
 * @example
 *   const server = useTestServer();
 *   const browser = useBrowser();
 *   it("shows the overview", async () => {
 *     const page = await browser.signedIn(server.url, TOKENS.alice);
 *     expect(await axeScan(page)).toEqual([]);
 *   });
 */
export function useBrowser(): BrowserSession {
  let browser: Browser | undefined;
  const contexts: BrowserContext[] = [];
  beforeAll(async () => {
    buildDashboard();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      // Chromium refuses to start its sandbox as root, which the test machine is.
      args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
    });
  });
  afterAll(async () => {
    for (const context of contexts.splice(0)) await context.close().catch(() => {});
    await browser?.close();
  });
  const page = async (): Promise<Page> => {
    if (!browser) throw new Error("the browser has not started");
    const context = await browser.newContext();
    contexts.push(context);
    // Before any script of the page: a CSP that blocks something the dashboard needs shows up in cspViolations().
    await context.addInitScript(
      `window.berthCspViolations = []; document.addEventListener("securitypolicyviolation", (e) => window.berthCspViolations.push(e.effectiveDirective + " " + e.blockedURI));`,
    );
    return context.newPage();
  };
  return {
    page,
    async signedIn(url, token) {
      const p = await page();
      await p.goto(url);
      await signIn(p, token);
      await p.getByRole("heading", { name: "Containers", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
      return p;
    },
  };
}

/** Fills the sign-in form with `token` and submits it. */
export async function signIn(page: Page, token: string): Promise<void> {
  await page.getByLabel("Token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
}

/** What the page's Content-Security-Policy blocked so far (directive and address): none, when the CSP fits the dashboard. */
export async function cspViolations(page: Page): Promise<string[]> {
  return (await page.evaluate("window.berthCspViolations ?? []")) as string[];
}

/** One axe-core finding, as much as a failing test needs to say what is wrong and where. */
export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

const axeSource = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/**
 * Runs axe-core on the page as it is now and returns its serious and
 * critical findings (WCAG 2.x A and AA, and axe's best practices). axe is
 * evaluated through the DevTools protocol, which the page's CSP (no inline
 * script) does not apply to — the page itself is not loosened for the scan.
 */
export async function axeScan(page: Page): Promise<AxeFinding[]> {
  await page.evaluate(await axeSource);
  // A string, not a function: the project's types are Node's, without the DOM the page runs in.
  const violations = (await page.evaluate(`axe
    .run(document, { runOnly: { type: "tag", values: ${JSON.stringify(AXE_TAGS)} } })
    .then((results) => results.violations.map((v) => ({
      id: v.id,
      impact: v.impact ?? "unknown",
      help: v.help,
      targets: v.nodes.map((n) => n.target.join(" ")),
    })))`)) as AxeFinding[];
  return violations.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** WCAG 2.1 A and AA, and axe's best practices. */
const AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"];

/** scripts/build-dashboard.mjs, which does nothing when the build is up to date. */
function buildDashboard(): void {
  const script = fileURLToPath(new URL("../../scripts/build-dashboard.mjs", import.meta.url));
  // Piped: a failed build's message (Vite's errors) becomes this error's.
  execFileSync(process.execPath, [script], { stdio: "pipe" });
}

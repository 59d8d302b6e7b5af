import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { PAGE_WAIT_MS, useBrowser } from "../helpers/browser.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

const stateOf = (page: Page, name: string, state: string) =>
  page.locator(`tr[data-container="${name}"] td[data-column="state"] [data-state="${state}"]`);

describe("a dashboard page left open across a berth restart", () => {
  const server = useTestServer();
  const browser = useBrowser();

  it("reconnects by itself and shows the container's live state again, with no reload and no sign-in", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.evaluate("window.berthMark = true");
    const before = await server.connect("alice");
    const bot = await before.containers.create({ name: "restart-live", code: await echoCode() });
    onTestFinished(async () => {
      const alice = await server.connect("alice");
      await (await alice.containers.get(bot.id)).delete().catch(() => {});
    });
    await stateOf(page, "restart-live", "running").waitFor({ timeout: PAGE_WAIT_MS });

    await server.restart();
    // The same page, told by the new berth: a stop made now shows, pushed, and so does the start after it.
    const alice = await server.connect("alice");
    const again = await alice.containers.get(bot.id);
    await again.stop();
    await stateOf(page, "restart-live", "stopped").waitFor({ timeout: PAGE_WAIT_MS });
    await again.start();
    await stateOf(page, "restart-live", "running").waitFor({ timeout: PAGE_WAIT_MS });
    await page
      .locator('tr[data-container="restart-live"] td[data-column="memory"]')
      .filter({ hasText: /B$/ })
      .waitFor({ timeout: PAGE_WAIT_MS });

    expect(await page.evaluate("window.berthMark === true")).toBe(true);
    expect(await page.getByRole("heading", { name: "Sign in to berth" }).count()).toBe(0);
    expect(await page.getByText("Connection lost").count()).toBe(0);
  });
});

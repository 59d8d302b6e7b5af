import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import type { BerthClient, Container } from "../../packages/client/src/index.ts";
import { axeScan, cspViolations, PAGE_WAIT_MS, useBrowser } from "../helpers/browser.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** The entry of the activity page that says `action` happened to container `name`. */
const entryOf = (page: Page, action: string, name: string) =>
  page.locator(`ol.activity li[data-action="${action}"]`).filter({ hasText: name });

/** The ids of the entries the page lists, in its order. */
const shownIds = (page: Page): Promise<number[]> =>
  page
    .locator("ol.activity li")
    .evaluateAll((items) => items.map((li) => Number(li.getAttribute("data-id"))));

/** Creates a stopped container (an entry in the feed, cheaply), deleted when the test ends. */
async function created(client: BerthClient, name: string): Promise<Container> {
  const bot = await client.containers.create({ name, code: await echoCode(), start: false });
  onTestFinished(async () => {
    await bot.delete().catch(() => {});
  });
  return bot;
}

/** Every entry berth holds for the client's owner after `afterId`, by id. */
async function writtenAfter(client: BerthClient, afterId: number): Promise<number[]> {
  const { items } = await client.activity.history({ afterId, limit: 1000 });
  return items.map((e) => e.id);
}

/** Marks the page's window: the mark is gone after a reload, so a test can tell a catch-up from a reload. */
async function markWindow(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate("window.berthMark = true");
  return async () => (await page.evaluate("window.berthMark === true")) === true;
}

async function activityPage(page: Page): Promise<void> {
  await page.getByRole("link", { name: "Activity" }).click();
  await page.getByRole("heading", { name: "Activity", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
}

describe("the activity page in a browser", () => {
  const server = useTestServer();
  const browser = useBrowser();

  it("shows every entry written while the connection was down exactly once after it is back, without a reload", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await activityPage(page);
    const sameWindow = await markWindow(page);
    const alice = await server.connect("alice");
    await created(alice, "actv-before");
    await entryOf(page, "container.created", "actv-before").waitFor({ timeout: PAGE_WAIT_MS });
    const before = Math.max(...(await shownIds(page)));

    await page.context().setOffline(true);
    await page.getByText("Connection lost").waitFor({ timeout: PAGE_WAIT_MS });
    for (const name of ["actv-away-1", "actv-away-2", "actv-away-3"]) await created(alice, name);
    await page.context().setOffline(false);
    await entryOf(page, "container.created", "actv-away-3").waitFor({ timeout: PAGE_WAIT_MS });
    await created(alice, "actv-after");
    await entryOf(page, "container.created", "actv-after").waitFor({ timeout: PAGE_WAIT_MS });

    const shown = await shownIds(page);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.filter((id) => id > before).sort((a, b) => a - b)).toEqual(
      await writtenAfter(alice, before),
    );
    expect(await sameWindow()).toBe(true);
    expect(await cspViolations(page)).toEqual([]);
  });

  it("after the tab left and came back (a reload), shows what was written meanwhile, beyond the newest few, each entry once", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await activityPage(page);
    const alice = await server.connect("alice");
    await created(alice, "actv-reload");
    await entryOf(page, "container.created", "actv-reload").waitFor({ timeout: PAGE_WAIT_MS });
    const before = Math.max(...(await shownIds(page)));
    expect(await page.evaluate("sessionStorage.getItem('berth.activity.newest')")).toBe(String(before));

    // The page away: more entries meanwhile than the newest few a page opens with (52 > 50).
    await page.goto("about:blank");
    await Promise.all(Array.from({ length: 52 }, (_, i) => created(alice, `actv-gap-${i}`)));
    await page.goBack();
    await page.getByRole("heading", { name: "Activity", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    const written = await writtenAfter(alice, before);
    expect(written.length).toBeGreaterThan(50);
    await page.locator(`ol.activity li[data-id="${written.at(-1)}"]`).waitFor({ timeout: PAGE_WAIT_MS });

    const shown = await shownIds(page);
    expect(new Set(shown).size).toBe(shown.length);
    expect(shown.filter((id) => id > before).sort((a, b) => a - b)).toEqual(written);

    // A plain reload with nothing new: the newest entries as before (the newest 50, where nothing was missed), each once.
    await page.reload();
    await page.locator(`ol.activity li[data-id="${written.at(-1)}"]`).waitFor({ timeout: PAGE_WAIT_MS });
    const again = await shownIds(page);
    expect(again.length).toBeGreaterThanOrEqual(50);
    expect(again).toEqual(shown.slice(0, again.length));
  });

  it("filters by text, level, container and kind; the admin's also by owner, and an owner's page shows only theirs", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    await created(alice, "actv-alice");
    await created(bob, "actv-bob");
    const adminPage = await browser.signedIn(server.url, TOKENS.admin);
    await activityPage(adminPage);
    await entryOf(adminPage, "container.created", "actv-bob").waitFor({ timeout: PAGE_WAIT_MS });
    await entryOf(adminPage, "container.created", "actv-alice").waitFor({ timeout: PAGE_WAIT_MS });

    await adminPage.getByLabel(/^Owner/).selectOption("bob");
    await entryOf(adminPage, "container.created", "actv-alice").waitFor({
      state: "detached",
      timeout: PAGE_WAIT_MS,
    });
    expect(await entryOf(adminPage, "container.created", "actv-bob").count()).toBe(1);
    await adminPage.getByLabel(/^Owner/).selectOption("");

    await adminPage.getByLabel(/^Container/).selectOption("actv-alice");
    await adminPage.getByLabel(/^Kind/).selectOption("container.created");
    await adminPage.getByLabel(/^Level/).selectOption("success");
    const texts = await adminPage.locator("ol.activity li").allTextContents();
    expect(texts.length).toBeGreaterThan(0);
    for (const text of texts) expect(text).toContain("actv-alice");
    await adminPage.getByLabel(/^Level/).selectOption("error");
    await adminPage.getByText("No entry matches the filters.").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await axeScan(adminPage)).toEqual([]);

    const bobPage = await browser.signedIn(server.url, TOKENS.bob);
    await activityPage(bobPage);
    await entryOf(bobPage, "container.created", "actv-bob").waitFor({ timeout: PAGE_WAIT_MS });
    await bobPage.getByLabel(/^Search/).fill("ACTV-");
    expect(await entryOf(bobPage, "container.created", "actv-bob").count()).toBe(1);
    expect(await bobPage.getByLabel(/^Owner/).count()).toBe(0);
    expect(await bobPage.content()).not.toContain("actv-alice");
    expect(await axeScan(bobPage)).toEqual([]);

    // On a narrow screen the filters wrap and long entries break: nothing makes the page scroll sideways.
    await bobPage.setViewportSize({ width: 360, height: 740 });
    const widths = (await bobPage.evaluate(
      "({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })",
    )) as { page: number; viewport: number };
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(await axeScan(bobPage)).toEqual([]);
    expect(await cspViolations(bobPage)).toEqual([]);
  });
});

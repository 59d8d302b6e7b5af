import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { axeScan, cspViolations, PAGE_WAIT_MS, signIn, useBrowser } from "../helpers/browser.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** The overview's row of container `name`, and one of its cells. */
const row = (page: Page, name: string) => page.locator(`tr[data-container="${name}"]`);
const stateOf = (page: Page, name: string, state: string) =>
  row(page, name).locator(`td[data-column="state"] [data-state="${state}"]`);

/** Deletes the container when the test ends, passed or failed (a second delete, after the test's own, finds nothing). */
function removeAfterTest(container: Container): void {
  onTestFinished(async () => {
    await container.delete().catch(() => {});
  });
}

/** Marks the page's window: the mark is gone after a reload, so a test can tell a push from a reload. */
async function markWindow(page: Page): Promise<() => Promise<boolean>> {
  await page.evaluate("window.berthMark = true");
  return async () => (await page.evaluate("window.berthMark === true")) === true;
}

describe("the dashboard in a browser", () => {
  const server = useTestServer();
  const browser = useBrowser();

  it("refuses a wrong token with a clear message, then signs in with the right one, the token never in the URL", async () => {
    const page = await browser.page();
    await page.goto(server.url);
    expect(await axeScan(page)).toEqual([]);

    await signIn(page, "not-a-token-0123456789");
    const alert = page.getByRole("alert");
    await alert.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await alert.textContent()).toContain("berth did not accept that token");
    expect(await page.evaluate("sessionStorage.length")).toBe(0);

    await signIn(page, TOKENS.alice);
    await page.getByRole("heading", { name: "Containers", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    expect(page.url()).not.toContain(TOKENS.alice);
    expect(server.logs()).not.toContain(TOKENS.alice);
  });

  it("runs under berth's Content-Security-Policy, which blocks a script injected inline", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    expect(await cspViolations(page)).toEqual([]);
    await page.evaluate(
      "const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; document.body.append(s)",
    );
    expect(await page.evaluate("window.inlineRan === true")).toBe(false);
    expect((await cspViolations(page)).join("\n")).toContain("script-src-elem inline");
  });

  it("stays signed in across a reload of the tab, and forgets the token on sign-out", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.reload();
    await page.getByRole("heading", { name: "Containers", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });

    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in to berth" }).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.evaluate("sessionStorage.length")).toBe(0);
  });

  it("shows a container the owner creates, then its start and its stop, as berth pushes them", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const sameWindow = await markWindow(page);
    const alice = await server.connect("alice");

    const creating = alice.containers.create({ name: "dash-live", code: await echoCode() });
    await stateOf(page, "dash-live", "running").waitFor({ timeout: PAGE_WAIT_MS });
    const bot = await creating;
    removeAfterTest(bot);
    // Usage comes with the next tick of containers:watch_stats.
    await row(page, "dash-live")
      .locator('td[data-column="memory"]')
      .filter({ hasText: /B$/ })
      .waitFor({ timeout: PAGE_WAIT_MS });

    await bot.stop();
    await stateOf(page, "dash-live", "stopped").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await sameWindow()).toBe(true);
    expect(await cspViolations(page)).toEqual([]);

    expect(await axeScan(page)).toEqual([]);
    await bot.delete();
    await row(page, "dash-live").waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
  });

  it("never shows one owner's container on another owner's page; the admin's shows both, with their owners", async () => {
    const bobPage = await browser.signedIn(server.url, TOKENS.bob);
    const adminPage = await browser.signedIn(server.url, TOKENS.admin);
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");

    const aliceBot = await alice.containers.create({ name: "dash-alice", code: await echoCode() });
    removeAfterTest(aliceBot);
    const bobBot = await bob.containers.create({ name: "dash-bob", code: await echoCode() });
    removeAfterTest(bobBot);
    // Bob's page has had the pushes that came after alice's container started: it shows his own.
    await stateOf(bobPage, "dash-bob", "running").waitFor({ timeout: PAGE_WAIT_MS });
    await stateOf(adminPage, "dash-bob", "running").waitFor({ timeout: PAGE_WAIT_MS });
    await stateOf(adminPage, "dash-alice", "running").waitFor({ timeout: PAGE_WAIT_MS });

    expect(await row(bobPage, "dash-alice").count()).toBe(0);
    expect(await bobPage.content()).not.toContain("dash-alice");
    expect(await bobPage.getByRole("columnheader", { name: "Owner" }).count()).toBe(0);
    expect(await row(adminPage, "dash-alice").locator('td[data-column="owner"]').textContent()).toBe("alice");

    // Nor on the activity page, nor behind a container's own address.
    await bobPage.goto(`${server.url}/#/activity`);
    await bobPage.getByRole("heading", { name: "Activity", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    await bobPage
      .locator("ol.activity li")
      .filter({ hasText: "dash-bob" })
      .first()
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await bobPage.content()).not.toContain("dash-alice");
    await bobPage.goto(`${server.url}/#/containers/dash-alice`);
    await bobPage.getByText("There is no container named").waitFor({ timeout: PAGE_WAIT_MS });
  });

  it("shows one container's page, live, and moves the focus to the page's content on the way there", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({
      name: "dash-page",
      code: await echoCode(),
      labels: { team: "blue" },
    });
    removeAfterTest(bot);

    await page.getByRole("link", { name: "dash-page" }).click();
    await page.getByRole("heading", { name: "dash-page", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    await page.waitForFunction("document.activeElement?.id === 'main'", undefined, { timeout: PAGE_WAIT_MS });
    // The page reads the list itself: until then it says "Loading…" under the same heading.
    await page.locator('main [data-state="running"]').waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.locator("main").textContent()).toContain("team=blue");

    await bot.stop();
    await page.locator('main [data-state="stopped"]').waitFor({ timeout: PAGE_WAIT_MS });
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows what an owner wrote (a label) to the admin as text, never as markup", async () => {
    const adminPage = await browser.signedIn(server.url, TOKENS.admin);
    const alice = await server.connect("alice");
    const hostile = `<img src=x onerror="window.pwned=1"><script>window.pwned=2</script>`;
    const bot = await alice.containers.create({
      name: "dash-hostile",
      code: await echoCode(),
      start: false,
      labels: { note: hostile },
    });
    removeAfterTest(bot);

    await adminPage.goto(`${server.url}/#/containers/dash-hostile`);
    await adminPage
      .getByRole("heading", { name: "dash-hostile", level: 1 })
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await adminPage.locator("main").textContent()).toContain(`note=${hostile}`);
    expect(await adminPage.locator("main img, main script").count()).toBe(0);
    expect(await adminPage.evaluate("window.pwned === undefined")).toBe(true);
    expect(await cspViolations(adminPage)).toEqual([]);
  });

  it("adds what happens to the activity page as it happens", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.getByRole("link", { name: "Activity" }).click();
    await page.getByRole("heading", { name: "Activity", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    const sameWindow = await markWindow(page);

    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "dash-feed", code: await echoCode(), start: false });
    removeAfterTest(bot);
    await page
      .locator('li[data-action="container.created"]')
      .filter({ hasText: "dash-feed" })
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await sameWindow()).toBe(true);
    expect(await axeScan(page)).toEqual([]);
  });

  it("filters by name and state, and sorts by a column from the keyboard", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const alice = await server.connect("alice");
    const one = await alice.containers.create({ name: "dash-one", code: await echoCode() });
    removeAfterTest(one);
    const two = await alice.containers.create({ name: "dash-two", code: await echoCode(), start: false });
    removeAfterTest(two);
    await row(page, "dash-two").waitFor({ timeout: PAGE_WAIT_MS });
    await stateOf(page, "dash-one", "running").waitFor({ timeout: PAGE_WAIT_MS });

    const names = () =>
      page.locator("tbody tr").evaluateAll((rows) => rows.map((r) => r.getAttribute("data-container")));
    expect(await names()).toEqual(["dash-one", "dash-two"]);

    await page.getByRole("button", { name: "Name" }).focus();
    await page.keyboard.press("Enter");
    expect(await names()).toEqual(["dash-two", "dash-one"]);
    expect(await page.getByRole("columnheader", { name: "Name" }).getAttribute("aria-sort")).toBe(
      "descending",
    );

    await page.getByLabel("State").selectOption("running");
    expect(await names()).toEqual(["dash-one"]);
    await page.getByLabel("State").selectOption("");
    await page.getByLabel("Name").fill("two");
    expect(await names()).toEqual(["dash-two"]);
  });

  it("keeps the table usable on a narrow screen: it scrolls inside its own region, not the page", async () => {
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "dash-narrow", code: await echoCode(), start: false });
    removeAfterTest(bot);
    await page.setViewportSize({ width: 360, height: 740 });
    await row(page, "dash-narrow").waitFor({ timeout: PAGE_WAIT_MS });
    const widths = (await page.evaluate(
      "({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })",
    )) as { page: number; viewport: number };
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
    expect(await axeScan(page)).toEqual([]);
  });
});

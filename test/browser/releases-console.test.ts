import type { Locator, Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { axeScan, cspViolations, PAGE_WAIT_MS, useBrowser } from "../helpers/browser.ts";
import { TOKENS, useTestServer } from "../helpers/test-server.ts";

/**
 * A workload written for these tests with berth's workload SDK: it answers a
 * request with what it was sent, and each message with a message of its own.
 */
const consoleCode = (version: string) => ({
  files: {
    "index.js": `
const { connect } = require("@berth/workload");
const berth = connect();
berth.onRequest((data) => ({ version: ${JSON.stringify(version)}, got: data }));
berth.onMessage((data) => berth.send({ reply: data }));
console.log("console workload ${version} up");
process.on("SIGTERM", () => process.exit(0));
`,
  },
});

/** Code that prints a line, then exits before it says hello: an update berth must roll back. */
const brokenCode = {
  files: { "index.js": 'console.log("broken release: missing config"); process.exit(3);' },
};

function removeAfterTest(container: Container): void {
  onTestFinished(async () => {
    await container.delete().catch(() => {});
  });
}

/** The container's page, opened in `page` (signed in), once its release history has been read. */
async function openContainer(page: Page, url: string, name: string): Promise<void> {
  await page.goto(`${url}/#/containers/${encodeURIComponent(name)}`);
  await page.getByRole("heading", { name, level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
}

const releaseItem = (page: Page, n: number) => page.locator(`.release-list li[data-release="${n}"]`);

describe("the container page's releases and message console", () => {
  const server = useTestServer();
  const browser = useBrowser();

  it("sends a request and shows the workload's answer with its latency; invalid JSON is refused with its position first", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "console-req", code: consoleCode("1") });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "console-req");

    const data = page.getByLabel("Data (JSON)");
    await data.fill('{\n  "city": "Oslo",\n  days: 3\n}');
    const check = page.locator("#console-data-check");
    expect(await check.textContent()).toContain("line 3, column 3");
    expect(await data.getAttribute("aria-invalid")).toBe("true");
    await page.getByRole("button", { name: "Send the request" }).click();
    expect(await page.locator(".console-outcome").count()).toBe(0);
    expect(await data.evaluate((el) => el === el.ownerDocument.activeElement)).toBe(true);
    await page.getByRole("button", { name: "Show where" }).click();
    const selected = await data.evaluate((el) => {
      const field = el as unknown as { value: string; selectionStart: number; selectionEnd: number };
      return field.value.slice(field.selectionStart, field.selectionEnd);
    });
    expect(selected).toBe("d");

    await data.fill('{ "city": "Oslo", "days": 3 }');
    await page.getByRole("button", { name: "Send the request" }).click();
    const answer = page.locator("pre[data-answer]");
    await answer.waitFor({ timeout: PAGE_WAIT_MS });
    expect(JSON.parse((await answer.textContent()) ?? "")).toEqual({
      version: "1",
      got: { city: "Oslo", days: 3 },
    });
    expect(await page.locator("[data-latency]").textContent()).toMatch(/^\d+(\.\d)? ms$/);
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows an error's code, message and fix when the workload is not connected (a stopped container)", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "console-stopped", code: consoleCode("1") });
    removeAfterTest(bot);
    await bot.stop();
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "console-stopped");

    await page.getByRole("button", { name: "Send the request" }).click();
    const alert = page.locator(".console-outcome [role=alert]");
    await alert.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await alert.getAttribute("data-code")).toBe("CHANNEL_NOT_CONNECTED");
    expect(await alert.textContent()).toContain("check that it runs");
  });

  it("sends a one-way message and lists the workload's reply message as it comes, newest first", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "console-msg", code: consoleCode("1") });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "console-msg");
    await page
      .locator('.message-list[data-listening="true"]')
      .waitFor({ state: "attached", timeout: PAGE_WAIT_MS });

    await page.getByLabel("a message (one way)").check();
    for (const n of [1, 2]) {
      await page.getByLabel("Data (JSON)").fill(`{ "ping": ${n} }`);
      await page.getByRole("button", { name: "Send the message" }).click();
      await page
        .locator(".message-list li")
        .nth(n - 1)
        .waitFor({ timeout: PAGE_WAIT_MS });
    }
    const texts = await page.locator(".message-list pre").allTextContents();
    expect(texts.map((t) => JSON.parse(t))).toEqual([{ reply: { ping: 2 } }, { reply: { ping: 1 } }]);

    // What a workload sends is shown as text, never as markup.
    const hostile = `<img src=x onerror="window.pwned=1">`;
    await page.getByLabel("Data (JSON)").fill(JSON.stringify({ html: hostile }));
    await page.getByRole("button", { name: "Send the message" }).click();
    await page.locator(".message-list li").nth(2).waitFor({ timeout: PAGE_WAIT_MS });
    expect(JSON.parse((await page.locator(".message-list pre").first().textContent()) ?? "")).toEqual({
      reply: { html: hostile },
    });
    expect(await page.locator("main img").count()).toBe(0);
    expect(await page.evaluate("window.pwned === undefined")).toBe(true);
    expect(await page.locator("[data-latency]").textContent()).toMatch(/ms$/);
    expect(await axeScan(page)).toEqual([]);

    // On a narrow screen the console and the messages fit the width; nothing scrolls the page sideways.
    await page.setViewportSize({ width: 360, height: 740 });
    const widths = (await page.evaluate(
      "({ page: document.documentElement.scrollWidth, viewport: window.innerWidth })",
    )) as { page: number; viewport: number };
    expect(widths.page).toBeLessThanOrEqual(widths.viewport);
  });

  it("shows updates made elsewhere live, a broken one with its failed step and cause, then rolls back to release 1 by hand", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "rel-bot", code: consoleCode("1") });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "rel-bot");
    await releaseItem(page, 1).and(page.locator('[data-status="active"]')).waitFor({ timeout: PAGE_WAIT_MS });
    await page.evaluate("window.berthMark = true");

    await bot.update(consoleCode("2"));
    await releaseItem(page, 2).and(page.locator('[data-status="active"]')).waitFor({ timeout: PAGE_WAIT_MS });
    const refused = await bot.update(brokenCode).catch((err: unknown) => err);
    expect(refused).toMatchObject({ code: "UPDATE_ROLLED_BACK" });

    const failed = releaseItem(page, 3);
    await failed.and(page.locator('[data-status="failed"]')).waitFor({ timeout: PAGE_WAIT_MS });
    await failed.locator(".release-failure").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await failed.locator(".release-failure").textContent()).toContain(
      "Failed at the ready step: the workload exited (exit code 3)",
    );
    await failed.getByText("Last output of release 3").click();
    await failed.locator("pre.output").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await failed.locator("pre.output").textContent()).toContain("broken release: missing config");
    expect(await page.evaluate("window.berthMark === true")).toBe(true);

    expect(await releaseItem(page, 2).getByRole("button").count()).toBe(0); // the active one
    // Asked first, in a dialog, from the keyboard: the focus starts on Cancel, Escape gives it back to the button.
    const rollBack = releaseItem(page, 1).getByRole("button", { name: "Roll back to release 1" });
    await rollBack.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Roll back to release 1?" });
    await dialog.waitFor({ timeout: PAGE_WAIT_MS });
    const focused = (l: Locator) => l.evaluate((el) => el === el.ownerDocument.activeElement);
    expect(await focused(dialog.getByRole("button", { name: "Cancel" }))).toBe(true);
    expect(await axeScan(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
    // The focus goes back once the dialog has closed, which may be a frame after it left the DOM.
    await expect.poll(() => focused(rollBack), { timeout: PAGE_WAIT_MS }).toBe(true);
    await page.keyboard.press("Enter");
    await dialog.getByRole("button", { name: "Yes, roll back to release 1" }).click();
    await expect.poll(() => focused(page.locator(".rollback-focus")), { timeout: PAGE_WAIT_MS }).toBe(true);

    await page.locator('.rollback-status[data-rollback="done"]').waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.locator(".rollback-status [role=status]").textContent()).toContain(
      "Rolled back to release 1",
    );
    await releaseItem(page, 1).and(page.locator('[data-status="active"]')).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.locator('.rollback-status [data-step="ready"]').getAttribute("data-status")).toBe(
      "done",
    );
    expect(await bot.request({ which: "?" })).toMatchObject({ version: "1" });
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows berth's refusal of a rollback, with its code, message and fix, while an update is under way", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "rel-busy", code: consoleCode("1") });
    removeAfterTest(bot);
    await bot.update(consoleCode("2"));
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "rel-busy");
    await releaseItem(page, 1).getByRole("button", { name: "Roll back to release 1" }).click();
    const dialog = page.getByRole("dialog", { name: "Roll back to release 1?" });

    // A release that takes its time to say hello: the update holds the container meanwhile — long enough
    // that a loaded machine still has the page ask for the rollback before it is over.
    const slow = consoleCode("3");
    slow.files["index.js"] = `setTimeout(() => {\n${slow.files["index.js"]}\n}, 12_000);`;
    const updating = bot.update(slow);
    await page.locator('main [data-state="updating"]').waitFor({ timeout: PAGE_WAIT_MS });
    await dialog.getByRole("button", { name: "Yes, roll back to release 1" }).click();

    const alert = page.locator(".rollback-status [role=alert]");
    await alert.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await alert.getAttribute("data-code")).toBe("CONFLICT");
    expect(await alert.textContent()).toContain("is in progress on this container");
    expect(await alert.textContent()).toContain("wait for it to finish");
    await updating;
    await releaseItem(page, 3).and(page.locator('[data-status="active"]')).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows bob nothing of alice's container: no releases, no console, no messages; the admin its releases", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "rel-private", code: consoleCode("1") });
    removeAfterTest(bot);
    const bobPage = await browser.signedIn(server.url, TOKENS.bob);
    await openContainer(bobPage, server.url, "rel-private");
    await bobPage.getByText("There is no container named").waitFor({ timeout: PAGE_WAIT_MS });
    await bot.send({ secret: "for alice only" });
    await bot.update(consoleCode("2"));

    expect(await bobPage.getByRole("heading", { name: "Releases" }).count()).toBe(0);
    expect(await bobPage.getByRole("heading", { name: "Message console" }).count()).toBe(0);
    const html = await bobPage.content();
    expect(html).not.toContain("for alice only");
    expect(html).not.toContain("Release 2");

    // The admin, who sees every owner, sees them.
    const adminPage = await browser.signedIn(server.url, TOKENS.admin);
    await openContainer(adminPage, server.url, "rel-private");
    await releaseItem(adminPage, 2)
      .and(adminPage.locator('[data-status="active"]'))
      .waitFor({ timeout: PAGE_WAIT_MS });
  });
});

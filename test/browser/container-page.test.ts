import { readFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished, vi } from "vitest";
import type { Container } from "../../packages/client/src/index.ts";
import { axeScan, cspViolations, PAGE_WAIT_MS, useBrowser } from "../helpers/browser.ts";
import { eventually } from "../helpers/deadline.ts";
import { echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

/** The echo workload, printing `even <n>` and `odd <n>` in turn every 100 ms: output to follow and to search. */
async function countingCode(): Promise<{ files: Record<string, string> }> {
  const echo = (await echoCode()).files["index.js"];
  const count = `let n = 0; setInterval(() => { console.log((n % 2 ? "odd " : "even ") + n); n++; }, 100);\n`;
  return { files: { "index.js": count + echo } };
}

function removeAfterTest(container: Container): void {
  onTestFinished(async () => {
    await container.delete().catch(() => {});
  });
}

async function openContainer(page: Page, url: string, name: string): Promise<void> {
  await page.goto(`${url}/#/containers/${name}`);
  await page.getByRole("heading", { name, level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
}

const lines = (page: Page) => page.locator(".output-lines li .line-text");
const chartSamples = async (page: Page, chart: string) =>
  Number(await page.locator(`figure[data-chart="${chart}"]`).getAttribute("data-samples"));

describe("a container's page in a browser", () => {
  // Samples every 500 ms: a history of several samples within seconds of a start.
  const server = useTestServer({ BERTH_STATS_HISTORY_INTERVAL_MS: "500" });
  const browser = useBrowser();

  it("draws CPU, memory and network charts from berth's history as it opens, then live, with their values in words", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "cp-charts", code: await countingCode() });
    removeAfterTest(bot);
    await eventually(PAGE_WAIT_MS, "berth's history of the container", async () => {
      return (await bot.statsHistory()).samples.length >= 10;
    });

    const page = await browser.signedIn(server.url, TOKENS.alice);
    const opening = performance.now();
    await openContainer(page, server.url, "cp-charts");
    let shown = 0;
    await expect
      .poll(async () => (shown = await chartSamples(page, "cpu")), { timeout: PAGE_WAIT_MS })
      .toBeGreaterThanOrEqual(8);
    // The live watch brings the latest sample at once, then one a second: more than that, in the time the page
    // took to open (measured, since a loaded machine can take seconds), can only come from berth's history.
    const seconds = (performance.now() - opening) / 1000;
    expect(shown).toBeGreaterThan(1 + Math.ceil(seconds));
    for (const chart of ["cpu", "memory", "network"]) {
      await page
        .locator(`figure[data-chart="${chart}"] .chart-canvas canvas`)
        .waitFor({ timeout: PAGE_WAIT_MS });
    }
    const seeded = await chartSamples(page, "cpu");
    await expect.poll(() => chartSamples(page, "cpu"), { timeout: PAGE_WAIT_MS }).toBeGreaterThan(seeded);

    expect(await page.locator('figure[data-chart="memory"] figcaption').textContent()).toMatch(
      /Memory used latest [\d.]+ [KMG]iB, lowest .*highest .*; limit [\d.]+ [KMG]iB/,
    );
    expect(await page.locator('figure[data-chart="cpu"] figcaption').textContent()).toMatch(
      /CPU latest [\d.]+%/,
    );
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("follows the output live; a pause holds and counts new lines, which resume shows", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "cp-output", code: await countingCode() });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "cp-output");

    await lines(page).first().waitFor({ timeout: PAGE_WAIT_MS });
    const first = await lines(page).count();
    await expect.poll(() => lines(page).count(), { timeout: PAGE_WAIT_MS }).toBeGreaterThan(first);

    await page.getByRole("button", { name: "Pause" }).click();
    const shown = await lines(page).allTextContents();
    const held = () => page.locator(".output-status").getAttribute("data-held").then(Number);
    await expect.poll(held, { timeout: PAGE_WAIT_MS }).toBeGreaterThanOrEqual(5);
    expect(await lines(page).allTextContents()).toEqual(shown);
    expect(await page.locator(".output-status").textContent()).toMatch(/Paused\. \d+ new lines held/);

    await page.getByRole("button", { name: "Resume" }).click();
    await expect
      .poll(() => lines(page).count(), { timeout: PAGE_WAIT_MS })
      .toBeGreaterThanOrEqual(shown.length + 5);
    const after = await lines(page).allTextContents();
    expect(after.slice(0, shown.length)).toEqual(shown);
    expect(await page.locator(".output-status").textContent()).toContain("Following live.");
    expect(await cspViolations(page)).toEqual([]);
  });

  it("filters the output by a search, marking the matches as text, and downloads the lines shown", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "cp-search", code: await countingCode() });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "cp-search");
    await expect.poll(() => lines(page).count(), { timeout: PAGE_WAIT_MS }).toBeGreaterThanOrEqual(6);

    // Paused, the lines shown hold still: the file must hold exactly them.
    await page.getByRole("button", { name: "Pause" }).click();
    await page.getByLabel("Search").fill("ODD");
    const shown = await lines(page).allTextContents();
    expect(shown.length).toBeGreaterThanOrEqual(3);
    for (const text of shown) expect(text).toMatch(/^odd \d+$/);
    expect(await page.locator(".output-lines mark").first().textContent()).toBe("odd");

    const [download] = await Promise.all([
      page.waitForEvent("download", { timeout: PAGE_WAIT_MS }),
      page.getByRole("button", { name: "Download" }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^cp-search-output-.*\.log$/);
    const file = await readFile(await download.path(), "utf8");
    const fileLines = file.trimEnd().split("\n");
    expect(fileLines.map((l) => l.replace(/^\S+ stdout /, ""))).toEqual(shown);
    expect(await cspViolations(page)).toEqual([]);
  });

  it("shows the status history from the activity feed, and adds what happens next", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "cp-history", code: await echoCode() });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "cp-history");
    const history = page.locator(".history li");
    await history.first().waitFor({ timeout: PAGE_WAIT_MS });
    const before = await history.count();

    await bot.stop();
    await expect.poll(() => history.count(), { timeout: PAGE_WAIT_MS }).toBeGreaterThan(before);
    expect(await history.first().getAttribute("data-action")).toMatch(/^container\.stop/);
  });

  it("shows the spec, and never a secret value set at create, not even one the workload prints", async () => {
    const secret = "s3cr3t-value-never-shown-7f2c";
    const alice = await server.connect("alice");
    const echo = (await echoCode()).files["index.js"];
    const bot = await alice.containers.create({
      name: "cp-spec",
      // berth hides a secret's value in the output it keeps and sends: the page has nothing to show.
      code: { files: { "index.js": `console.log("key is " + process.env.API_KEY);\n${echo}` } },
      env: { MODE: "demo" },
      secretEnv: { API_KEY: secret },
      labels: { team: "blue" },
      restartPolicy: "on-failure",
    });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "cp-spec");
    const spec = page.locator("section.spec");
    await spec.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await spec.textContent()).toContain("team=blue");
    expect(await spec.textContent()).toContain("on-failure");
    expect(await spec.textContent()).toContain(bot.info.image);
    // The whole page, markup and text, the output followed and the history read included.
    await page.locator(".history li").first().waitFor({ timeout: PAGE_WAIT_MS });
    await lines(page).filter({ hasText: "key is" }).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.content()).not.toContain(secret);
    expect(await axeScan(page)).toEqual([]);
  });

  it("fits a phone's screen: nothing wider than the page, the output scrolling in its own region", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({ name: "cp-narrow", code: await countingCode() });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.setViewportSize({ width: 360, height: 740 });
    await openContainer(page, server.url, "cp-narrow");
    await page.locator('figure[data-chart="network"] canvas').waitFor({ timeout: PAGE_WAIT_MS });
    await lines(page).first().waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")).toBe(true);
  });

  it("shows the command, env values, secret env keys, limits and health check, and no secret value in the page", async () => {
    const secret = "s3cr3t-env-value-never-in-page-91ab";
    const envSecret = "s3cr3t-under-password-key-5c0d";
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({
      name: "cp-spec-detail",
      code: await echoCode(),
      command: ["node", "index.js", "--mode", "demo"],
      env: { MODE: "demo", DB_PASSWORD: envSecret, NOTE: `echoes ${secret}` },
      secretEnv: { API_KEY: secret },
      resources: { memoryMb: 128, cpus: 0.5 },
      healthCheck: { request: { ping: true }, expect: { pong: true }, intervalMs: 30_000 },
    });
    removeAfterTest(bot);
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await openContainer(page, server.url, "cp-spec-detail");
    const field = (name: string) => page.locator(`section.spec [data-spec="${name}"]`);
    await field("secret-env").getByText("API_KEY").waitFor({ timeout: PAGE_WAIT_MS });

    expect(await field("command").textContent()).toBe('["node","index.js","--mode","demo"]');
    expect(await field("env").locator("li").allTextContents()).toEqual([
      "MODE=demo",
      "NOTE=echoes [REDACTED]",
    ]);
    // A value under a secret-looking key is a secret too: its key only, with the secretEnv's.
    expect(await field("secret-env").locator("li").allTextContents()).toEqual([
      "API_KEY (value hidden)",
      "DB_PASSWORD (value hidden)",
    ]);
    expect(await field("limits").textContent()).toBe("128 MB memory, 0.5 CPUs, 256 processes");
    expect(await field("health-check").textContent()).toBe(
      'request {"ping":true}, expecting {"pong":true} every 30000 ms',
    );
    const html = await page.content();
    expect(html).not.toContain(secret);
    expect(html).not.toContain(envSecret);
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("asks for the spec only on the container page, once, and shows a value berth cut as cut", async () => {
    // Counted where berth builds a spec answer: `container:status` with `spec: true` and nothing else.
    const specAsks = vi.spyOn(server.berth.manager, "detail");
    onTestFinished(() => specAsks.mockRestore());
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({
      name: "cp-spec-cut",
      code: await echoCode(),
      env: { LONG: `start-${"z".repeat(3_000)}`, SHORT: "kept whole" },
    });
    removeAfterTest(bot);

    // The overview, across status pushes (a stop and a start): rows refreshed, no spec asked for.
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const state = (value: string) =>
      page.locator(`tr[data-container="cp-spec-cut"] td[data-column="state"] [data-state="${value}"]`);
    await state("running").waitFor({ timeout: PAGE_WAIT_MS });
    await bot.stop();
    await state("stopped").waitFor({ timeout: PAGE_WAIT_MS });
    await bot.start();
    await state("running").waitFor({ timeout: PAGE_WAIT_MS });
    expect(specAsks).not.toHaveBeenCalled();

    await openContainer(page, server.url, "cp-spec-cut");
    const env = page.locator('section.spec [data-spec="env"]');
    await env.getByText("SHORT=kept whole").waitFor({ timeout: PAGE_WAIT_MS });
    const long = env.locator("li", { hasText: "LONG=" });
    expect(await long.textContent()).toContain("…[truncated]");
    expect(await long.textContent()).toContain("(cut: only its first 1,024 characters are shown)");
    expect((await long.locator("code").textContent())?.length).toBeLessThanOrEqual("LONG=".length + 1_024);
    expect(specAsks).toHaveBeenCalledTimes(1);

    // A restart pushes status changes to the open page: the spec, which a restart cannot change, is not asked again.
    await bot.restart();
    await page.locator('.container-facts [data-state="running"]').waitFor({ timeout: PAGE_WAIT_MS });
    await expect
      .poll(async () => (await page.locator(".container-facts").textContent())?.includes("Restarts1"), {
        timeout: PAGE_WAIT_MS,
      })
      .toBe(true);
    expect(specAsks).toHaveBeenCalledTimes(1);
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows bob 'not found' at the address of alice's container, and nothing of it", async () => {
    const alice = await server.connect("alice");
    const bot = await alice.containers.create({
      name: "cp-alice",
      code: await countingCode(),
      labels: { secretproject: "zebra" },
    });
    removeAfterTest(bot);
    const bobPage = await browser.signedIn(server.url, TOKENS.bob);
    await bobPage.goto(`${server.url}/#/containers/cp-alice`);
    await bobPage.getByText("There is no container named").waitFor({ timeout: PAGE_WAIT_MS });

    const html = await bobPage.content();
    for (const trace of [bot.id, "zebra", "secretproject", "even ", "odd "])
      expect(html).not.toContain(trace);
    expect(
      await bobPage.locator("section.output, section.usage, section.spec, section.history").count(),
    ).toBe(0);
    expect(await axeScan(bobPage)).toEqual([]);

    // Nor by its id.
    await bobPage.goto(`${server.url}/#/containers/${bot.id}`);
    await bobPage.getByText(`There is no container named “${bot.id}”`).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await bobPage.content()).not.toContain("zebra");
  });

  it("asks the admin which owner's container is meant when two owners use one name", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    const aliceBot = await alice.containers.create({ name: "cp-twin", code: await echoCode() });
    removeAfterTest(aliceBot);
    const bobBot = await bob.containers.create({ name: "cp-twin", code: await echoCode() });
    removeAfterTest(bobBot);
    const page = await browser.signedIn(server.url, TOKENS.admin);
    await openContainer(page, server.url, "cp-twin");

    await page.getByRole("link", { name: "cp-twin of alice" }).click();
    await page.locator("section.spec").waitFor({ timeout: PAGE_WAIT_MS });
    expect(page.url()).toContain(`#/containers/${aliceBot.id}`);
    expect(await page.locator(".container-facts").textContent()).toContain("alice");
    expect(await axeScan(page)).toEqual([]);
  });
});

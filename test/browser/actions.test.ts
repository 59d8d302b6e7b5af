import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { describe, expect, it, onTestFinished } from "vitest";
import { axeScan, cspViolations, PAGE_WAIT_MS, useBrowser } from "../helpers/browser.ts";
import { type Client, echoCode, TOKENS, useTestServer } from "../helpers/test-server.ts";

const row = (page: Page, name: string) => page.locator(`tr[data-container="${name}"]`);
const stateOf = (page: Page, name: string, state: string) =>
  row(page, name).locator(`td[data-column="state"] [data-state="${state}"]`);

/** A folder of code on disk, as a person would pick it; removed when the test ends. */
async function codeFolder(files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "berth-code-"));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(join(dir, path, ".."), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return dir;
}

/** Deletes alice's (or bob's) container `name` when the test ends, whatever the page did with it. */
function removeAfterTest(client: Client, name: string): void {
  onTestFinished(async () => {
    const container = await client.containers.get(name).catch(() => undefined);
    await container?.delete().catch(() => {});
  });
}

/** A workload that exits at once: it never says hello, so an update to it is rolled back. */
const BROKEN = { "index.js": 'console.log("broken release starting"); process.exit(3);\n' };

describe("the dashboard's actions in a browser", () => {
  const server = useTestServer();
  const browser = useBrowser();

  it("creates a container from the form with code from a folder, shows each step, and the row turns running without a reload", async () => {
    const alice = await server.connect("alice");
    removeAfterTest(alice, "act-new");
    const folder = await codeFolder({ ...(await echoCode()).files, ".git/HEAD": "ref: refs/heads/main\n" });
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.evaluate("window.berthMark = true");

    await page.getByRole("link", { name: "New container" }).click();
    await page.getByRole("heading", { name: "New container", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByLabel("Name", { exact: true }).fill("act-new");
    await page.getByLabel("Folder with the code", { exact: true }).setInputFiles(folder);
    await page.getByText("Picked: 1 file").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByLabel("Environment: name 1", { exact: true }).fill("GREETING");
    await page.getByLabel("Environment: value 1", { exact: true }).fill("hello");
    await page.getByRole("button", { name: "Create" }).click();

    await page.locator('li[data-step="ready"][data-status="done"]').waitFor({ timeout: PAGE_WAIT_MS });
    for (const step of ["validate", "write", "create", "start"])
      expect(await page.locator(`li[data-step="${step}"]`).getAttribute("data-status")).toBe("done");
    expect(await page.getByRole("status").filter({ hasText: "Created" }).textContent()).toContain(
      "act-new is running",
    );
    expect(await axeScan(page)).toEqual([]);

    await page.getByRole("link", { name: "Back to the containers" }).last().click();
    await stateOf(page, "act-new", "running").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.evaluate("window.berthMark === true")).toBe(true);
    expect(await cspViolations(page)).toEqual([]);
  });

  it("names a bad name next to the name field, and berth's own refusal next to the field berth names", async () => {
    const alice = await server.connect("alice");
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.goto(`${server.url}/#/new`);
    await page.getByLabel("Name", { exact: true }).fill("Bad Name!");
    await page.getByRole("button", { name: "Create" }).click();
    const nameError = page.locator("#create-name-error");
    await nameError.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await nameError.textContent()).toContain("lower-case letters");
    expect(await page.getByLabel("Name", { exact: true }).getAttribute("aria-describedby")).toBe(
      "create-name-error",
    );
    expect(await page.evaluate("document.activeElement?.id")).toBe("create-name");

    // Code without the runtime's entry file: only berth knows (VALIDATION_FAILED, field "code").
    await page.getByLabel("Name", { exact: true }).fill("act-bad-code");
    await page
      .getByLabel("Folder with the code")
      .setInputFiles(await codeFolder({ "readme.txt": "no entry\n" }));
    await page.getByText("Picked: 1 file").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByRole("button", { name: "Create" }).click();
    const codeError = page.locator("#create-code-error");
    await codeError.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await codeError.textContent()).toContain("index.js");
    expect(await page.getByRole("alert").textContent()).toContain("VALIDATION_FAILED");
    expect(await axeScan(page)).toEqual([]);

    // A name one of alice's containers has: berth's NAME_CONFLICT, next to the name.
    await alice.containers.create({ name: "act-taken", code: await echoCode(), start: false });
    removeAfterTest(alice, "act-taken");
    await page.getByLabel("Name", { exact: true }).fill("act-taken");
    await page
      .getByLabel("Folder with the code", { exact: true })
      .setInputFiles(await codeFolder((await echoCode()).files));
    await page.getByText("Picked: 1 file").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByRole("button", { name: "Create" }).click();
    await page
      .locator("#create-name-error")
      .filter({ hasText: "already exists" })
      .waitFor({ timeout: PAGE_WAIT_MS });

    // On a narrow screen the form stays within the page's width.
    await page.setViewportSize({ width: 360, height: 740 });
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(360);
  });

  it("never shows a secret value typed into the form once it is sent", async () => {
    const alice = await server.connect("alice");
    removeAfterTest(alice, "act-secret");
    const secret = "s3cret-value-typed-in-the-page";
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.goto(`${server.url}/#/new`);
    await page.getByLabel("Name", { exact: true }).fill("act-secret");
    await page
      .getByLabel("Folder with the code", { exact: true })
      .setInputFiles(await codeFolder((await echoCode()).files));
    await page.getByText("Picked: 1 file").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByLabel("Secret environment: name 1", { exact: true }).fill("API_TOKEN");
    await page.getByLabel("Secret environment: value 1", { exact: true }).fill(secret);
    expect(await page.getByLabel("Secret environment: value 1", { exact: true }).getAttribute("type")).toBe(
      "password",
    );
    await page.getByRole("button", { name: "Create" }).click();

    await page.getByRole("status").filter({ hasText: "Created" }).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.getByLabel("Secret environment: value 1", { exact: true }).inputValue()).toBe("");
    expect(await page.getByLabel("Secret environment: name 1", { exact: true }).inputValue()).toBe(
      "API_TOKEN",
    );
    expect(await page.content()).not.toContain(secret);
    expect(await page.evaluate("document.body.innerText")).not.toContain(secret);
    await page.getByRole("link", { name: "Open act-secret" }).click();
    await page.getByRole("heading", { name: "act-secret", level: 1 }).waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.content()).not.toContain(secret);
  });

  it("stops, starts and restarts a container from its row, each with its pending state", async () => {
    const alice = await server.connect("alice");
    await alice.containers.create({ name: "act-row", code: await echoCode() });
    removeAfterTest(alice, "act-row");
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await stateOf(page, "act-row", "running").waitFor({ timeout: PAGE_WAIT_MS });

    await row(page, "act-row").getByRole("button", { name: "Stop act-row" }).click();
    await stateOf(page, "act-row", "stopped").waitFor({ timeout: PAGE_WAIT_MS });
    await row(page, "act-row").getByRole("button", { name: "Start act-row" }).click();
    await stateOf(page, "act-row", "running").waitFor({ timeout: PAGE_WAIT_MS });

    const restart = row(page, "act-row").getByRole("button", { name: "Restart act-row" });
    await restart.click();
    // Under way: the pressed button says so (a stop, a start and the workload's hello take a moment), the others
    // wait — seen together in one look at the page: read one after the other, the restart could end between them.
    await page
      .locator(
        'tr[data-container="act-row"]:has(button[data-action="restart"][aria-busy="true"]):has(button[data-action="delete"][disabled])',
      )
      .waitFor({ timeout: PAGE_WAIT_MS });
    await row(page, "act-row")
      .locator('td[data-column="restarts"]')
      .filter({ hasText: /^1$/ })
      .waitFor({ timeout: PAGE_WAIT_MS });
    await stateOf(page, "act-row", "running").waitFor({ timeout: PAGE_WAIT_MS });
    await row(page, "act-row")
      .locator('button[data-action="restart"]:not([disabled])')
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await row(page, "act-row").getByRole("alert").count()).toBe(0);
    // Two ticks of the stats watch make a line: CPU and memory, drawn in SVG with nothing the CSP blocks.
    await row(page, "act-row")
      .locator('td[data-column="cpu"] svg.spark polyline')
      .waitFor({ timeout: PAGE_WAIT_MS });
    await row(page, "act-row")
      .locator('td[data-column="memory"] svg.spark polyline')
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await cspViolations(page)).toEqual([]);
    expect(await axeScan(page)).toEqual([]);
  });

  it("shows in the row why a start failed: berth's message, what to do, and the workload's last output", async () => {
    const alice = await server.connect("alice");
    await alice.containers.create({ name: "act-broken", code: { files: BROKEN }, start: false });
    removeAfterTest(alice, "act-broken");
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await row(page, "act-broken").getByRole("button", { name: "Start act-broken" }).click();

    const alert = row(page, "act-broken").getByRole("alert");
    await alert.waitFor({ timeout: PAGE_WAIT_MS });
    const text = await alert.textContent();
    expect(text).toContain("Starting act-broken failed (NOT_READY)");
    expect(text).toContain("check its output");
    expect(text).toContain("broken release starting");
    expect(await axeScan(page)).toEqual([]);
    await alert.getByRole("button", { name: "Dismiss" }).click();
    await alert.waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
  });

  it("shows an update from the container page with broken code rolled back, with the failed step and its cause", async () => {
    const alice = await server.connect("alice");
    await alice.containers.create({ name: "act-update", code: await echoCode() });
    removeAfterTest(alice, "act-update");
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.goto(`${server.url}/#/containers/act-update`);
    await page.getByRole("heading", { name: "Actions" }).waitFor({ timeout: PAGE_WAIT_MS });

    await page.getByLabel("Folder with the code", { exact: true }).setInputFiles(await codeFolder(BROKEN));
    await page.getByText("Picked: 1 file").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByRole("button", { name: "Update", exact: true }).click();

    const rolledBack = page.locator(".rolled-back");
    await rolledBack.waitFor({ timeout: PAGE_WAIT_MS * 2 });
    expect(await rolledBack.getAttribute("data-failed-step")).toBeTruthy();
    expect(await rolledBack.getAttribute("data-cause")).toBe("exited");
    const text = await rolledBack.textContent();
    expect(text).toContain("Rolled back: release 2 failed");
    expect(text).toContain("exit code 3");
    expect(text).toContain("Release 1 runs again");
    expect(text).toContain("broken release starting");
    expect(await page.locator('li[data-step="rollback:ready"]').getAttribute("data-status")).toBe("done");
    expect(await page.getByRole("alert").textContent()).toContain("UPDATE_ROLLED_BACK");
    expect(await axeScan(page)).toEqual([]);
    expect(await cspViolations(page)).toEqual([]);
  });

  it("updates a container from an archive, each step shown, and says which release runs now", async () => {
    const alice = await server.connect("alice");
    await alice.containers.create({ name: "act-archive", code: await echoCode() });
    removeAfterTest(alice, "act-archive");
    const folder = await codeFolder((await echoCode()).files);
    const archive = join(folder, "..", `${folder.split("/").at(-1)}.tar.gz`);
    execFileSync("tar", ["czf", archive, "-C", folder, "index.js"]);
    onTestFinished(() => rm(archive, { force: true }));
    const page = await browser.signedIn(server.url, TOKENS.alice);
    await page.goto(`${server.url}/#/containers/act-archive`);

    await page.getByRole("radio", { name: "An archive (.tar, .tar.gz)" }).check();
    await page.getByLabel("Archive of the code", { exact: true }).setInputFiles(archive);
    await page.getByText("Picked: an archive").waitFor({ timeout: PAGE_WAIT_MS });
    await page.getByRole("button", { name: "Update", exact: true }).click();
    await page
      .getByRole("status")
      .filter({ hasText: "Release 2 runs now" })
      .waitFor({ timeout: PAGE_WAIT_MS });
    for (const step of ["validate", "write", "stop", "switch", "start", "ready"])
      expect(await page.locator(`li[data-step="${step}"]`).getAttribute("data-status")).toBe("done");
    expect(await page.locator(".rolled-back").count()).toBe(0);
  });

  it("deletes a container from its row only once confirmed, from the keyboard", async () => {
    const alice = await server.connect("alice");
    await alice.containers.create({ name: "act-gone", code: await echoCode(), start: false });
    removeAfterTest(alice, "act-gone");
    const page = await browser.signedIn(server.url, TOKENS.alice);
    const remove = row(page, "act-gone").getByRole("button", { name: "Delete act-gone" });
    await remove.waitFor({ timeout: PAGE_WAIT_MS });

    await remove.focus();
    await page.keyboard.press("Enter");
    const dialog = page.getByRole("dialog", { name: "Delete act-gone?" });
    await dialog.waitFor({ timeout: PAGE_WAIT_MS });
    expect(await page.evaluate("document.activeElement?.textContent")).toBe("Cancel");
    expect(await axeScan(page)).toEqual([]);
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
    expect(await row(page, "act-gone").count()).toBe(1);

    await remove.focus();
    await page.keyboard.press("Enter");
    await dialog.waitFor({ timeout: PAGE_WAIT_MS });
    await page.keyboard.press("Tab");
    await page.keyboard.press("Enter");
    await row(page, "act-gone").waitFor({ state: "detached", timeout: PAGE_WAIT_MS });
    await expect(alice.containers.get("act-gone")).rejects.toMatchObject({ code: "NOT_FOUND" });
  });

  it("never shows bob alice's rows, nor their buttons", async () => {
    const alice = await server.connect("alice");
    const bob = await server.connect("bob");
    await alice.containers.create({ name: "act-alice", code: await echoCode(), start: false });
    removeAfterTest(alice, "act-alice");
    await bob.containers.create({ name: "act-bob", code: await echoCode(), start: false });
    removeAfterTest(bob, "act-bob");
    const bobPage = await browser.signedIn(server.url, TOKENS.bob);
    await row(bobPage, "act-bob")
      .getByRole("button", { name: "Start act-bob" })
      .waitFor({ timeout: PAGE_WAIT_MS });
    expect(await row(bobPage, "act-alice").count()).toBe(0);
    expect(await bobPage.content()).not.toContain("act-alice");
    await bobPage.goto(`${server.url}/#/containers/act-alice`);
    await bobPage.getByText("There is no container named").waitFor({ timeout: PAGE_WAIT_MS });
    expect(await bobPage.getByRole("heading", { name: "Actions" }).count()).toBe(0);
  });
});

/**
 * `npm run screenshots`: saves screenshots of the dashboard's main pages under
 * docs/screenshots/, for the README. Not part of `npm test` (CI would leave
 * the tree changed): run it by hand after a change to how the pages look,
 * and commit the PNGs.
 *
 * It starts a berth of its own in this process (a temporary data directory,
 * an ephemeral port, owners alice and bob and an admin), makes a few demo
 * containers for both owners, signs in in Debian's Chromium and saves: the
 * sign-in page, the overview (the admin's, with both owners), a container's
 * page, the activity page, and the activity and overview on a narrow screen.
 * Everything it made is removed at the end, also after a failure.
 *
 *   node scripts/build-dashboard.mjs && node_modules/.bin/node scripts/screenshots.ts
 */
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import Dockerode from "dockerode";
import { chromium, type Page } from "playwright-core";
import { type BerthClient, connect } from "../packages/client/src/index.ts";
import { Berth } from "../src/berth.ts";
import { loadConfig } from "../src/config/config.ts";

const OUT = fileURLToPath(new URL("../docs/screenshots/", import.meta.url));
const TOKENS = { alice: "alice-demo-token-0123456789", bob: "bob-demo-token-0123456789" };
const ADMIN = "admin-demo-token-0123456789";
const DESKTOP = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };
const WAIT = { timeout: 30_000 };

/** A workload that answers requests and does a little work every second, so that its CPU and memory show. */
const WORKLOAD = `const { connect } = require("@berth/workload");
const berth = connect({ meta: { demo: true } });
const kept = [];
berth.onRequest((data) => ({ echo: data }));
setInterval(() => {
  kept.push(Buffer.alloc(64 * 1024));
  if (kept.length > 200) kept.shift();
  let x = 0;
  for (let i = 0; i < 2e6; i++) x += i;
  console.log("tick", x);
}, 1000);
`;

async function main(): Promise<void> {
  const dataDir = await mkdtemp(join(tmpdir(), "bs-"));
  const config = loadConfig({
    BERTH_DATA_DIR: dataDir,
    BERTH_SECRET_KEY_FILE: `${dataDir}.secret.key`,
    BERTH_PORT: "0",
    BERTH_LOG_LEVEL: "warn",
    BERTH_TOKENS: `alice:${TOKENS.alice},bob:${TOKENS.bob}`,
    BERTH_ADMIN_TOKEN: ADMIN,
  });
  const berth = await Berth.open(config, { logDestination: new PassThrough().resume() });
  const clients: BerthClient[] = [];
  const browser = await chromium.launch({
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: process.getuid?.() === 0 ? ["--no-sandbox"] : [],
  });
  try {
    const url = `http://127.0.0.1:${await berth.start()}`;
    const alice = await connect(url, { token: TOKENS.alice });
    const bob = await connect(url, { token: TOKENS.bob });
    clients.push(alice, bob);
    await demoContainers(alice, bob);
    await mkdir(OUT, { recursive: true });

    const page = await browser.newPage({ viewport: DESKTOP });
    await page.goto(url);
    await page.getByLabel("Token").waitFor(WAIT);
    await shot(page, "sign-in");

    await page.getByLabel("Token").fill(ADMIN);
    await page.getByRole("button", { name: "Sign in" }).click();
    // The usage of every running container, from the overview's next stats tick.
    await page
      .locator('tr[data-container="web-shop"] td[data-column="memory"]')
      .filter({ hasText: /B$/ })
      .waitFor(WAIT);
    await page
      .locator('tr[data-container="chat-relay"] td[data-column="memory"]')
      .filter({ hasText: /B$/ })
      .waitFor(WAIT);
    await shot(page, "overview");

    await page.getByRole("link", { name: "web-shop" }).click();
    await page.getByRole("heading", { name: "web-shop", level: 1 }).waitFor(WAIT);
    await page.locator("main").getByText(/B of /).first().waitFor(WAIT);
    // A script, not a test: ten seconds of the page's live 1 s watch, so its charts show a line.
    await page.waitForTimeout(10_000);
    await shot(page, "container", { fullPage: true });

    await page.getByRole("link", { name: "Activity" }).click();
    await page.locator('ol.activity li[data-action="container.stopped"]').first().waitFor(WAIT);
    await shot(page, "activity");

    await page.setViewportSize(NARROW);
    await shot(page, "activity-narrow");
    await page.getByRole("link", { name: "Containers" }).click();
    await page.locator('tr[data-container="web-shop"]').waitFor(WAIT);
    await shot(page, "overview-narrow");
  } finally {
    await browser.close();
    for (const client of clients) await client.close();
    await berth.close();
    const docker = new Dockerode({ socketPath: config.dockerSocket });
    const left = await docker.listContainers({
      all: true,
      filters: { label: [`berth.instance=${berth.instanceId}`] },
    });
    await Promise.all(
      left.map((c) =>
        docker
          .getContainer(c.Id)
          .remove({ force: true })
          .catch(() => {}),
      ),
    );
    await rm(dataDir, { recursive: true, force: true });
    await rm(`${dataDir}.secret.key`, { force: true });
  }
}

/** Two owners' worth of containers in the states a dashboard shows: running, stopped, never started, restarted. */
async function demoContainers(alice: BerthClient, bob: BerthClient): Promise<void> {
  const code = { files: { "index.js": WORKLOAD } };
  await Promise.all([
    alice.containers.create({ name: "web-shop", code, labels: { team: "shop", tier: "web" } }),
    alice.containers.create({ name: "price-bot", code, labels: { team: "shop" } }),
    alice.containers.create({ name: "nightly-report", code, start: false, labels: { team: "finance" } }),
    bob.containers.create({ name: "chat-relay", code, labels: { team: "support" } }),
    bob.containers.create({ name: "mailer", code, labels: { team: "support" } }),
  ]);
  await (await alice.containers.get("price-bot")).restart();
  await (await bob.containers.get("mailer")).stop();
}

async function shot(page: Page, name: string, { fullPage = false } = {}): Promise<void> {
  await page.screenshot({ path: join(OUT, `${name}.png`), fullPage });
  process.stdout.write(`saved docs/screenshots/${name}.png\n`);
}

await main();

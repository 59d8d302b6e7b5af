import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Worker } from "node:worker_threads";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
// @ts-expect-error: plain JavaScript (set-up runs it on Node 20), without declarations.
import { dashboardInputs } from "../../scripts/build-dashboard.mjs";
// @ts-expect-error: as above.
import { installDashboardBuild } from "../../scripts/install-dashboard-build.mjs";

const install = installDashboardBuild as (o: { out: string; dist: string; hash: string }) => string[];

describe("a new dashboard build put in place while berth serves the old one", () => {
  let work: string;
  let dist: string;
  let builds = 0;

  beforeEach(async () => {
    work = await mkdtemp(join(tmpdir(), "berth-dash-"));
    dist = join(work, "dist");
  });
  afterEach(async () => {
    await rm(work, { recursive: true, force: true });
  });

  /** What Vite writes: index.html naming its hashed assets. */
  function viteOutput(tag: string): string {
    const out = join(work, `out-${++builds}`);
    mkdirSync(join(out, "assets"), { recursive: true });
    writeFileSync(join(out, "assets", `index-${tag}.js`), `js ${tag}`);
    writeFileSync(join(out, "assets", `index-${tag}.css`), `css ${tag}`);
    writeFileSync(join(out, "index.html"), `<script src="/assets/index-${tag}.js"></script>`);
    return out;
  }
  const assets = () => readdirSync(join(dist, "assets")).sort();

  it("keeps the previous build's assets, so that a page loaded from its index.html still gets them", () => {
    install({ out: viteOutput("AAA"), dist, hash: "h1" });
    expect(install({ out: viteOutput("BBB"), dist, hash: "h2" })).toEqual([]);
    expect(readFileSync(join(dist, "index.html"), "utf8")).toContain("index-BBB.js");
    expect(assets()).toEqual(["index-AAA.css", "index-AAA.js", "index-BBB.css", "index-BBB.js"]);
    expect(readFileSync(join(dist, ".build-hash"), "utf8")).toBe("h2");
  });

  it("prunes the assets of builds before the previous one, at the next build", () => {
    install({ out: viteOutput("AAA"), dist, hash: "h1" });
    install({ out: viteOutput("BBB"), dist, hash: "h2" });
    expect(install({ out: viteOutput("CCC"), dist, hash: "h3" })).toEqual(["index-AAA.css", "index-AAA.js"]);
    expect(assets()).toEqual(["index-BBB.css", "index-BBB.js", "index-CCC.css", "index-CCC.js"]);
    // The same build again changes nothing that is served.
    install({ out: viteOutput("CCC"), dist, hash: "h3" });
    expect(assets()).toEqual(["index-BBB.css", "index-BBB.js", "index-CCC.css", "index-CCC.js"]);
  });

  it("never leaves `/` without a whole index.html, while builds go in one after another", async () => {
    install({ out: viteOutput("A0"), dist, hash: "h" });
    // A reader on another thread, as berth serving `/` would be: index.html is there, whole, every time.
    const reader = new Worker(
      `const { existsSync, readFileSync } = require("node:fs");
       const { parentPort, workerData } = require("node:worker_threads");
       let stop = false, reads = 0, misses = 0;
       parentPort.on("message", () => { stop = true; });
       (function loop() {
         for (let i = 0; i < 200; i++) {
           reads++;
           try { if (!readFileSync(workerData, "utf8").endsWith("</script>")) misses++; } catch { misses++; }
         }
         if (stop) parentPort.postMessage({ reads, misses }); else setImmediate(loop);
       })();`,
      { eval: true, workerData: join(dist, "index.html") },
    );
    const result = new Promise<{ reads: number; misses: number }>((resolve) =>
      reader.once("message", resolve),
    );
    for (let i = 1; i <= 40; i++) install({ out: viteOutput(`A${i}`), dist, hash: `h${i}` });
    reader.postMessage("stop");
    const { reads, misses } = await result;
    await reader.terminate();
    expect(reads).toBeGreaterThan(0);
    expect(misses).toBe(0);
    expect(readdirSync(dist).filter((f) => f.endsWith(".tmp"))).toEqual([]);
    expect(readdirSync(join(dist, "assets")).filter((f) => f.startsWith("."))).toEqual([]);
    expect(assets()).toEqual(["index-A39.css", "index-A39.js", "index-A40.css", "index-A40.js"]);
  });

  it("keeps every asset of an older build installed without a list of its assets", () => {
    mkdirSync(join(dist, "assets"), { recursive: true });
    writeFileSync(join(dist, "assets", "index-OLD.js"), "old");
    writeFileSync(join(dist, "index.html"), "old");
    install({ out: viteOutput("NEW"), dist, hash: "h" });
    expect(assets()).toEqual(["index-NEW.css", "index-NEW.js", "index-OLD.js"]);
  });
});

describe("what the dashboard's build hash is made from", () => {
  it("takes in package-lock.json, whose packages' versions are all that is bundled, besides the sources", () => {
    const inputs = (dashboardInputs as () => string[])().map((f) => f.replaceAll("\\", "/"));
    expect(inputs.some((f) => f.endsWith("/package-lock.json"))).toBe(true);
    expect(inputs.some((f) => f.includes("/packages/dashboard/src/"))).toBe(true);
    expect(inputs.some((f) => f.includes("/packages/client/src/"))).toBe(true);
  });
});

/**
 * Writes docs/asyncapi.json, the AsyncAPI 3 document of berth's Socket.IO
 * API, generated from the contract (`npm run docs:asyncapi`). A test fails
 * when the committed file differs from what this writes.
 */
import { writeFileSync } from "node:fs";
import { asyncApiJson } from "../src/api/asyncapi.ts";

const target = new URL("../docs/asyncapi.json", import.meta.url);
writeFileSync(target, asyncApiJson());
console.log(`wrote ${target.pathname}`);

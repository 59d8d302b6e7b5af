import { connect, isBerthError } from "@berth/client";
import { codeFromDirectory } from "@berth/client/code";

const url = process.env.BERTH_URL ?? "http://127.0.0.1:7300";
const berth = await connect(url, { token: process.env.BERTH_TOKEN });
const bot = await berth.containers.create({ name: "hello", code: await codeFromDirectory("examples/hello") });
console.log(await bot.request({ name: "berth" }, { timeoutMs: 5_000 })); // { hello: 'berth' }
try {
  await bot.update({ files: { "index.js": "process.exit(3)" } }); // never says hello: berth rolls it back
} catch (err) {
  if (isBerthError(err, "UPDATE_ROLLED_BACK")) console.log("rolled back:", err.message);
  else throw err;
}
await bot.delete();
await berth.close();

/**
 * The floor's peer, run as its own process: connects to the Unix socket named
 * in argv, and answers every NDJSON request with its data — parsing and
 * serializing each frame as any workload must, and nothing more.
 */
import { connect } from "node:net";

const socket = connect(process.argv[2] ?? "");
socket.setEncoding("utf8");
let buffer = "";
socket.on("data", (chunk: string) => {
  buffer += chunk;
  let start = 0;
  let out = "";
  for (let nl = buffer.indexOf("\n"); nl !== -1; nl = buffer.indexOf("\n", start)) {
    const frame = JSON.parse(buffer.slice(start, nl)) as { id: string; data: unknown };
    out += `{"type":"response","id":${JSON.stringify(frame.id)},"data":${JSON.stringify(frame.data)}}\n`;
    start = nl + 1;
  }
  buffer = buffer.slice(start);
  if (out) socket.write(out);
});
socket.on("close", () => process.exit(0));

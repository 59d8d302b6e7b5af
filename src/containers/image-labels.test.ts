import { describe, expect, it } from "vitest";
import { type MalformedLabel, readImageLabels } from "./image-labels.ts";

function read(labels: Record<string, string>) {
  const malformed: MalformedLabel[] = [];
  return { labels: readImageLabels(labels, (m) => malformed.push(m)), malformed };
}

describe("berth's labels on an image", () => {
  it("are read as the runtime images carry them", () => {
    expect(
      read({
        "berth.runtime": "python",
        "berth.entry": "main.py",
        "berth.command": '["python3","main.py"]',
        "berth.protocol": "1",
        "berth.recipe": "f3097711b20d205f",
      }),
    ).toEqual({
      labels: { runtime: "python", entry: "main.py", command: ["python3", "main.py"], protocol: 1 },
      malformed: [],
    });
  });

  it("are all optional: a custom image may carry none", () => {
    expect(read({ maintainer: "me" })).toEqual({ labels: {}, malformed: [] });
  });

  it("count an empty label as absent: an image cannot drop a label of its base image, only empty it", () => {
    expect(
      read({ "berth.runtime": "", "berth.entry": "", "berth.command": "", "berth.protocol": "" }),
    ).toEqual({
      labels: {},
      malformed: [],
    });
  });

  it("allow an entry file in a folder", () => {
    expect(read({ "berth.entry": "src/bot/main.py" }).labels).toEqual({ entry: "src/bot/main.py" });
  });

  it.each([
    ["berth.runtime", "ruby", "not a runtime berth knows (node, python)"],
    ["berth.runtime", "Node", "not a runtime berth knows (node, python)"],
    ["berth.entry", "/app/index.js", "not a plain path relative to the code's root"],
    ["berth.entry", "../../etc/passwd", "not a plain path relative to the code's root"],
    ["berth.entry", "a//b.js", "not a plain path relative to the code's root"],
    ["berth.entry", "./index.js", "not a plain path relative to the code's root"],
    ["berth.entry", "index.js\n", "not a plain path relative to the code's root"],
    ["berth.entry", `${"a".repeat(256)}`, "not 1 to 255 characters"],
    ["berth.command", "node index.js", "not JSON"],
    ["berth.command", "[]", "not a JSON array of 1 to 256 strings"],
    ["berth.command", '{"cmd":"node"}', "not a JSON array of 1 to 256 strings"],
    ["berth.command", '["node", 1]', "not a JSON array of 1 to 256 strings"],
    ["berth.command", `["${"x".repeat(20_000)}"]`, "longer than 16384 characters"],
    ["berth.protocol", "one", "not a positive whole number"],
    ["berth.protocol", "0", "not a positive whole number"],
    ["berth.protocol", "1.5", "not a positive whole number"],
    ["berth.protocol", "-1", "not a positive whole number"],
  ])("leave out a malformed %s (%j), and say why", (label, value, reason) => {
    expect(read({ [label]: value, "berth.runtime": label === "berth.runtime" ? value : "node" })).toEqual({
      labels: label === "berth.runtime" ? {} : { runtime: "node" },
      malformed: [{ label, reason }],
    });
  });
});

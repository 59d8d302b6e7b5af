import { describe, expect, it } from "vitest";
import { readCheckedLabels } from "./image-labels.ts";

describe("readCheckedLabels", () => {
  it("reads the labels of berth's runtime images", () => {
    expect(
      readCheckedLabels({
        "berth.runtime": "python",
        "berth.entry": "main.py",
        "berth.command": '["python3","main.py"]',
        "berth.protocol": "1",
        "berth.recipe": "b04aa5d14db94aad",
      }),
    ).toEqual({
      runtime: "python",
      entry: "main.py",
      command: ["python3", "main.py"],
      protocol: 1,
      problems: [],
    });
  });

  it("reads nothing from an image without them, nor from labels set to '' (how an image unsets its base's)", () => {
    expect(readCheckedLabels({ maintainer: "acme" })).toEqual({ problems: [] });
    expect(readCheckedLabels({ "berth.runtime": "", "berth.entry": "", "berth.command": "" })).toEqual({
      problems: [],
    });
  });

  it("names each label that makes no sense, and what it should be", () => {
    const { problems } = readCheckedLabels({
      "berth.runtime": "ruby",
      "berth.entry": "../etc/passwd",
      "berth.command": "python3 main.py",
      "berth.protocol": "2",
    });
    expect(problems).toEqual([
      "berth.runtime is 'ruby': not a runtime berth knows (node, python)",
      "berth.entry is '../etc/passwd': not a plain path relative to the code's root",
      "berth.command is 'python3 main.py': not JSON",
      "berth.protocol says the image's SDK speaks protocol 2; this berth speaks 1",
    ]);
  });

  it("quotes a malformed value sanitised and cut: an image's labels are anyone's text", () => {
    const { problems } = readCheckedLabels({
      "berth.runtime": "\x1b]52;c;Y3VybCBldmlsLnNo\x07\u009b2J\u202eruby",
      "berth.protocol": "9".repeat(5_000),
    });
    expect(problems).toEqual([
      "berth.runtime is '\\x9b2J\\u202eruby': not a runtime berth knows (node, python)",
      `berth.protocol is '${"9".repeat(67)} …[truncated]': not a positive whole number`,
    ]);
  });
});

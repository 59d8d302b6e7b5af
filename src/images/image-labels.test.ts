import { describe, expect, it } from "vitest";
import { readBerthLabels } from "./image-labels.ts";

describe("readBerthLabels", () => {
  it("reads the labels of berth's runtime images", () => {
    expect(
      readBerthLabels({
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
    expect(readBerthLabels({ maintainer: "acme" })).toEqual({ problems: [] });
    expect(readBerthLabels({ "berth.runtime": "", "berth.entry": "", "berth.command": "" })).toEqual({
      problems: [],
    });
  });

  it("names each label that makes no sense, and what it should be", () => {
    const { problems } = readBerthLabels({
      "berth.runtime": "ruby",
      "berth.entry": "../etc/passwd",
      "berth.command": "python3 main.py",
      "berth.protocol": "2",
    });
    expect(problems).toEqual([
      expect.stringContaining("berth.runtime is 'ruby'; berth knows node and python"),
      expect.stringContaining("berth.entry is '../etc/passwd', which contains '..'"),
      expect.stringContaining("berth.command is 'python3 main.py'; it must be a JSON array of strings"),
      "berth.protocol says the image's SDK speaks protocol 2; this berth speaks 1",
    ]);
  });
});

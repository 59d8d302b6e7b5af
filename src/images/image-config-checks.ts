import { entryFileOf } from "../containers/entry-file.ts";
import { howToBuild } from "../containers/image-catalog.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { CodeEntryList } from "../updates/code-entry.ts";
import type { ImageCheckReport } from "./image-check-report.ts";
import { readCheckedLabels } from "./image-labels.ts";
import { probeCode } from "./image-probes.ts";

/** What the checks of the image's configuration leave for the run: the command it runs, and the code to run it with. */
export interface ImageToRun {
  command: string[];
  code: CodeEntryList;
}

/**
 * The checks that only read the image: present (`image`), its berth labels
 * sound (`labels`), a command of its own (`command`), and its entry file in
 * the code the check will run (`entry`) — the caller's code, else berth's
 * probe for the image's `berth.runtime`, else none. Undefined when the image
 * cannot be run at all (missing, or nothing to run).
 */
export async function checkImageConfig(
  docker: DockerClient,
  image: string,
  given: CodeEntryList | undefined,
  report: ImageCheckReport,
): Promise<ImageToRun | undefined> {
  const facts = await docker.inspectImage(image);
  if (!facts) {
    report.fail(
      "image",
      "The container engine has no such image (berth never pulls one).",
      `${howToBuild(image).replace(/^./, (c) => c.toUpperCase())}.`,
    );
    return undefined;
  }
  report.pass("image", "present on the container engine");

  const rawLabels = facts.labels;
  const labels = readCheckedLabels(rawLabels);
  const command = [...facts.entrypoint, ...facts.cmd];
  if (labels.command && command.length > 0 && JSON.stringify(labels.command) !== JSON.stringify(command))
    labels.problems.push(
      `berth.command says ${JSON.stringify(labels.command)}, but the image runs ${JSON.stringify(command)}`,
    );
  if (labels.runtime) report.facts.runtime = labels.runtime;
  if (labels.problems.length > 0) {
    report.fail(
      "labels",
      labels.problems.join("; "),
      'Correct the LABELs in the image\'s Dockerfile (docs/images.md lists them), or set those berth should not read to "".',
    );
  } else {
    const found = Object.entries(rawLabels)
      .filter(([k, v]) => /^berth\.(runtime|entry|command|protocol)$/.test(k) && v !== "")
      .map(([k, v]) => `${k}=${v}`);
    report.pass(
      "labels",
      found.length > 0
        ? found.join(", ")
        : "none (a custom image: berth runs its own command, with the code a spec gives)",
    );
  }

  if (command.length === 0) {
    report.fail(
      "command",
      "The image has neither an ENTRYPOINT nor a CMD, so a workload without a `command` of its own has nothing to run.",
      'Give the image a command in exec form, e.g. CMD ["python3", "main.py"] (no shell needed).',
    );
    return undefined;
  }
  report.pass("command", JSON.stringify(command));

  let code: CodeEntryList = [];
  if (given) {
    code = given;
    report.facts.code = "given";
  } else if (labels.runtime) {
    code = probeCode(labels.runtime, labels.entry);
    report.facts.code = "probe";
  }
  const entryFile = entryFileOf({ facts, labels });
  if (entryFile === undefined) {
    report.pass("entry", "the image names no entry file (no berth.entry label): nothing to check");
  } else if (code.some((e) => e.path === entryFile && e.kind !== "dir")) {
    report.pass("entry", `${entryFile} is in the ${report.facts.code === "probe" ? "probe" : "code"}`);
  } else {
    report.fail(
      "entry",
      `The image's command runs ${entryFile}, which the code ${report.facts.code === "none" ? "(none given)" : "given"} does not have.`,
      report.facts.code === "none"
        ? `Check it with code that has ${entryFile} (berth image check IMAGE --code DIR), or give the image a berth.runtime label so that berth's probe is used.`
        : `Add ${entryFile} to the code, or run a spec with a \`command\` that runs your entry file.`,
    );
  }
  return { command, code };
}

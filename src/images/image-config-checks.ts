import type { CodeEntryList } from "../code/code-entry.ts";
import { defaultCommandOf, entryFileOf, staleEntryLabel } from "../containers/entry-file.ts";
import { howToBuild } from "../containers/image-catalog.ts";
import { IMAGE_LABELS, readImageLabels } from "../containers/image-labels.ts";
import type { DockerClient } from "../docker/docker-client.ts";
import type { ImageCheckReport } from "./image-check-report.ts";
import { quoted, readCheckedLabels } from "./image-labels.ts";
import { DEFAULT_ENTRY, probeCode } from "./image-probes.ts";

/** What the checks of the image's configuration leave for the run: the command it runs, and the code to run it with. */
export interface ImageToRun {
  command: string[];
  code: CodeEntryList;
}

/**
 * The checks that only read the image: present (`image`), its berth labels
 * sound (`labels`), a command of its own (`command`), and its entry file in
 * the code the check will run (`entry`) — the caller's code, else berth's
 * probe for the image's `berth.runtime` (written at the entry file), else
 * none. Undefined when the image cannot be run at all (missing, or nothing to
 * run). What it quotes of the image is sanitised and cut, here and again by
 * the report.
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
      `berth.command says ${quoted(JSON.stringify(labels.command), 200)}, but the image runs ${quoted(JSON.stringify(command), 200)}`,
    );
  const stale = staleEntryLabel({ facts, labels });
  if (stale !== undefined)
    labels.problems.push(
      `berth.entry is '${stale}', but the image's command (${quoted(defaultCommandOf({ facts, labels }).join(" "), 200)}) does not run it — a label left from the image it is built FROM? berth ignores it: set berth.entry to the file the command runs, or to ""`,
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
      .map(([k, v]) => `${k}=${quoted(v, 200)}`);
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
  report.pass("command", quoted(JSON.stringify(command), 500));

  const entryFile = entryFileOf({ facts, labels });
  let code: CodeEntryList = [];
  if (given) {
    code = given;
    report.facts.code = "given";
  } else if (labels.runtime) {
    // Where the command will look for it; berth's probe is the workload's code.
    code = probeCode(labels.runtime, plainPath(entryFile) ?? DEFAULT_ENTRY[labels.runtime]);
    report.facts.code = "probe";
  }
  const what = { given: "the code given", probe: "berth's probe", none: "no code (none given)" }[
    report.facts.code
  ];
  if (entryFile === undefined) {
    report.pass(
      "entry",
      stale === undefined
        ? "the image names no entry file (no berth.entry label): nothing to check"
        : "the image's command runs no file berth can name (its berth.entry is stale: see labels): nothing to check",
    );
  } else if (code.some((e) => e.path === entryFile && e.kind !== "dir")) {
    report.pass("entry", `${entryFile} is in ${what}`);
  } else {
    report.fail(
      "entry",
      `The image's command runs ${entryFile}, which ${what} does not have.`,
      report.facts.code === "none"
        ? `Check it with code that has ${entryFile} (berth image check IMAGE --code DIR), or give the image a berth.runtime label so that berth's probe is used.`
        : `Add ${entryFile} to the code, or run a spec with a \`command\` that runs your entry file.`,
    );
  }
  return { command, code };
}

/**
 * `path` when it is a plain path relative to the code's root, as a
 * `berth.entry` label must be; else undefined. An entry read from an old
 * image's `/app/…` command is the image's text, unchecked: the probe is
 * never written outside the code's directory for it.
 */
function plainPath(path: string | undefined): string | undefined {
  return path === undefined ? undefined : readImageLabels({ [IMAGE_LABELS.entry]: path }, () => {}).entry;
}

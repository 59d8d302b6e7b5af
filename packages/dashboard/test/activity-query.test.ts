import { describe, expect, it } from "vitest";
import { ALL_ACTIVITY, choices, filterEntries } from "../src/activity/activity-query.ts";
import { entry } from "./fake-client.ts";

const entries = [
  entry(4, {
    level: "error",
    action: "container.exited",
    containerId: "id-api",
    containerName: "api",
    message: "'api' stopped unexpectedly",
  }),
  entry(3, {
    level: "success",
    action: "container.started",
    containerId: "id-web",
    containerName: "web",
    message: "'web' started",
  }),
  entry(2, {
    level: "warning",
    action: "engine.unavailable",
    message: "The engine is unreachable",
    containerId: undefined,
    containerName: undefined,
  }),
  entry(1, {
    level: "info",
    action: "container.created",
    containerId: "id-web",
    containerName: "web",
    message: "'web' was created",
  }),
];
const ids = (list: { id: number }[]) => list.map((e) => e.id);
const owners: Record<string, string> = { "id-web": "alice", "id-api": "bob" };
const ownerOf = (e: { containerId?: string }) => (e.containerId ? owners[e.containerId] : undefined);

describe("the activity page's filters", () => {
  it("keeps every entry, in order, with no filter", () => {
    expect(ids(filterEntries(entries, ALL_ACTIVITY))).toEqual([4, 3, 2, 1]);
  });

  it("filters by container, by level and by kind", () => {
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, container: "web" }))).toEqual([3, 1]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, level: "error" }))).toEqual([4]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, action: "container.created" }))).toEqual([1]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, container: "web", level: "error" }))).toEqual([]);
  });

  it("searches the message, the container's name and the kind, ignoring case and spaces around", () => {
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, text: " UNEXPECTEDLY " }))).toEqual([4]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, text: "engine" }))).toEqual([2]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, text: "we" }))).toEqual([3, 1]);
  });

  it("filters by owner as far as the owners are known, leaving out entries of no known owner", () => {
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, owner: "alice" }, ownerOf))).toEqual([3, 1]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, owner: "bob" }, ownerOf))).toEqual([4]);
    expect(ids(filterEntries(entries, { ...ALL_ACTIVITY, owner: "alice" }))).toEqual([]);
  });

  it("offers as choices the distinct values the entries hold, sorted", () => {
    expect(choices(entries, (e) => e.containerName)).toEqual(["api", "web"]);
    expect(choices(entries, (e) => e.action)).toEqual([
      "container.created",
      "container.exited",
      "container.started",
      "engine.unavailable",
    ]);
  });
});

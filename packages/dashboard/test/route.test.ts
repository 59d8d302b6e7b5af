import { describe, expect, it } from "vitest";
import { parseRoute, routeHref } from "../src/router/route.ts";

describe("the dashboard's hash routes", () => {
  it("names the overview, a container and the activity", () => {
    expect(parseRoute("")).toEqual({ page: "overview" });
    expect(parseRoute("#/")).toEqual({ page: "overview" });
    expect(parseRoute("#/activity")).toEqual({ page: "activity" });
    expect(parseRoute(routeHref({ page: "new" }))).toEqual({ page: "new" });
    expect(parseRoute("#/containers/my-bot")).toEqual({ page: "container", name: "my-bot" });
  });

  it("gives back the route it parses, for any container name", () => {
    for (const name of ["bot", "a b", "ünï", "x/y", "%41"]) {
      const route = { page: "container", name } as const;
      expect(parseRoute(routeHref(route))).toEqual(route);
    }
  });

  it("says which address names no page, a malformed escape included", () => {
    expect(parseRoute("#/nowhere")).toEqual({ page: "not-found", path: "/nowhere" });
    expect(parseRoute("#/containers/%E0%A4%A")).toEqual({ page: "not-found", path: "/containers/%E0%A4%A" });
    expect(parseRoute("#/containers/a/b")).toEqual({ page: "not-found", path: "/containers/a/b" });
  });
});

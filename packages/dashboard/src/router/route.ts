/**
 * The dashboard's pages, as the URL's hash names them (hash routes: berth
 * serves one index.html, and nothing after `#` reaches the server or a log).
 * To add a page: a variant here, a case in parseRoute and routeHref, a case in app.tsx.
 */
export type Route =
  | { page: "overview" }
  | { page: "new" }
  | { page: "container"; name: string }
  | { page: "activity" }
  | { page: "not-found"; path: string };

export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#/, "") || "/";
  if (path === "/") return { page: "overview" };
  if (path === "/activity") return { page: "activity" };
  if (path === "/new") return { page: "new" };
  const container = /^\/containers\/([^/]+)$/.exec(path);
  if (container) {
    try {
      return { page: "container", name: decodeURIComponent(container[1]!) };
    } catch {
      // a malformed escape: not a name berth could have given
    }
  }
  return { page: "not-found", path };
}

export function routeHref(route: Route): string {
  switch (route.page) {
    case "overview":
      return "#/";
    case "activity":
      return "#/activity";
    case "new":
      return "#/new";
    case "container":
      return `#/containers/${encodeURIComponent(route.name)}`;
    case "not-found":
      return `#${route.path}`;
  }
}

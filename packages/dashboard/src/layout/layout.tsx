import type { ComponentChildren } from "preact";
import { useLayoutEffect, useRef } from "preact/hooks";
import type { Route } from "../router/route.ts";

interface Props {
  route: Route;
  isAdmin: boolean;
  onSignOut: () => void;
  children: ComponentChildren;
}

const NAV: { page: Route["page"]; href: string; label: string }[] = [
  { page: "overview", href: "#/", label: "Containers" },
  { page: "activity", href: "#/activity", label: "Activity" },
];

/**
 * The frame of every signed-in page: a skip link, the banner with the
 * navigation and sign-out, and the main region. After a route change the
 * focus moves to the main region, as a page load would put it at the top.
 */
export function Layout({ route, isAdmin, onSignOut, children }: Props) {
  const main = useRef<HTMLElement>(null);
  const first = useRef(true);
  // A layout effect: the focus moves with the render that shows the new page, not a frame later.
  useLayoutEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    main.current?.focus();
  }, [route]);

  return (
    <>
      {/* A button, not a link to #main: the hash is the route here. */}
      <button type="button" class="skip-link" onClick={() => main.current?.focus()}>
        Skip to the content
      </button>
      <header class="banner">
        <span class="brand">berth</span>
        <nav aria-label="Pages">
          <ul>
            {NAV.map((item) => (
              <li key={item.page}>
                <a href={item.href} aria-current={route.page === item.page ? "page" : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{isAdmin ? "admin: every owner" : "signed in"}</span>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main id="main" ref={main} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}

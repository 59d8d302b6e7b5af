import { useEffect, useState } from "preact/hooks";
import { Layout } from "./layout/layout.tsx";
import { ActivityPage } from "./pages/activity-page.tsx";
import { ContainerPage } from "./pages/container-page.tsx";
import { NotFoundPage } from "./pages/not-found-page.tsx";
import { OverviewPage } from "./pages/overview-page.tsx";
import { SignInPage } from "./pages/sign-in-page.tsx";
import { useRoute } from "./router/use-route.ts";
import { type Session, signIn, signOut } from "./session/session.ts";
import { signInErrorText } from "./session/sign-in-error.ts";
import { tokenStore } from "./session/token-store.ts";

type Auth =
  | { state: "resuming" }
  | { state: "signed-out"; error?: string }
  | { state: "signed-in"; session: Session };

/** The dashboard: signs in (again, from this tab's stored token, after a reload), then routes by the URL's hash. */
export function App() {
  const route = useRoute();
  const [auth, setAuth] = useState<Auth>(() =>
    tokenStore.read() === undefined ? { state: "signed-out" } : { state: "resuming" },
  );

  const attempt = async (token: string) => {
    try {
      const session = await signIn(token);
      // berth closes the connection of a revoked token; the client then stays closed.
      session.client.on("session:revoked", () => {
        tokenStore.clear();
        setAuth({ state: "signed-out", error: "Your token was revoked. Sign in with a new one." });
      });
      setAuth({ state: "signed-in", session });
    } catch (err) {
      tokenStore.clear();
      setAuth({ state: "signed-out", error: signInErrorText(err) });
    }
  };

  useEffect(() => {
    const stored = tokenStore.read();
    if (stored !== undefined) void attempt(stored);
  }, []);

  useEffect(() => {
    document.title = auth.state === "signed-in" ? `${titleOf(route.page)} · berth` : "Sign in · berth";
  }, [auth.state, route.page]);

  if (auth.state === "resuming") {
    return (
      <main id="main">
        <p role="status">Signing in…</p>
      </main>
    );
  }
  if (auth.state === "signed-out") return <SignInPage onSignIn={attempt} {...errorProp(auth.error)} />;

  const { client, isAdmin } = auth.session;
  const leave = async () => {
    await signOut(auth.session);
    setAuth({ state: "signed-out" });
  };
  return (
    <Layout route={route} isAdmin={isAdmin} onSignOut={leave}>
      {route.page === "overview" && <OverviewPage client={client} isAdmin={isAdmin} />}
      {route.page === "container" && <ContainerPage key={route.name} client={client} name={route.name} />}
      {route.page === "activity" && <ActivityPage client={client} />}
      {route.page === "not-found" && <NotFoundPage path={route.path} />}
    </Layout>
  );
}

function titleOf(page: string): string {
  return page === "overview"
    ? "Containers"
    : page === "activity"
      ? "Activity"
      : page === "container"
        ? "Container"
        : "Not found";
}

const errorProp = (error: string | undefined) => (error === undefined ? {} : { error });

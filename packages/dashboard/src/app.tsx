import { useEffect, useState } from "preact/hooks";
import { Layout } from "./layout/layout.tsx";
import { ActivityPage } from "./pages/activity-page.tsx";
import { ContainerPage } from "./pages/container-page.tsx";
import { NewContainerPage } from "./pages/new-container-page.tsx";
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
      // Only while this session is the one shown: a sign-out closes the client too, and says nothing.
      const end = (error: string) =>
        setAuth((auth) => {
          if (auth.state !== "signed-in" || auth.session !== session) return auth;
          tokenStore.clear();
          return { state: "signed-out", error };
        });
      // berth closes the connection of a revoked token (session:revoked comes first, then the close);
      // the client also closes when it gives up reconnecting.
      session.client.on("session:revoked", () => end("Your token was revoked. Sign in with a new one."));
      session.client.on("connection", (state) => {
        if (state === "closed") end("The connection to berth ended. Sign in again.");
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
    const { session } = auth;
    setAuth({ state: "signed-out" });
    await signOut(session);
  };
  return (
    <Layout route={route} isAdmin={isAdmin} onSignOut={leave}>
      {route.page === "overview" && <OverviewPage client={client} isAdmin={isAdmin} />}
      {route.page === "container" && <ContainerPage key={route.name} client={client} name={route.name} />}
      {route.page === "activity" && <ActivityPage client={client} />}
      {route.page === "new" && <NewContainerPage client={client} />}
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
        : page === "new"
          ? "New container"
          : "Not found";
}

const errorProp = (error: string | undefined) => (error === undefined ? {} : { error });

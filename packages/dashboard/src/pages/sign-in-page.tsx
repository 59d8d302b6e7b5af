import { useState } from "preact/hooks";

interface Props {
  onSignIn: (token: string) => Promise<void>;
  /** Why the last attempt failed, in plain words. */
  error?: string;
}

/** The sign-in form: a token, as berth's operator gave it. It goes into the handshake, never into the URL. */
export function SignInPage({ onSignIn, error }: Props) {
  const [token, setToken] = useState("");
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    if (busy || token.trim() === "") return;
    setBusy(true);
    try {
      await onSignIn(token.trim());
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="sign-in">
      <h1>Sign in to berth</h1>
      {/* method post and no action: even without the script, the token would not land in the URL. */}
      <form method="post" onSubmit={submit} aria-describedby={error ? "sign-in-error" : undefined}>
        <label for="token">Token</label>
        <input
          id="token"
          name="token"
          type="password"
          autocomplete="current-password"
          required
          value={token}
          onInput={(e) => setToken(e.currentTarget.value)}
          aria-invalid={error ? true : undefined}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
        {error && (
          <p id="sign-in-error" class="error" role="alert">
            {error}
          </p>
        )}
      </form>
    </main>
  );
}

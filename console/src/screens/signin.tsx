import { useState } from "preact/hooks";

/**
 * Sign in with the admin key or a service API key. The key is checked against the gateway before it is
 * kept (sessionStorage only); a wrong or revoked key gets a clear message, not an empty console.
 */
export function SignIn({ notice, onSignedIn }: { notice: string | null; onSignedIn: (key: string) => void }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(notice);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const response = await fetch("/graphql", {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Bearer ${key.trim()}` },
        body: JSON.stringify({ query: "{ viewer { kind } }" }),
      });
      const body = (await response.json()) as { data?: { viewer: { kind: string } } | null; errors?: { extensions?: { code?: string } }[] };
      const code = body.errors?.[0]?.extensions?.code;
      if (code === "UNAUTHENTICATED") setError("This key was refused: it is wrong, revoked or expired.");
      else if (code === "FORBIDDEN" || (body.data && body.data.viewer.kind !== "ADMIN" && body.data.viewer.kind !== "API_KEY"))
        setError("This is not an admin key or a service API key: the console needs one of those.");
      else if (!body.data) setError(`The gateway answered: ${JSON.stringify(body.errors ?? response.status)}`);
      else onSignedIn(key.trim());
    } catch (e) {
      setError(`The gateway could not be reached: ${(e as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main class="signin">
      <h1>Verigate console</h1>
      <form onSubmit={submit}>
        <label for="key">Admin key or service API key</label>
        <input id="key" name="key" type="password" autocomplete="off" required value={key} onInput={(e) => setKey((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={busy || key.trim() === ""}>
          Sign in
        </button>
        {error && (
          <p role="alert" class="error" data-testid="signin-error">
            {error}
          </p>
        )}
      </form>
      <p class="hint">The key stays in this tab's session storage and is sent only to this gateway.</p>
    </main>
  );
}

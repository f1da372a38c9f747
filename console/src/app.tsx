import type { Client } from "@urql/core";
import { Provider } from "@urql/preact";
import { useEffect, useMemo, useState } from "preact/hooks";
import { gatewayClient, refusedKey } from "./client";
import { ServicesDocument, type ServicesQuery } from "./gql";
import { href, useRoute } from "./route";
import { Insights } from "./screens/insights";
import { Live } from "./screens/live";
import { Search } from "./screens/search";
import { Settings } from "./screens/settings";
import { SignIn } from "./screens/signin";
import { VerificationDetail } from "./screens/verification";
import { session } from "./session";

export type ServiceSummary = ServicesQuery["services"]["nodes"][number];

/** What every screen knows: the client, the services this key sees, and which one is being looked at. */
export interface Workspace {
  client: Client;
  services: ServiceSummary[];
  serviceSid: string;
  setServiceSid: (sid: string) => void;
  /** Lists the services again (after one was created). */
  reloadServices: () => Promise<void>;
  admin: boolean;
}

export function App() {
  const [key, setKey] = useState(session.get());
  const [notice, setNotice] = useState<string | null>(null);
  const signOut = (why: string | null) => {
    session.clear();
    setNotice(why);
    setKey(null);
  };
  if (!key) {
    return (
      <SignIn
        notice={notice}
        onSignedIn={(k) => {
          session.set(k);
          setNotice(null);
          setKey(k);
        }}
      />
    );
  }
  return <Signed key={key} apiKey={key} onRefused={() => signOut("This key was refused: it is wrong, revoked or expired. Sign in again.")} onSignOut={() => signOut(null)} />;
}

function Signed({ apiKey, onRefused, onSignOut }: { apiKey: string; onRefused: () => void; onSignOut: () => void }) {
  const connection = useMemo(() => gatewayClient(apiKey, onRefused), [apiKey]);
  useEffect(() => () => connection.close(), [connection]);
  const [services, setServices] = useState<ServiceSummary[] | null>(null);
  const [serviceSid, setServiceSid] = useState<string>(sessionStorage.getItem("verigate.console.service") ?? "");
  const [error, setError] = useState<string | null>(null);
  const load = async () => {
    const all: ServiceSummary[] = [];
    let after: string | null = null;
    for (;;) {
      const r = await connection.client.query(ServicesDocument, { first: 100, after }).toPromise();
      if (r.error) {
        if (!refusedKey(r.error)) setError(r.error.message);
        return;
      }
      all.push(...(r.data?.services.nodes ?? []));
      if (!r.data?.services.pageInfo.hasNextPage) break;
      after = r.data.services.pageInfo.endCursor ?? null;
    }
    setServices(all);
    if (!all.some((s) => s.sid === serviceSid) && all[0]) setServiceSid(all[0].sid);
  };
  useEffect(() => {
    void load();
  }, [connection]);
  useEffect(() => {
    if (serviceSid) sessionStorage.setItem("verigate.console.service", serviceSid);
  }, [serviceSid]);
  const route = useRoute();
  if (error)
    return (
      <p role="alert" class="error">
        {error}
      </p>
    );
  if (!services) return <p class="loading">Loading…</p>;
  // A service key sees exactly one service; the admin sees them all (and may create services).
  const workspace: Workspace = { client: connection.client, services, serviceSid, setServiceSid, reloadServices: load, admin: services.length !== 1 || apiKey.startsWith("vga_") };
  const nav: [string, string, boolean][] = [
    ["Live traffic", href("live"), route.screen === "live" || route.screen === "verification"],
    ["Search", href("search"), route.screen === "search"],
    ["Insights", href("insights"), route.screen === "insights"],
    ["Settings", href("settings"), route.screen === "settings"],
  ];
  return (
    <Provider value={connection.client}>
      <header class="bar">
        <strong class="brand">Verigate</strong>
        <nav aria-label="Screens">
          {nav.map(([label, to, current]) => (
            <a href={to} aria-current={current ? "page" : undefined}>
              {label}
            </a>
          ))}
        </nav>
        <label class="service-picker">
          <span>Service</span>
          <select value={serviceSid} onChange={(e) => setServiceSid((e.target as HTMLSelectElement).value)} data-testid="service-picker">
            {services.map((s) => (
              <option value={s.sid}>{s.friendlyName}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {route.screen === "live" && <Live workspace={workspace} />}
        {route.screen === "verification" && <VerificationDetail workspace={workspace} sid={route.sid} />}
        {route.screen === "insights" && <Insights workspace={workspace} />}
        {route.screen === "search" && <Search workspace={workspace} query={route.query} />}
        {route.screen === "settings" && <Settings workspace={workspace} tab={route.tab} />}
      </main>
    </Provider>
  );
}

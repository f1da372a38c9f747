import type { OperationResult } from "@urql/core";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Workspace } from "../app";
import { type AttemptChannel, type ConversionStatus, SearchAttemptsDocument, type SearchAttemptsQuery, type VerificationAttemptFilter } from "../gql";
import { href, hrefWithQuery, parseRoute } from "../route";
import "./insights.css";

type Attempt = SearchAttemptsQuery["verificationAttempts"]["edges"][number]["node"];
const CHANNELS: AttemptChannel[] = ["SMS", "WHATSAPP", "CALL", "EMAIL", "RCS", "SNA"];
const PAGE_SIZES = [5, 10, 20, 50, 100];

/** A phone number or email address with its middle hidden: +1415•••••01, a•••@example.com. */
export function mask(to: string): string {
  const at = to.indexOf("@");
  if (at > 0) return `${to[0]}•••${to.slice(at)}`;
  if (to.length <= 6) return "•".repeat(to.length);
  return `${to.slice(0, 5)}${"•".repeat(to.length - 7)}${to.slice(-2)}`;
}

interface Form {
  to: string;
  verificationSid: string;
  country: string;
  channel: "" | AttemptChannel;
  status: "" | ConversionStatus;
  from: string;
  until: string;
}
const empty: Form = { to: "", verificationSid: "", country: "", channel: "", status: "", from: "", until: "" };

/** The form as the API's filter (blank fields left out); an error message for a field the API would refuse. */
function filterOf(form: Form): { filter: VerificationAttemptFilter } | { error: string } {
  const filter: VerificationAttemptFilter = {};
  if (form.to.trim()) filter.to = form.to.trim();
  if (form.verificationSid.trim()) {
    if (!/^VE[0-9a-f]{32}$/i.test(form.verificationSid.trim())) return { error: "A verification sid is VE followed by 32 hex digits." };
    filter.verificationSid = form.verificationSid.trim();
  }
  if (form.country.trim()) {
    if (!/^[a-z]{2}$/i.test(form.country.trim())) return { error: "A country is two letters (ISO 3166-1 alpha-2), such as US or FR." };
    filter.country = form.country.trim().toUpperCase();
  }
  if (form.channel) filter.channel = form.channel;
  if (form.status) filter.status = form.status;
  const from = form.from ? new Date(form.from) : null;
  const until = form.until ? new Date(form.until) : null;
  if (from) filter.dateCreatedAfter = from.toISOString();
  if (until) filter.dateCreatedBefore = until.toISOString();
  if (from && until && from >= until) return { error: "“From” must be before “To”." };
  return { filter };
}

/**
 * The search a link describes, all of it in the hash so a reload, a shared link and back/forward show the same
 * rows: #/search?service=VA…&to=…&sid=VE…&country=US&channel=SMS&status=CONVERTED&from=<ISO>&until=<ISO>
 * &first=5&after=<cursor>,<cursor> (the `after` of each page after the first, so "Previous page" works too).
 * Dates are ISO instants in the link (the same moment in every time zone), local in the form.
 */
interface Wanted {
  service: string | null;
  form: Form;
  pageSize: number;
  cursors: (string | null)[];
}

const pad = (n: number) => String(n).padStart(2, "0");
/** An ISO instant as a datetime-local value in this browser's zone ("" when it is not a date). */
function localInput(iso: string | null): string {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return "";
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
const isoOf = (local: string): string | null => {
  const d = local ? new Date(local) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toISOString() : null;
};

export function readSearch(q: URLSearchParams): Wanted {
  const channel = q.get("channel") ?? "";
  const status = q.get("status") ?? "";
  const first = Number(q.get("first"));
  return {
    service: q.get("service") || null,
    form: {
      to: q.get("to") ?? "",
      verificationSid: q.get("sid") ?? "",
      country: q.get("country") ?? "",
      channel: (CHANNELS as string[]).includes(channel) ? (channel as AttemptChannel) : "",
      status: status === "CONVERTED" || status === "UNCONVERTED" ? status : "",
      from: localInput(q.get("from")),
      until: localInput(q.get("until")),
    },
    pageSize: PAGE_SIZES.includes(first) ? first : 20,
    cursors: [null, ...(q.get("after") ?? "").split(",").filter(Boolean)],
  };
}

export function writeSearch(w: Wanted): URLSearchParams {
  const q = new URLSearchParams();
  if (w.service) q.set("service", w.service);
  const text: [string, string][] = [
    ["to", w.form.to.trim()],
    ["sid", w.form.verificationSid.trim()],
    ["country", w.form.country.trim().toUpperCase()],
    ["channel", w.form.channel],
    ["status", w.form.status],
    ["from", isoOf(w.form.from) ?? ""],
    ["until", isoOf(w.form.until) ?? ""],
  ];
  for (const [k, v] of text) if (v) q.set(k, v);
  if (w.pageSize !== 20) q.set("first", String(w.pageSize));
  const after = w.cursors.filter((c): c is string => !!c);
  if (after.length > 0) q.set("after", after.join(","));
  return q;
}

export function Search({ workspace, query }: { workspace: Workspace; query: URLSearchParams }) {
  const key = query.toString();
  const wanted = useMemo(() => readSearch(query), [key]);
  // A link's service is shown when this key sees it (and the picker follows); otherwise the picked one.
  const linked = wanted.service && workspace.services.some((s) => s.sid === wanted.service) ? wanted.service : null;
  const serviceSid = linked ?? workspace.serviceSid;
  const { pageSize, cursors } = wanted;
  const index = cursors.length - 1;
  const checked = useMemo(() => filterOf(wanted.form), [wanted]);

  const [form, setForm] = useState<Form>(wanted.form);
  const [page, setPage] = useState<{ rows: Attempt[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [reveal, setReveal] = useState(false);
  // "Search" with the filters already shown asks again (the link does not change).
  const [again, setAgain] = useState(0);

  // The link changed (back/forward, a link opened): the form shows what it asks for. A link this screen
  // wrote itself leaves the form alone (it came from it, and the operator may already be typing the next one).
  const own = useRef<string | null>(null);
  useEffect(() => {
    if (own.current === key) {
      own.current = null;
      return;
    }
    setForm(wanted.form);
    setFormError("error" in checked ? checked.error : null);
  }, [key]);

  const go = (next: Wanted, replace = false) => {
    const query = writeSearch(next);
    const to = hrefWithQuery(query, "search");
    if (to === location.hash) return setAgain((n) => n + 1);
    own.current = query.toString();
    if (!replace) {
      location.hash = to;
      return;
    }
    history.replaceState(history.state, "", to);
    dispatchEvent(new HashChangeEvent("hashchange"));
  };

  // The picker follows a link's service; a service picked here replaces the link's (from its first page).
  useEffect(() => {
    if (linked && linked !== workspace.serviceSid) workspace.setServiceSid(linked);
  }, [linked]);
  const picked = useRef(workspace.serviceSid);
  useEffect(() => {
    if (picked.current === workspace.serviceSid) return;
    picked.current = workspace.serviceSid;
    // The link as it is now (it may have moved since this render), if it is still a search.
    const now = parseRoute(location.hash);
    if (now.screen !== "search") return;
    const current = readSearch(now.query);
    if (current.service !== workspace.serviceSid) go({ ...current, service: workspace.serviceSid, cursors: [null] }, true);
  }, [workspace.serviceSid]);

  useEffect(() => {
    if (!serviceSid || "error" in checked) {
      setLoading(false);
      setPage(null);
      return;
    }
    let live = true;
    setLoading(true);
    void workspace.client
      .query(SearchAttemptsDocument, { serviceSid, filter: checked.filter, first: pageSize, after: cursors[index] })
      .toPromise()
      .then((r: OperationResult<SearchAttemptsQuery>) => {
        if (!live) return;
        setLoading(false);
        if (r.error || !r.data) return setError(r.error?.message ?? "The attempts log did not answer.");
        setError(null);
        const c = r.data.verificationAttempts;
        setPage({ rows: c.edges.map((e) => e.node), next: c.pageInfo.hasNextPage ? (c.pageInfo.endCursor ?? null) : null });
      });
    return () => {
      live = false;
    };
  }, [serviceSid, key, again]);

  const field = (name: keyof Form) => ({
    value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }),
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const f = filterOf(form);
    if ("error" in f) return setFormError(f.error);
    setFormError(null);
    go({ service: serviceSid, form, pageSize, cursors: [null] });
  };
  const clear = () => {
    setForm(empty);
    setFormError(null);
    go({ service: serviceSid, form: empty, pageSize, cursors: [null] });
  };
  const setCursors = (next: (string | null)[]) => go({ ...wanted, service: serviceSid, cursors: next });
  const setPageSize = (n: number) => go({ ...wanted, service: serviceSid, pageSize: n, cursors: [null] });

  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search</h1>
      <p class="muted">The attempts log: every message sent, newest first (kept at least 30 days).</p>
      <form class="filters" onSubmit={submit} aria-label="Filters">
        <label>
          <span>Number or email</span>
          <input type="search" placeholder="+14155550100" autoComplete="off" {...field("to")} />
        </label>
        <label>
          <span>Verification sid</span>
          <input type="search" placeholder="VE…" autoComplete="off" spellcheck={false} {...field("verificationSid")} />
        </label>
        <label>
          <span>Country</span>
          <input type="search" placeholder="US" maxLength={2} size={4} autoComplete="off" {...field("country")} />
        </label>
        <label>
          <span>Channel</span>
          <select {...field("channel")} onChange={(e) => setForm({ ...form, channel: (e.target as HTMLSelectElement).value as Form["channel"] })}>
            <option value="">Any</option>
            {CHANNELS.map((c) => (
              <option value={c}>{c}</option>
            ))}
          </select>
        </label>
        <label>
          <span>Outcome</span>
          <select {...field("status")} onChange={(e) => setForm({ ...form, status: (e.target as HTMLSelectElement).value as Form["status"] })}>
            <option value="">Any</option>
            <option value="CONVERTED">Approved</option>
            <option value="UNCONVERTED">Not approved</option>
          </select>
        </label>
        <label>
          <span>From</span>
          <input type="datetime-local" {...field("from")} />
        </label>
        <label>
          <span>To</span>
          <input type="datetime-local" {...field("until")} />
        </label>
        <label>
          <span>Rows per page</span>
          <select value={String(pageSize)} onChange={(e) => setPageSize(Number((e.target as HTMLSelectElement).value))}>
            {PAGE_SIZES.map((n) => (
              <option value={String(n)}>{n}</option>
            ))}
          </select>
        </label>
        <button type="submit">Search</button>
        <button type="button" onClick={clear}>
          Clear
        </button>
      </form>
      {wanted.service && !linked && (
        <p role="alert" class="error" data-testid="unknown-service">
          This link is for a service this key does not see ({wanted.service}): showing {workspace.services.find((x) => x.sid === serviceSid)?.friendlyName ?? serviceSid} instead.
        </p>
      )}
      {formError && (
        <p role="alert" class="error">
          {formError}
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="pager">
        <label>
          <input type="checkbox" checked={reveal} onChange={(e) => setReveal((e.target as HTMLInputElement).checked)} /> Show full numbers
        </label>
        <span class="muted" aria-live="polite" data-testid="search-status">
          {loading ? "Loading…" : page ? `Page ${index + 1}: ${page.rows.length} ${page.rows.length === 1 ? "attempt" : "attempts"}` : ""}
        </span>
      </div>
      {page && page.rows.length === 0 && !loading && <p class="muted">No attempts match.</p>}
      {page && page.rows.length > 0 && (
        <div class="table-wrap">
          <table data-testid="attempts">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">To</th>
                <th scope="col">Channel</th>
                <th scope="col">Country</th>
                <th scope="col">Delivery</th>
                <th scope="col">Verification</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {page.rows.map((a) => (
                <tr data-attempt={a.attemptSid}>
                  <td>
                    <time dateTime={a.dateCreated}>{new Date(a.dateCreated).toLocaleString()}</time>
                  </td>
                  <td class="mono" data-testid="attempt-to">
                    {reveal ? a.to : mask(a.to)}
                    {a.testMode && <span class="muted"> (test)</span>}
                  </td>
                  <td>{a.channel}</td>
                  <td>{a.country ?? "—"}</td>
                  <td class={`status-${a.status}`}>
                    {a.status}
                    {a.errorCode && <span class="muted"> ({a.errorCode})</span>}
                  </td>
                  <td>
                    <a class="mono" href={href("verifications", a.verificationSid)}>
                      {a.verificationSid}
                    </a>
                  </td>
                  <td class={`status-${a.verificationStatus}`}>{a.verificationStatus}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <nav class="pager" aria-label="Pages">
        <button type="button" disabled={index === 0 || loading} onClick={() => setCursors(cursors.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page?.next || loading} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          Next page
        </button>
      </nav>
    </section>
  );
}

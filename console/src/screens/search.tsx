import type { OperationResult } from "@urql/core";
import { useEffect, useState } from "preact/hooks";
import type { Workspace } from "../app";
import { type AttemptChannel, type ConversionStatus, SearchAttemptsDocument, type SearchAttemptsQuery, type VerificationAttemptFilter } from "../gql";
import { href } from "../route";
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

export function Search({ workspace }: { workspace: Workspace }) {
  const [form, setForm] = useState<Form>(empty);
  const [filter, setFilter] = useState<VerificationAttemptFilter>({});
  const [pageSize, setPageSize] = useState(20);
  // The cursors of the pages seen so far: cursors[i] is the `after` of page i (null for the first).
  // Kept per service: another service starts on its first page.
  const [paging, setPaging] = useState<{ sid: string; cursors: (string | null)[] }>({ sid: workspace.serviceSid, cursors: [null] });
  const cursors = paging.sid === workspace.serviceSid ? paging.cursors : [null];
  const setCursors = (next: (string | null)[]) => setPaging({ sid: workspace.serviceSid, cursors: next });
  const [page, setPage] = useState<{ rows: Attempt[]; next: string | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [formError, setFormError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [reveal, setReveal] = useState(false);
  const index = cursors.length - 1;

  useEffect(() => {
    if (!workspace.serviceSid) return;
    let live = true;
    setLoading(true);
    void workspace.client
      .query(SearchAttemptsDocument, { serviceSid: workspace.serviceSid, filter, first: pageSize, after: cursors[index] })
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
  }, [workspace.serviceSid, filter, pageSize, cursors[index]]);

  const field = (name: keyof Form) => ({
    value: form[name],
    onInput: (e: Event) => setForm({ ...form, [name]: (e.target as HTMLInputElement).value }),
  });
  const submit = (e: Event) => {
    e.preventDefault();
    const f = filterOf(form);
    if ("error" in f) return setFormError(f.error);
    setFormError(null);
    setFilter(f.filter);
    setCursors([null]);
  };
  const clear = () => {
    setForm(empty);
    setFormError(null);
    setFilter({});
    setCursors([null]);
  };

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
          <select
            value={String(pageSize)}
            onChange={(e) => {
              setPageSize(Number((e.target as HTMLSelectElement).value));
              setCursors([null]);
            }}
          >
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

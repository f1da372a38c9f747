import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Workspace } from "../app";
import { ServiceEventsDocument, type ServiceEventsSubscription } from "../gql";
import { countryOf, maskRecipient } from "../phone";
import { href } from "../route";
import "./live.css";

/** How many events the screen keeps (newest first); older ones drop off the end. */
export const LIVE_CAP = 500;
/** How many of the service's latest events the screen opens with (replayed by the server, gap-free). */
export const LIVE_BACKFILL = 50;

type LiveEvent = ServiceEventsSubscription["serviceEvents"];

/** One row of live traffic: what an event says about its verification (or block). */
export interface LiveRow {
  id: string;
  type: string;
  occurredAt: string;
  resourceSid: string;
  verificationSid: string | null;
  to: string | null;
  channel: string | null;
  status: string | null;
  country: string | null;
}

const str = (v: unknown): string | null => (typeof v === "string" && v ? v : null);

export function toRow(event: LiveEvent): LiveRow {
  const data = (event.data ?? {}) as Record<string, unknown>;
  const attempts = Array.isArray(data.sendCodeAttempts) ? (data.sendCodeAttempts as Record<string, unknown>[]) : [];
  const last = attempts.at(-1);
  const delivery = event.type.startsWith("delivery.");
  const to = str(data.to) ?? str(data.prefix);
  const lookup = (data.lookup ?? null) as Record<string, unknown> | null;
  return {
    id: event.id,
    type: event.type,
    occurredAt: event.occurredAt,
    resourceSid: event.resourceSid,
    verificationSid: event.resourceSid.startsWith("VE") ? event.resourceSid : str(data.verificationSid),
    to,
    channel: (delivery ? str(last?.channel) : null) ?? str(data.channel),
    // A receipt's status is the delivery's; any other event shows its resource's status.
    status: delivery ? event.type.slice("delivery.".length).toUpperCase() : str(data.status),
    country: str(lookup?.countryCode) ?? str(data.country) ?? countryOf(to),
  };
}

const time = (iso: string) => new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit", second: "2-digit" });
const distinct = (rows: LiveRow[], pick: (r: LiveRow) => string | null) => [...new Set(rows.map(pick).filter((v): v is string => !!v))].sort();

export function Live({ workspace }: { workspace: Workspace }) {
  const { client, serviceSid, services } = workspace;
  const [rows, setRows] = useState<LiveRow[]>([]);
  const [paused, setPaused] = useState(false);
  const [buffered, setBuffered] = useState(0);
  const [error, setError] = useState<string | null>(null);
  const [showNumbers, setShowNumbers] = useState(false);
  const [channel, setChannel] = useState("");
  const [status, setStatus] = useState("");
  const [country, setCountry] = useState("");
  const pausedRef = useRef(false);
  const buffer = useRef<LiveRow[]>([]);
  /** Event ids on screen or held: a reconnect replays the latest events again, and each shows once. */
  const seen = useRef(new Set<string>());

  useEffect(() => {
    setRows([]);
    buffer.current = [];
    seen.current = new Set();
    setBuffered(0);
    setError(null);
    if (!serviceSid) return;
    const sub = client.subscription(ServiceEventsDocument, { serviceSid, replay: LIVE_BACKFILL }).subscribe((result) => {
      if (result.error) {
        setError(result.error.message);
        return;
      }
      const event = result.data?.serviceEvents;
      if (!event) return;
      if (seen.current.has(event.id)) return;
      if (seen.current.size >= LIVE_CAP * 4) seen.current = new Set([...seen.current].slice(-LIVE_CAP * 2));
      seen.current.add(event.id);
      const row = toRow(event);
      if (pausedRef.current) {
        buffer.current = [row, ...buffer.current].slice(0, LIVE_CAP);
        setBuffered((n) => n + 1);
      } else {
        setRows((current) => [row, ...current].slice(0, LIVE_CAP));
      }
    });
    return () => sub.unsubscribe();
  }, [client, serviceSid]);

  const togglePause = () => {
    if (pausedRef.current) {
      const held = buffer.current;
      buffer.current = [];
      setRows((current) => [...held, ...current].slice(0, LIVE_CAP));
      setBuffered(0);
    }
    pausedRef.current = !pausedRef.current;
    setPaused(pausedRef.current);
  };

  const shown = useMemo(() => rows.filter((r) => (!channel || r.channel === channel) && (!status || r.status === status) && (!country || r.country === country)), [rows, channel, status, country]);
  const serviceName = services.find((s) => s.sid === serviceSid)?.friendlyName ?? serviceSid;
  const option = (v: string) => <option value={v}>{v}</option>;

  return (
    <section aria-labelledby="live-title" class="live">
      <div class="live-head">
        <h1 id="live-title">Live traffic</h1>
        <p class="muted" role="status" data-testid="live-status">
          {paused ? `Paused: ${buffered} new event${buffered === 1 ? "" : "s"} held` : "Live"} · {shown.length} of {rows.length} shown (last {LIVE_CAP} kept)
        </p>
        <div class="live-actions">
          <button type="button" onClick={togglePause} aria-pressed={paused} data-testid="live-pause">
            {paused ? `Resume${buffered ? ` (${buffered} new)` : ""}` : "Pause"}
          </button>
          <button type="button" onClick={() => setShowNumbers(!showNumbers)} aria-pressed={showNumbers}>
            {showNumbers ? "Hide numbers" : "Show numbers"}
          </button>
        </div>
      </div>
      <fieldset class="filters">
        <legend class="visually-hidden">Filters</legend>
        <label>
          <span>Channel</span>
          <select value={channel} onChange={(e) => setChannel((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            {distinct([...rows, ...(channel ? [{ channel } as LiveRow] : [])], (r) => r.channel).map(option)}
          </select>
        </label>
        <label>
          <span>Status</span>
          <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            {distinct([...rows, ...(status ? [{ status } as LiveRow] : [])], (r) => r.status).map(option)}
          </select>
        </label>
        <label>
          <span>Country</span>
          <select value={country} onChange={(e) => setCountry((e.target as HTMLSelectElement).value)}>
            <option value="">All</option>
            {distinct([...rows, ...(country ? [{ country } as LiveRow] : [])], (r) => r.country).map(option)}
          </select>
        </label>
      </fieldset>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      <div class="table-wrap">
        <table class="live-table stack" data-testid="live-table">
          <caption>
            Events of {serviceName}, newest first: the last {LIVE_BACKFILL} before this screen opened, then each as it commits
          </caption>
          <thead>
            <tr>
              <th scope="col">Time</th>
              <th scope="col">Event</th>
              <th scope="col">Verification</th>
              <th scope="col">To</th>
              <th scope="col">Channel</th>
              <th scope="col">Status</th>
              <th scope="col">Country</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.id} data-testid="live-row" data-sid={r.verificationSid ?? r.resourceSid}>
                <td data-label="Time">
                  <time dateTime={r.occurredAt}>{time(r.occurredAt)}</time>
                </td>
                <td data-label="Event">{r.type}</td>
                <td data-label="Verification">{r.verificationSid ? <a href={href("verifications", r.verificationSid)}>{r.verificationSid}</a> : <span class="muted">{r.resourceSid}</span>}</td>
                <td data-label="To" class="mono">
                  {r.to ? (showNumbers ? r.to : maskRecipient(r.to)) : "—"}
                </td>
                <td data-label="Channel">{r.channel ?? "—"}</td>
                <td data-label="Status" class={r.status ? `status-${r.status}` : undefined}>
                  {r.status ?? "—"}
                </td>
                <td data-label="Country">{r.country ?? "—"}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {shown.length === 0 && <p class="muted empty">{rows.length ? "No event matches the filters." : "No events yet: start a verification and it shows here as it commits."}</p>}
      </div>
    </section>
  );
}

import { useEffect, useRef, useState } from "preact/hooks";
import type { Workspace } from "../app";
import {
  ServiceEventsDocument,
  VerificationDetailDocument,
  type VerificationDetailFieldsFragment,
  VerificationEventsDocument,
  type VerificationEventsQuery,
  VerificationUpdatedDocument,
} from "../gql";
import { countryOf, maskRecipient } from "../phone";
import { href } from "../route";
import "./live.css";

type Verification = VerificationDetailFieldsFragment;
type StoredEvent = VerificationEventsQuery["events"]["nodes"][number];
type Attempt = { attemptSid: string; channel: string; status: string; providerMessageId: string | null; errorCode: string | null };

const FINAL = new Set(["APPROVED", "CANCELED", "EXPIRED", "MAX_ATTEMPTS_REACHED", "FAILED"]);

export interface TimelineItem {
  id: string;
  at: string;
  title: string;
  detail: string | null;
  tone: "step" | "final" | "bad";
}

const attemptsOf = (data: Record<string, unknown>): Attempt[] => (Array.isArray(data.sendCodeAttempts) ? (data.sendCodeAttempts as Attempt[]) : []);

function attemptLine(a: Attempt, n: number): string {
  const parts = [`#${n} via ${a.channel}: ${a.status}`];
  if (a.providerMessageId) parts.push(`provider id ${a.providerMessageId}`);
  if (a.errorCode) parts.push(`error ${a.errorCode}`);
  return parts.join(" · ");
}

/** The verification's history as an operator reads it: each event, with the attempt or check it was about. */
export function timeline(events: StoredEvent[], showTo: (to: string) => string): TimelineItem[] {
  let before: Attempt[] = [];
  return events.map((e) => {
    const data = (e.data ?? {}) as Record<string, unknown>;
    const attempts = attemptsOf(data);
    const changed = attempts.findIndex((a) => before.find((b) => b.attemptSid === a.attemptSid)?.status !== a.status);
    const index = changed >= 0 ? changed : attempts.length - 1;
    const attempt = attempts[index];
    const sent = attempt ? attemptLine(attempt, index + 1) : null;
    before = attempts;
    const item = (title: string, detail: string | null, tone: TimelineItem["tone"] = "step"): TimelineItem => ({ id: e.id, at: e.occurredAt, title, detail, tone });
    switch (e.type) {
      case "verification.started":
        return item("Started", [`${String(data.channel)} to ${showTo(String(data.to ?? ""))}`, sent && `send attempt ${sent}`].filter(Boolean).join(" — "));
      case "verification.resent":
        return item("Sent again", sent && `send attempt ${sent}`);
      case "verification.check_failed":
        return item("Check: wrong code", "valid: false — still pending", "bad");
      case "verification.approved":
        return item("Approved", "the right code was checked (valid: true) or the number was confirmed", "final");
      case "verification.canceled":
        return item("Canceled", null, "bad");
      case "verification.expired":
        return item("Expired", "no right code before it expired", "bad");
      case "verification.max_attempts_reached":
        return item("Max attempts reached", "too many wrong codes", "bad");
      case "verification.sna_pending":
        return item("SNA pending", "waiting for the device to open the carrier URL");
      case "verification.sna_confirmed":
        return item("SNA confirmed", "the carrier confirmed the number");
      case "verification.sna_failed":
        return item("SNA failed", Array.isArray(data.snaAttemptsErrorCodes) ? `errors ${data.snaAttemptsErrorCodes.join(", ")}` : null, "bad");
      case "verification.fallback":
        return item("Fell back", sent && `send attempt ${sent}`);
      default:
        if (e.type.startsWith("delivery.")) {
          const status = e.type.slice("delivery.".length).toUpperCase();
          return item(`Receipt: ${status}`, sent && `send attempt ${sent}`, status === "FAILED" || status === "UNDELIVERED" ? "bad" : "step");
        }
        return item(e.type, null);
    }
  });
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });

export function VerificationDetail({ workspace, sid }: { workspace: Workspace; sid: string }) {
  const { client } = workspace;
  const [verification, setVerification] = useState<Verification | null>(null);
  const [events, setEvents] = useState<StoredEvent[]>([]);
  const [missing, setMissing] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [showNumber, setShowNumber] = useState(false);
  const loads = useRef(0);
  const reloadEvents = useRef<() => void>(() => {});

  useEffect(() => {
    let live = true;
    setVerification(null);
    setEvents([]);
    setMissing(false);
    setError(null);
    // Every page of its history; a later load wins over an earlier one still on its way.
    const loadEvents = async () => {
      const mine = ++loads.current;
      const all: StoredEvent[] = [];
      let after: string | null = null;
      for (;;) {
        const r = await client.query(VerificationEventsDocument, { sid, first: 100, after }).toPromise();
        if (r.error) {
          if (live) setError(r.error.message);
          return;
        }
        all.push(...(r.data?.events.nodes ?? []));
        if (!r.data?.events.pageInfo.hasNextPage) break;
        after = r.data.events.pageInfo.endCursor ?? null;
      }
      if (live && mine === loads.current) setEvents(all);
    };
    void client
      .query(VerificationDetailDocument, { sid })
      .toPromise()
      .then((r) => {
        if (!live) return;
        if (r.error) setError(r.error.message);
        else if (!r.data?.verification) setMissing(true);
        else setVerification((current) => current ?? r.data?.verification ?? null);
      });
    reloadEvents.current = () => void loadEvents();
    void loadEvents();
    // Each change as it commits: the new state, and the history read again (it gained an event).
    const sub = client.subscription(VerificationUpdatedDocument, { sid }).subscribe((r) => {
      if (!live || r.error) return;
      const next = r.data?.verificationUpdated;
      if (!next) return;
      setVerification(next);
      void loadEvents();
    });
    return () => {
      live = false;
      sub.unsubscribe();
    };
  }, [client, sid]);

  // Events that do not change its state (a wrong code, a receipt of the same status) come through its
  // service's event stream: the history is read again when one is about this verification.
  const serviceSid = verification?.serviceSid;
  useEffect(() => {
    if (!serviceSid) return;
    const sub = client.subscription(ServiceEventsDocument, { serviceSid }).subscribe((r) => {
      if (r.data?.serviceEvents.resourceSid === sid) reloadEvents.current();
    });
    return () => sub.unsubscribe();
  }, [client, sid, serviceSid]);

  const showTo = (to: string) => (showNumber ? to : maskRecipient(to));

  if (missing)
    return (
      <section aria-labelledby="verification-title">
        <h1 id="verification-title">Verification not found</h1>
        <p>
          No verification {sid} is visible to this key. <a href={href("live")}>Back to live traffic</a>
        </p>
      </section>
    );
  const items = timeline(events, showTo);
  const v = verification;
  const country = v ? (v.lookup?.countryCode ?? countryOf(v.to)) : null;
  return (
    <section aria-labelledby="verification-title" class="verification">
      <p>
        <a href={href("live")}>← Live traffic</a>
      </p>
      <div class="live-head">
        <h1 id="verification-title">
          Verification <span class="mono">{sid}</span>
        </h1>
        <div class="live-actions">
          <button type="button" onClick={() => setShowNumber(!showNumber)} aria-pressed={showNumber}>
            {showNumber ? "Hide number" : "Show number"}
          </button>
        </div>
      </div>
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {!v ? (
        <p class="loading">Loading…</p>
      ) : (
        <>
          <dl class="facts">
            <div>
              <dt>Status</dt>
              <dd>
                <span class={`badge status-${v.status}`} data-testid="verification-status" role="status">
                  {v.status}
                </span>
              </dd>
            </div>
            <div>
              <dt>To</dt>
              <dd class="mono" data-testid="verification-to">
                {showTo(v.to)}
              </dd>
            </div>
            <div>
              <dt>Channel</dt>
              <dd>{v.channel}</dd>
            </div>
            <div>
              <dt>Country</dt>
              <dd>{country ?? "—"}</dd>
            </div>
            <div>
              <dt>Started</dt>
              <dd>{when(v.dateCreated)}</dd>
            </div>
            <div>
              <dt>{FINAL.has(v.status) ? "Ended" : "Expires"}</dt>
              <dd>{when(FINAL.has(v.status) ? v.dateUpdated : v.expiresAt)}</dd>
            </div>
            {v.lookup?.carrier && (
              <div>
                <dt>Carrier</dt>
                <dd>
                  {v.lookup.carrier}
                  {v.lookup.lineType ? ` (${v.lookup.lineType})` : ""}
                </dd>
              </div>
            )}
            {v.amount && (
              <div>
                <dt>PSD2</dt>
                <dd>
                  {v.amount} to {v.payee}
                </dd>
              </div>
            )}
          </dl>

          <h2 id="timeline-title">Timeline</h2>
          <ol class="timeline" aria-labelledby="timeline-title" data-testid="timeline">
            {items.map((i) => (
              <li key={i.id} class={i.tone === "step" ? undefined : i.tone}>
                <time class="when" dateTime={i.at}>
                  {when(i.at)}
                </time>
                <strong>{i.title}</strong>
                {i.detail && <span> — {i.detail}</span>}
              </li>
            ))}
            {!FINAL.has(v.status) && (
              <li class="muted" data-testid="timeline-pending">
                Pending: waiting for a check (updates live)
              </li>
            )}
          </ol>

          <div class="table-wrap">
            <table class="timeline-table stack">
              <caption>Send attempts, oldest first</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Channel</th>
                  <th scope="col">Provider id</th>
                  <th scope="col">Delivery</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {v.sendCodeAttempts.map((a, n) => (
                  <tr key={a.attemptSid}>
                    <td data-label="#">{n + 1}</td>
                    <td data-label="Sent">{when(a.time)}</td>
                    <td data-label="Channel">{a.channel}</td>
                    <td data-label="Provider id" class="mono">
                      {a.providerMessageId ?? "—"}
                    </td>
                    <td data-label="Delivery" class={`status-${a.status}`}>
                      {a.status}
                    </td>
                    <td data-label="Error">{a.errorCode ?? "—"}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}

import type { OperationResult } from "@urql/core";
import type { ChartConfiguration } from "chart.js";
import { useSubscription } from "@urql/preact";
import { useEffect, useMemo, useRef, useState } from "preact/hooks";
import type { Workspace } from "../app";
import { type AttemptChannel, type DeliveryStatus, InsightsAttemptsDocument, InsightsEventsDocument, type InsightsAttemptsQuery, type InsightsStatsQuery, InsightsStatsDocument } from "../gql";
import { ChartCanvas, palette } from "./chart";
import "./insights.css";

const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const PRESETS: [string, number][] = [
  ["Last 24 hours", DAY],
  ["Last 7 days", 7 * DAY],
  ["Last 30 days", 30 * DAY],
];
/** Live: at most one re-read a second, a little after the first event of a burst (a start, its send, its receipt). */
const LIVE_EVERY = 1000;
const LIVE_SETTLE = 250;
/** The attempts read for delivery success by channel (pages of 100). */
const MAX_ATTEMPTS = 2000;

type Stats = NonNullable<InsightsStatsQuery["verificationStats"]>;
type Range = { from: number; to: number };

export const percent = (rate: number | null | undefined) => (rate == null ? "—" : `${(rate * 100).toFixed(1)}%`);
const ratio = (part: number, whole: number) => (whole === 0 ? null : part / whole);

/** A datetime-local input's value (local time, to the minute) and back. */
const toLocalInput = (ms: number) => {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
};
const fromLocalInput = (value: string) => (value ? new Date(value).getTime() : Number.NaN);

/** Hours for a period up to 3 days, days beyond. */
export const bucketFor = (range: Range) => (range.to - range.from <= 3 * DAY ? "HOUR" : "DAY");

const regionNames = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
const countryLabel = (code: string) => {
  if (!code) return "No country (email)";
  try {
    return `${regionNames?.of(code) ?? code} (${code})`;
  } catch {
    return code;
  }
};
const channelLabel = (key: string) => ({ SMS: "SMS", CALL: "Call", EMAIL: "Email", WHATSAPP: "WhatsApp", SNA: "SNA", RCS: "RCS", AUTO: "Auto" })[key] ?? key;

/**
 * A preset period ending now whose buckets start on the hour (24 hours: by hour) or at local midnight (7 and 30
 * days: by day, today's bucket the last), so each bucket's label names what it holds.
 */
const presetRange = (span: number): Range => {
  const now = Date.now();
  const to = Math.ceil((now + 1) / 60_000) * 60_000;
  if (span <= 3 * DAY) {
    const hour = new Date(now);
    hour.setMinutes(0, 0, 0);
    return { from: hour.getTime() - (span / HOUR - 1) * HOUR, to };
  }
  const midnight = new Date(now);
  midnight.setHours(0, 0, 0, 0);
  return { from: midnight.getTime() - (span / DAY - 1) * DAY, to };
};

export function Insights({ workspace }: { workspace: Workspace }) {
  const [range, setRange] = useState<Range>(() => presetRange(7 * DAY));
  const [preset, setPreset] = useState<number | null>(7 * DAY);
  const [fromText, setFromText] = useState(toLocalInput(range.from));
  const [toText, setToText] = useState(toLocalInput(range.to));
  const [rangeError, setRangeError] = useState<string | null>(null);
  const [stats, setStats] = useState<Stats | null>(null);
  const [delivery, setDelivery] = useState<{ rows: DeliveryRow[]; capped: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const bucket = bucketFor(range);
  // Live: the service's events (starts, sends, receipts, checks) re-read the numbers while the screen is open,
  // debounced (at most one read a second). A preset period slides to end now; a custom one stays as chosen.
  const [reread, setReread] = useState(0);
  const [updatedAt, setUpdatedAt] = useState<number | null>(null);
  const lastRead = useRef(0);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  const quiet = useRef(false);
  const presetNow = useRef(preset);
  presetNow.current = preset;
  useEffect(
    () => () => {
      if (timer.current) clearTimeout(timer.current);
    },
    [],
  );
  useSubscription({ query: InsightsEventsDocument, variables: { serviceSid: workspace.serviceSid }, pause: !workspace.serviceSid }, (_, event) => {
    if (/^(verification|delivery)\./.test(event.serviceEvents.type) && timer.current === null) {
      const wait = Math.max(LIVE_SETTLE, lastRead.current + LIVE_EVERY - Date.now());
      timer.current = setTimeout(() => {
        timer.current = null;
        quiet.current = true;
        const span = presetNow.current;
        if (span !== null) {
          const r = presetRange(span);
          setFromText(toLocalInput(r.from));
          setToText(toLocalInput(r.to));
          setRange((old) => (old.from === r.from && old.to === r.to ? old : r));
        }
        setReread((n) => n + 1);
      }, wait);
    }
    return event;
  });

  const choosePreset = (span: number) => {
    const r = presetRange(span);
    setPreset(span);
    setFromText(toLocalInput(r.from));
    setToText(toLocalInput(r.to));
    setRangeError(null);
    setRange(r);
  };
  const applyCustom = (e: Event) => {
    e.preventDefault();
    const from = fromLocalInput(fromText);
    const to = fromLocalInput(toText);
    if (!Number.isFinite(from) || !Number.isFinite(to)) return setRangeError("Give both a start and an end.");
    if (from >= to) return setRangeError("The start must be before the end.");
    if (to - from > 900 * DAY) return setRangeError("Choose a period of at most 900 days.");
    setRangeError(null);
    setPreset(null);
    setRange({ from, to });
  };

  useEffect(() => {
    if (!workspace.serviceSid) return;
    let live = true;
    // A live re-read keeps the numbers on screen until the new ones arrive (no "Loading…" flicker).
    if (!quiet.current) setLoading(true);
    quiet.current = false;
    lastRead.current = Date.now();
    setError(null);
    const after = new Date(range.from).toISOString();
    const before = new Date(range.to).toISOString();
    void (async () => {
      const r = await workspace.client.query(InsightsStatsDocument, { serviceSid: workspace.serviceSid, after, before, bucket }).toPromise();
      if (!live) return;
      if (r.error) {
        setError(r.error.message);
        setLoading(false);
        return;
      }
      if (!r.data?.verificationStats) {
        setError("No statistics for this service: it is unknown, or this key may not read it.");
        setStats(null);
        setLoading(false);
        return;
      }
      setStats(r.data.verificationStats);
      // Delivery success by channel: the attempts log of the same period, counted per channel actually used.
      const counts = new Map<AttemptChannel, Record<DeliveryStatus, number>>();
      let cursor: string | null = null;
      let read = 0;
      let capped = false;
      for (;;) {
        const page: OperationResult<InsightsAttemptsQuery> = await workspace.client
          .query(InsightsAttemptsDocument, { serviceSid: workspace.serviceSid, filter: { dateCreatedAfter: after, dateCreatedBefore: before }, first: 100, after: cursor })
          .toPromise();
        if (!live) return;
        if (page.error || !page.data) {
          setError(page.error?.message ?? "The attempts log did not answer.");
          break;
        }
        for (const a of page.data.verificationAttempts.nodes) {
          if (a.testMode) continue;
          const c = counts.get(a.channel) ?? { QUEUED: 0, SENT: 0, DELIVERED: 0, UNDELIVERED: 0, FAILED: 0 };
          c[a.status]++;
          counts.set(a.channel, c);
        }
        read += page.data.verificationAttempts.nodes.length;
        const info = page.data.verificationAttempts.pageInfo;
        if (!info.hasNextPage) break;
        if (read >= MAX_ATTEMPTS) {
          capped = true;
          break;
        }
        cursor = info.endCursor ?? null;
      }
      const rows = [...counts].map(([channel, c]) => deliveryRow(channel, c)).sort((x, y) => y.attempts - x.attempts || x.channel.localeCompare(y.channel));
      setDelivery({ rows, capped });
      setLoading(false);
      setUpdatedAt(Date.now());
    })();
    return () => {
      live = false;
    };
  }, [workspace.serviceSid, range.from, range.to, reread]);

  return (
    <section aria-labelledby="insights-title" class="insights">
      <h1 id="insights-title">Insights</h1>
      <form class="filters" onSubmit={applyCustom} aria-label="Period">
        <fieldset class="presets">
          <legend class="sr-only">Presets</legend>
          {PRESETS.map(([label, span]) => (
            <button type="button" aria-pressed={preset === span} onClick={() => choosePreset(span)}>
              {label}
            </button>
          ))}
        </fieldset>
        <label>
          <span>From</span>
          <input type="datetime-local" value={fromText} onInput={(e) => setFromText((e.target as HTMLInputElement).value)} />
        </label>
        <label>
          <span>To</span>
          <input type="datetime-local" value={toText} onInput={(e) => setToText((e.target as HTMLInputElement).value)} />
        </label>
        <button type="submit">Apply</button>
      </form>
      {rangeError && (
        <p role="alert" class="error">
          {rangeError}
        </p>
      )}
      <p class="muted" aria-live="polite" data-testid="insights-period">
        {loading ? "Loading…" : `${new Date(range.from).toLocaleString()} – ${new Date(range.to).toLocaleString()}, test numbers excluded, by ${bucket === "HOUR" ? "hour" : "day"}.`}
      </p>
      {updatedAt && (
        <p class="muted small live-note" data-testid="insights-updated">
          Live: follows the service's traffic; read at <time dateTime={new Date(updatedAt).toISOString()}>{new Date(updatedAt).toLocaleTimeString()}</time>.
        </p>
      )}
      {error && (
        <p role="alert" class="error">
          {error}
        </p>
      )}
      {stats && <StatsView stats={stats} bucket={bucket} />}
      {stats && delivery && <DeliveryView delivery={delivery} />}
    </section>
  );
}

function StatsView({ stats, bucket }: { stats: Stats; bucket: string }) {
  const p = useMemo(palette, []);
  const funnel: [string, number][] = [
    ["Started", stats.total],
    ["Delivered", stats.reached],
    ["Approved", stats.converted],
  ];
  const bucketLabel = (from: string) => {
    const d = new Date(from);
    return bucket === "HOUR" ? d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" }) : d.toLocaleDateString([], { month: "short", day: "numeric" });
  };
  const configs = useMemo(() => {
    const funnelChart: ChartConfiguration = {
      type: "bar",
      data: { labels: funnel.map(([l]) => l), datasets: [{ label: "Verifications", data: funnel.map(([, n]) => n), backgroundColor: [p.accent, p.warn, p.ok] }] },
      options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: { beginAtZero: true, ticks: { precision: 0 } } } },
    };
    const rateBars = (groups: Stats["byChannel"], label: (k: string) => string): ChartConfiguration => ({
      type: "bar",
      data: {
        labels: groups.map((g) => label(g.key)),
        datasets: [
          { label: "Started", data: groups.map((g) => g.total), backgroundColor: p.accent, yAxisID: "y" },
          { label: "Approved", data: groups.map((g) => g.converted), backgroundColor: p.ok, yAxisID: "y" },
        ],
      },
      options: { scales: { y: { beginAtZero: true, ticks: { precision: 0 } } } },
    });
    const overTime: ChartConfiguration = {
      type: "line",
      data: {
        labels: stats.overTime.map((b) => bucketLabel(b.from)),
        datasets: [
          { label: "Started", data: stats.overTime.map((b) => b.total), borderColor: p.accent, backgroundColor: p.accent, yAxisID: "y", pointRadius: 2 },
          { label: "Approved", data: stats.overTime.map((b) => b.converted), borderColor: p.ok, backgroundColor: p.ok, yAxisID: "y", pointRadius: 2 },
          {
            label: "Conversion rate (%)",
            data: stats.overTime.map((b) => (b.conversionRate == null ? null : b.conversionRate * 100)),
            borderColor: p.warn,
            backgroundColor: p.warn,
            borderDash: [4, 3],
            yAxisID: "rate",
            pointRadius: 2,
            spanGaps: true,
          },
        ],
      },
      options: {
        scales: {
          y: { beginAtZero: true, ticks: { precision: 0 }, position: "left" },
          rate: { beginAtZero: true, min: 0, max: 100, position: "right", grid: { drawOnChartArea: false }, ticks: { callback: (v) => `${v}%` } },
        },
      },
    };
    return { funnelChart, channels: rateBars(stats.byChannel, channelLabel), countries: rateBars(stats.byCountry, countryLabel), overTime };
  }, [stats]);
  const busy = stats.overTime.filter((b) => b.total > 0);

  return (
    <>
      <dl class="totals" data-testid="insights-totals">
        <div>
          <dt>Started</dt>
          <dd data-testid="total">{stats.total}</dd>
        </div>
        <div>
          <dt>Delivered</dt>
          <dd data-testid="reached">{stats.reached}</dd>
        </div>
        <div>
          <dt>Approved</dt>
          <dd data-testid="converted">{stats.converted}</dd>
        </div>
        <div>
          <dt>Conversion rate</dt>
          <dd data-testid="rate">{percent(stats.conversionRate)}</dd>
        </div>
        <div>
          <dt>Delivery success</dt>
          <dd data-testid="delivery-rate">{percent(stats.delivery.successRate)}</dd>
        </div>
      </dl>

      <div class="panels">
        <section class="panel" aria-labelledby="funnel-title">
          <h2 id="funnel-title">Funnel</h2>
          <ChartCanvas config={configs.funnelChart} label="Funnel: started, delivered, approved (numbers in the table below)" />
          <table data-testid="funnel">
            <caption class="sr-only">Funnel</caption>
            <thead>
              <tr>
                <th scope="col">Step</th>
                <th scope="col">Verifications</th>
                <th scope="col">Of started</th>
              </tr>
            </thead>
            <tbody>
              {funnel.map(([label, n]) => (
                <tr>
                  <th scope="row">{label}</th>
                  <td>{n}</td>
                  <td>{percent(ratio(n, stats.total))}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>

        <GroupPanel id="by-channel" title="Conversion by channel" config={configs.channels} groups={stats.byChannel} label={channelLabel} head="Channel" />
        <GroupPanel id="by-country" title="Conversion by country" config={configs.countries} groups={stats.byCountry} label={countryLabel} head="Country" />

        <section class="panel wide" aria-labelledby="over-time-title">
          <h2 id="over-time-title">Conversion over time, by {bucket === "HOUR" ? "hour" : "day"}</h2>
          <ChartCanvas config={configs.overTime} label={`Verifications started and approved, and the conversion rate, by ${bucket === "HOUR" ? "hour" : "day"} (numbers in the table below)`} />
          <details>
            <summary>Numbers ({busy.length === 0 ? "no traffic" : `${busy.length} ${bucket === "HOUR" ? "hour" : "day"}${busy.length === 1 ? "" : "s"} with traffic`})</summary>
            <div class="table-wrap">
              <table data-testid="over-time">
                <thead>
                  <tr>
                    <th scope="col">{bucket === "HOUR" ? "Hour" : "Day"}</th>
                    <th scope="col">Started</th>
                    <th scope="col">Approved</th>
                    <th scope="col">Conversion</th>
                  </tr>
                </thead>
                <tbody>
                  {busy.map((b) => (
                    <tr>
                      <th scope="row">{bucketLabel(b.from)}</th>
                      <td>{b.total}</td>
                      <td>{b.converted}</td>
                      <td>{percent(b.conversionRate)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          </details>
        </section>
      </div>
    </>
  );
}

function GroupPanel(props: { id: string; title: string; config: ChartConfiguration; groups: Stats["byChannel"]; label: (key: string) => string; head: string }) {
  return (
    <section class="panel" aria-labelledby={`${props.id}-title`}>
      <h2 id={`${props.id}-title`}>{props.title}</h2>
      {props.groups.length === 0 ? (
        <p class="muted">No verifications in this period.</p>
      ) : (
        <>
          <ChartCanvas config={props.config} label={`${props.title}: started and approved (numbers in the table below)`} />
          <div class="table-wrap">
            <table data-testid={props.id}>
              <thead>
                <tr>
                  <th scope="col">{props.head}</th>
                  <th scope="col">Started</th>
                  <th scope="col">Approved</th>
                  <th scope="col">Conversion</th>
                </tr>
              </thead>
              <tbody>
                {props.groups.map((g) => (
                  <tr data-key={g.key}>
                    <th scope="row">{props.label(g.key)}</th>
                    <td>{g.total}</td>
                    <td>{g.converted}</td>
                    <td>{percent(g.conversionRate)}</td>
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

interface DeliveryRow {
  channel: AttemptChannel;
  attempts: number;
  counts: Record<DeliveryStatus, number>;
  successRate: number | null;
}
function deliveryRow(channel: AttemptChannel, counts: Record<DeliveryStatus, number>): DeliveryRow {
  const attempts = Object.values(counts).reduce((x, y) => x + y, 0);
  const ok = counts.SENT + counts.DELIVERED;
  return { channel, attempts, counts, successRate: ratio(ok, ok + counts.UNDELIVERED + counts.FAILED) };
}

function DeliveryView({ delivery }: { delivery: { rows: DeliveryRow[]; capped: boolean } }) {
  const p = useMemo(palette, []);
  const config = useMemo<ChartConfiguration>(() => {
    const series: [DeliveryStatus, string, string][] = [
      ["DELIVERED", "Delivered", p.ok],
      ["SENT", "Sent", p.accent],
      ["QUEUED", "Queued", p.muted],
      ["UNDELIVERED", "Undelivered", p.warn],
      ["FAILED", "Failed", p.bad],
    ];
    return {
      type: "bar",
      data: {
        labels: delivery.rows.map((r) => channelLabel(r.channel)),
        datasets: series.map(([s, label, color]) => ({ label, data: delivery.rows.map((r) => r.counts[s]), backgroundColor: color })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
    };
  }, [delivery]);
  return (
    <section class="panel wide" aria-labelledby="delivery-title">
      <h2 id="delivery-title">Delivery success by channel</h2>
      <p class="muted">Send attempts of the period by the channel they took; success is sent or delivered out of those with an outcome.</p>
      {delivery.rows.length === 0 ? (
        <p class="muted">No send attempts in this period.</p>
      ) : (
        <>
          <ChartCanvas config={config} label="Send attempts by channel and delivery status (numbers in the table below)" />
          <div class="table-wrap">
            <table data-testid="delivery">
              <thead>
                <tr>
                  <th scope="col">Channel</th>
                  <th scope="col">Attempts</th>
                  <th scope="col">Delivered</th>
                  <th scope="col">Sent</th>
                  <th scope="col">Queued</th>
                  <th scope="col">Undelivered</th>
                  <th scope="col">Failed</th>
                  <th scope="col">Success</th>
                </tr>
              </thead>
              <tbody>
                {delivery.rows.map((r) => (
                  <tr data-key={r.channel}>
                    <th scope="row">{channelLabel(r.channel)}</th>
                    <td>{r.attempts}</td>
                    <td>{r.counts.DELIVERED}</td>
                    <td>{r.counts.SENT}</td>
                    <td>{r.counts.QUEUED}</td>
                    <td>{r.counts.UNDELIVERED}</td>
                    <td>{r.counts.FAILED}</td>
                    <td>{percent(r.successRate)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
      {delivery.capped && <p class="muted">Counted from the newest {MAX_ATTEMPTS} attempts of the period.</p>}
    </section>
  );
}

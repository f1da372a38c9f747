import { useCallback, useEffect, useState } from "preact/hooks";
import type { Workspace } from "../../app";
import { FraudBlocksDocument, type FraudBlocksQuery, type FraudGuardLevel, type GeoChannel, LiftFraudBlockDocument, type UpdateServiceInput } from "../../gql";
import { type ApiProblem, Confirm, Field, FieldError, FormError, SaveRow, type ServiceSettings, control, dateTime, inputValue, intOf, problemOf, useSaving, useServiceSettings } from "./common";

type Save = (changes: Omit<UpdateServiceInput, "sid">) => Promise<ApiProblem | null>;

/** Rate limits, geo permissions, test numbers, the safe list, Fraud Guard's level and its active blocks. */
export function ProtectionTab({ workspace, version }: { workspace: Workspace; version: number }) {
  const { service, missing, save } = useServiceSettings(workspace);
  if (missing) return <p role="alert">This service was not found.</p>;
  if (!service) return <p class="loading">Loading…</p>;
  return (
    <div class="tab-body" key={service.sid}>
      <FraudGuard workspace={workspace} service={service} save={save} version={version} />
      <RateLimits service={service} save={save} />
      <GeoPermissions service={service} save={save} />
      <TestNumbers service={service} save={save} />
      <SafeList service={service} save={save} />
    </div>
  );
}

const levels: [FraudGuardLevel, string][] = [
  ["OFF", "Off"],
  ["BASIC", "Basic: a burst of 40 an hour, or conversion ≤ 10%"],
  ["STANDARD", "Standard: a burst of 20, or conversion ≤ 20%"],
  ["MAX", "Max: a burst of 10, or conversion ≤ 30%"],
];
type Block = FraudBlocksQuery["fraudBlocks"]["nodes"][number];

function FraudGuard({ workspace, service, save, version }: { workspace: Workspace; service: ServiceSettings; save: Save; version: number }) {
  const [level, setLevel] = useState(service.fraudGuard);
  const saving = useSaving();
  const [blocks, setBlocks] = useState<Block[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const load = useCallback(async () => {
    const r = await workspace.client.query(FraudBlocksDocument, { serviceSid: service.sid, active: true }).toPromise();
    if (r.error) setProblem(problemOf(r.error));
    else setBlocks(r.data?.fraudBlocks.nodes ?? []);
  }, [workspace.client, service.sid]);
  useEffect(() => {
    void load();
  }, [load, version]);
  const lift = async (sid: string) => {
    const r = await workspace.client.mutation(LiftFraudBlockDocument, { sid }).toPromise();
    setProblem(problemOf(r.error));
    await load();
  };
  return (
    <section class="panel" aria-labelledby="fraud-title">
      <h2 id="fraud-title">Fraud Guard</h2>
      <form
        class="inline-form"
        aria-label="Fraud Guard level"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run(() => save({ fraudGuard: level }));
        }}
      >
        <Field label="Level" name="fraudGuard" hint="How eagerly SMS to a pumped number range is blocked" problem={saving.problem}>
          <select {...control("fraudGuard", saving.problem)} value={level} onChange={(e) => setLevel(inputValue(e) as FraudGuardLevel)}>
            {levels.map(([v, label]) => (
              <option value={v}>{label}</option>
            ))}
          </select>
        </Field>
        <SaveRow busy={saving.busy} saved={saving.saved} />
        <FormError problem={saving.problem} fields={["fraudGuard"]} />
      </form>
      <h3>Active blocks</h3>
      <FormError problem={problem} fields={[]} />
      {!blocks && <p class="loading">Loading…</p>}
      {blocks && blocks.length === 0 && <p class="muted">No block is in force.</p>}
      {blocks && blocks.length > 0 && (
        <div class="table-wrap">
          <table data-testid="fraud-blocks">
            <thead>
              <tr>
                <th scope="col">Prefix</th>
                <th scope="col">Reason</th>
                <th scope="col">Severity</th>
                <th scope="col">Since</th>
                <th scope="col">Until</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {blocks.map((b) => (
                <tr>
                  <td>
                    <code>{b.prefix}…</code>
                  </td>
                  <td>{b.reason.replace("_", " ")}</td>
                  <td>{b.severity}</td>
                  <td>{dateTime(b.dateCreated)}</td>
                  <td>{dateTime(b.blockedUntil)}</td>
                  <td>
                    <Confirm question={`Lift the block of ${b.prefix}…?`} action="Lift" onConfirm={() => lift(b.sid)} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}

interface BucketDraft {
  max: string;
  interval: string;
}
const bucketsOf = (list: { max: number; interval: number }[]): BucketDraft[] => list.map((b) => ({ max: String(b.max), interval: String(b.interval) }));
const bucketsInput = (list: BucketDraft[]) => list.map((b) => ({ max: intOf(b.max) ?? 0, interval: intOf(b.interval) ?? 0 }));

/** A limit's buckets: "at most max starts per interval seconds", each row removable. */
function Buckets({ name, label, buckets, onChange, problem }: { name: string; label: string; buckets: BucketDraft[]; onChange: (b: BucketDraft[]) => void; problem: ApiProblem | null }) {
  const set = (i: number, patch: Partial<BucketDraft>) => onChange(buckets.map((b, j) => (j === i ? { ...b, ...patch } : b)));
  return (
    <fieldset class="buckets">
      <legend>{label}</legend>
      {buckets.length === 0 && <p class="muted">No limit.</p>}
      {buckets.map((b, i) => (
        <div class="bucket">
          <label>
            At most <input type="number" step={1} min={1} class="short" aria-label={`${label}: starts (bucket ${i + 1})`} value={b.max} onInput={(e) => set(i, { max: inputValue(e) })} />
          </label>
          <label>
            starts per <input type="number" step={1} min={1} class="short" aria-label={`${label}: seconds (bucket ${i + 1})`} value={b.interval} onInput={(e) => set(i, { interval: inputValue(e) })} />{" "}
            s
          </label>
          <button type="button" aria-label={`Remove bucket ${i + 1} of ${label}`} onClick={() => onChange(buckets.filter((_, j) => j !== i))}>
            Remove
          </button>
        </div>
      ))}
      <button type="button" onClick={() => onChange([...buckets, { max: "10", interval: "3600" }])}>
        Add bucket
      </button>
      <FieldError problem={problem} name={name} />
    </fieldset>
  );
}

interface NamedDraft {
  uniqueName: string;
  description: string;
  buckets: BucketDraft[];
}

function RateLimits({ service, save }: { service: ServiceSettings; save: Save }) {
  const r = service.rateLimits;
  const [perTo, setPerTo] = useState(bucketsOf(r.perTo));
  const [perIp, setPerIp] = useState(bucketsOf(r.perIp));
  const [perService, setPerService] = useState(bucketsOf(r.perService));
  const [named, setNamed] = useState<NamedDraft[]>(r.named.map((n) => ({ uniqueName: n.uniqueName, description: n.description ?? "", buckets: bucketsOf(n.buckets) })));
  const saving = useSaving();
  const p = saving.problem;
  const setOne = (i: number, patch: Partial<NamedDraft>) => setNamed(named.map((n, j) => (j === i ? { ...n, ...patch } : n)));
  return (
    <section class="panel" aria-labelledby="limits-title">
      <h2 id="limits-title">Rate limits</h2>
      <form
        aria-label="Rate limits"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run(() =>
            save({
              rateLimits: {
                perTo: bucketsInput(perTo),
                perIp: bucketsInput(perIp),
                perService: bucketsInput(perService),
                named: named.map((n) => ({ uniqueName: n.uniqueName.trim(), description: n.description.trim() || null, buckets: bucketsInput(n.buckets) })),
              },
            }),
          );
        }}
      >
        <div class="grid">
          <Buckets name="rateLimits.perTo" label="Per recipient" buckets={perTo} onChange={setPerTo} problem={p} />
          <Buckets name="rateLimits.perIp" label="Per end-user IP" buckets={perIp} onChange={setPerIp} problem={p} />
          <Buckets name="rateLimits.perService" label="Per service" buckets={perService} onChange={setPerService} problem={p} />
        </div>
        <h3>Named limits</h3>
        <p class="hint">Counted per value startVerification passes in rateLimits under the name.</p>
        {named.map((n, i) => (
          <fieldset class="named">
            <legend>Named limit {i + 1}</legend>
            <div class="grid">
              <label>
                Unique name
                <input value={n.uniqueName} onInput={(e) => setOne(i, { uniqueName: inputValue(e) })} />
              </label>
              <label>
                Description
                <input value={n.description} onInput={(e) => setOne(i, { description: inputValue(e) })} />
              </label>
            </div>
            <Buckets name={`rateLimits.named.${i}`} label={`Buckets of ${n.uniqueName || `named limit ${i + 1}`}`} buckets={n.buckets} onChange={(b) => setOne(i, { buckets: b })} problem={p} />
            <button type="button" onClick={() => setNamed(named.filter((_, j) => j !== i))}>
              Remove named limit
            </button>
          </fieldset>
        ))}
        <button type="button" onClick={() => setNamed([...named, { uniqueName: "", description: "", buckets: [{ max: "10", interval: "3600" }] }])}>
          Add named limit
        </button>
        <FormError problem={p} fields={["rateLimits.perTo", "rateLimits.perIp", "rateLimits.perService", ...named.map((_, i) => `rateLimits.named.${i}`)]} />
        <SaveRow busy={saving.busy} saved={saving.saved} label="Save rate limits" />
      </form>
    </section>
  );
}

const geoChannels: GeoChannel[] = ["SMS", "WHATSAPP", "CALL"];

function GeoPermissions({ service, save }: { service: ServiceSettings; save: Save }) {
  const initial = Object.fromEntries(geoChannels.map((c) => [c, service.geoPermissions.find((g) => g.channel === c)])) as Record<GeoChannel, { allowedCountries: string[] } | undefined>;
  const [restricted, setRestricted] = useState(Object.fromEntries(geoChannels.map((c) => [c, !!initial[c]])) as Record<GeoChannel, boolean>);
  const [countries, setCountries] = useState(Object.fromEntries(geoChannels.map((c) => [c, initial[c]?.allowedCountries.join(", ") ?? ""])) as Record<GeoChannel, string>);
  const saving = useSaving();
  return (
    <section class="panel" aria-labelledby="geo-title">
      <h2 id="geo-title">Geo permissions</h2>
      <p class="hint">A restricted channel reaches only the countries listed (ISO codes such as US, FR); a start to another answers GEO_BLOCKED.</p>
      <form
        aria-label="Geo permissions"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run(() =>
            save({
              geoPermissions: geoChannels
                .filter((c) => restricted[c])
                .map((c) => ({
                  channel: c,
                  allowedCountries: countries[c]
                    .split(/[\s,]+/)
                    .map((x) => x.trim().toUpperCase())
                    .filter(Boolean),
                })),
            }),
          );
        }}
      >
        {geoChannels.map((c) => (
          <div class="geo-row">
            <label>
              <input type="checkbox" checked={restricted[c]} onChange={(e) => setRestricted({ ...restricted, [c]: (e.target as HTMLInputElement).checked })} /> Restrict {c}
            </label>
            <label>
              <span class="visually-hidden">Countries {c} may reach</span>
              <input disabled={!restricted[c]} placeholder={restricted[c] ? "US, CA, FR" : "every country"} value={countries[c]} onInput={(e) => setCountries({ ...countries, [c]: inputValue(e) })} />
            </label>
          </div>
        ))}
        <FieldError problem={saving.problem} name="geoPermissions" />
        <FormError problem={saving.problem} fields={["geoPermissions"]} />
        <SaveRow busy={saving.busy} saved={saving.saved} label="Save geo permissions" />
      </form>
    </section>
  );
}

function TestNumbers({ service, save }: { service: ServiceSettings; save: Save }) {
  const [rows, setRows] = useState(service.testNumbers.map((t) => ({ ...t })));
  const saving = useSaving();
  const set = (i: number, patch: Partial<{ to: string; code: string }>) => setRows(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <section class="panel" aria-labelledby="test-numbers-title">
      <h2 id="test-numbers-title">Test numbers</h2>
      <p class="hint">Recipients with a fixed code, delivered into the dev outbox only (outside rate limits and Fraud Guard).</p>
      <form
        aria-label="Test numbers"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run(() => save({ testNumbers: rows.map((r) => ({ to: r.to.trim(), code: r.code.trim() })) }));
        }}
      >
        {rows.length === 0 && <p class="muted">No test numbers.</p>}
        {rows.map((r, i) => (
          <div class="bucket">
            <label>
              Number or email <input value={r.to} placeholder="+15005550006" onInput={(e) => set(i, { to: inputValue(e) })} />
            </label>
            <label>
              Code <input class="short" value={r.code} onInput={(e) => set(i, { code: inputValue(e) })} />
            </label>
            <button type="button" aria-label={`Remove test number ${i + 1}`} onClick={() => setRows(rows.filter((_, j) => j !== i))}>
              Remove
            </button>
          </div>
        ))}
        <button type="button" onClick={() => setRows([...rows, { to: "", code: "" }])}>
          Add test number
        </button>
        <FieldError problem={saving.problem} name="testNumbers" />
        <FormError problem={saving.problem} fields={["testNumbers"]} />
        <SaveRow busy={saving.busy} saved={saving.saved} label="Save test numbers" />
      </form>
    </section>
  );
}

function SafeList({ service, save }: { service: ServiceSettings; save: Save }) {
  const [text, setText] = useState(service.safeList.join("\n"));
  const saving = useSaving();
  return (
    <section class="panel" aria-labelledby="safe-title">
      <h2 id="safe-title">Safe list</h2>
      <form
        aria-label="Safe list"
        onSubmit={(e) => {
          e.preventDefault();
          void saving.run(() =>
            save({
              safeList: text
                .split(/[\s,]+/)
                .map((x) => x.trim())
                .filter(Boolean),
            }),
          );
        }}
      >
        <Field label="Numbers that skip Fraud Guard and geo permissions" name="safeList" hint="E.164, one per line" problem={saving.problem}>
          <textarea {...control("safeList", saving.problem)} rows={3} value={text} onInput={(e) => setText(inputValue(e))} />
        </Field>
        <FormError problem={saving.problem} fields={["safeList"]} />
        <SaveRow busy={saving.busy} saved={saving.saved} label="Save safe list" />
      </form>
    </section>
  );
}

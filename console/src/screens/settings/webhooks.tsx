import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Workspace } from "../../app";
import {
  CreateWebhookDocument,
  DeleteWebhookDocument,
  type DeliveryRowFragment,
  RetryWebhookDeliveryDocument,
  TestWebhookDocument,
  UpdateWebhookDocument,
  WebhookDeliveriesDocument,
  type WebhookFormat,
  type WebhookRowFragment,
  WebhooksDocument,
} from "../../gql";
import { type ApiProblem, Confirm, Field, FormError, OneTimeSecret, checkedOf, control, dateTime, inputValue, problemOf, useSaving } from "./common";

/** "verification.*, delivery.failed" → ["verification.*", "delivery.failed"] (commas or spaces). */
const eventTypesOf = (text: string) =>
  text
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean);

/** The service's webhooks: create (the secret shown once), edit, enable/disable, delete, test-send, deliveries and retry. */
export function WebhooksTab({ workspace, version }: { workspace: Workspace; version: number }) {
  const { client, serviceSid } = workspace;
  const [hooks, setHooks] = useState<WebhookRowFragment[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [secret, setSecret] = useState<{ sid: string; secret: string } | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const load = useCallback(async () => {
    const r = await client.query(WebhooksDocument, { serviceSid }).toPromise();
    if (r.error) setProblem(problemOf(r.error));
    else setHooks(r.data?.webhooks.nodes ?? []);
  }, [client, serviceSid]);
  useEffect(() => {
    setHooks(null);
    setSecret(null);
    void load();
  }, [load]);
  useEffect(() => {
    if (version > 0) void load();
  }, [version]);
  const toggle = async (hook: WebhookRowFragment) => {
    const r = await client.mutation(UpdateWebhookDocument, { input: { sid: hook.sid, enabled: !hook.enabled } }).toPromise();
    setProblem(problemOf(r.error));
    await load();
  };
  const remove = async (hook: WebhookRowFragment) => {
    const r = await client.mutation(DeleteWebhookDocument, { sid: hook.sid }).toPromise();
    setProblem(problemOf(r.error));
    if (open === hook.sid) setOpen(null);
    if (editing === hook.sid) setEditing(null);
    await load();
  };
  return (
    <div class="tab-body">
      <CreateWebhook
        workspace={workspace}
        onCreated={async (sid, s) => {
          setSecret({ sid, secret: s });
          await load();
        }}
      />
      {secret && <OneTimeSecret title={`Signing secret of ${secret.sid}`} value={secret.secret} testid="new-webhook-secret" onDone={() => setSecret(null)} />}
      <FormError problem={problem} fields={[]} />
      <h2>Webhooks</h2>
      {!hooks && <p class="loading">Loading…</p>}
      {hooks && hooks.length === 0 && <p class="muted">No webhooks yet.</p>}
      {hooks && hooks.length > 0 && (
        <ul class="cards" data-testid="webhooks">
          {hooks.map((h) => (
            <li class="card" data-sid={h.sid}>
              <div class="card-head">
                <strong>{h.friendlyName ?? h.url}</strong>
                <span class={h.enabled ? "status-APPROVED" : "status-CANCELED"}>{h.enabled ? "Enabled" : "Disabled"}</span>
              </div>
              <div class="muted">
                <code>{h.sid}</code> · {h.format} · <span class="url">{h.url}</span>
              </div>
              <div>Events: {h.eventTypes.join(", ")}</div>
              <div class="actions">
                <button type="button" aria-expanded={editing === h.sid} data-edit={h.sid} onClick={() => setEditing(editing === h.sid ? null : h.sid)}>
                  {editing === h.sid ? "Close editor" : "Edit"}
                </button>
                <button type="button" onClick={() => toggle(h)}>
                  {h.enabled ? "Disable" : "Enable"}
                </button>
                <button type="button" aria-expanded={open === h.sid} onClick={() => setOpen(open === h.sid ? null : h.sid)}>
                  {open === h.sid ? "Hide deliveries" : "Deliveries"}
                </button>
                <Confirm question={`Delete ${h.friendlyName ?? h.sid}? Waiting deliveries are canceled.`} action="Delete" onConfirm={() => remove(h)} />
              </div>
              {editing === h.sid && (
                <EditWebhook
                  workspace={workspace}
                  hook={h}
                  onSaved={load}
                  onClose={() => {
                    setEditing(null);
                    // Back to the button that opened it, for keyboard users.
                    requestAnimationFrame(() => document.querySelector<HTMLButtonElement>(`button[data-edit="${h.sid}"]`)?.focus());
                  }}
                />
              )}
              {open === h.sid && <Deliveries workspace={workspace} hook={h} />}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function CreateWebhook({ workspace, onCreated }: { workspace: Workspace; onCreated: (sid: string, secret: string) => Promise<void> }) {
  const [url, setUrl] = useState("");
  const [name, setName] = useState("");
  const [events, setEvents] = useState("verification.*");
  const [format, setFormat] = useState<WebhookFormat>("STANDARD");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const eventTypes = eventTypesOf(events);
    const r = await workspace.client
      .mutation(CreateWebhookDocument, { input: { serviceSid: workspace.serviceSid, url: url.trim(), friendlyName: name.trim() || null, eventTypes, format } })
      .toPromise();
    setBusy(false);
    setProblem(problemOf(r.error));
    if (r.data) {
      setUrl("");
      setName("");
      await onCreated(r.data.createWebhook.webhook.sid, r.data.createWebhook.secret);
    }
  };
  return (
    <details class="panel">
      <summary>New webhook</summary>
      <form class="settings-form" aria-label="New webhook" onSubmit={submit} noValidate>
        <div class="grid">
          <Field label="URL" name="url" hint="http(s), where events are POSTed" problem={problem}>
            <input {...control("url", problem)} type="url" value={url} placeholder="https://example.com/hooks/verigate" onInput={(e) => setUrl(inputValue(e))} />
          </Field>
          <Field label="Name" name="friendlyName" hint="Optional, for people" problem={problem}>
            <input {...control("friendlyName", problem)} value={name} onInput={(e) => setName(inputValue(e))} />
          </Field>
          <Field label="Event types" name="eventTypes" hint='Comma separated: "*", verification.*, delivery.*, factor.*, challenge.*, fraud_guard.* or one type' problem={problem}>
            <input {...control("eventTypes", problem)} value={events} onInput={(e) => setEvents(inputValue(e))} />
          </Field>
          <Field label="Format" name="format" problem={problem}>
            <select {...control("format", problem)} value={format} onChange={(e) => setFormat(inputValue(e) as WebhookFormat)}>
              <option value="STANDARD">Standard Webhooks (JSON)</option>
              <option value="TWILIO">Twilio (form, X-Twilio-Signature)</option>
            </select>
          </Field>
        </div>
        <FormError problem={problem} fields={["url", "friendlyName", "eventTypes", "format"]} />
        <div class="save-row">
          <button type="submit" class="primary" disabled={busy}>
            Create webhook
          </button>
        </div>
      </form>
    </details>
  );
}

/**
 * One webhook's settings (URL, name, event types, format, enabled) through updateWebhook; the API's
 * message sits by the field it names. Its secret stays the same (a new format signs with it too).
 */
function EditWebhook({ workspace, hook, onSaved, onClose }: { workspace: Workspace; hook: WebhookRowFragment; onSaved: () => Promise<void>; onClose: () => void }) {
  const [url, setUrl] = useState(hook.url);
  const [name, setName] = useState(hook.friendlyName ?? "");
  const [events, setEvents] = useState(hook.eventTypes.join(", "));
  const [format, setFormat] = useState<WebhookFormat>(hook.format);
  const [enabled, setEnabled] = useState(hook.enabled);
  const { problem, saved, busy, run } = useSaving();
  const first = useRef<HTMLInputElement>(null);
  useEffect(() => first.current?.focus(), []);
  const prefix = `edit-`;
  const submit = (e: Event) => {
    e.preventDefault();
    void run(async () => {
      const trimmed = name.trim();
      const r = await workspace.client
        .mutation(UpdateWebhookDocument, {
          input: {
            sid: hook.sid,
            url: url.trim(),
            // A webhook without a name keeps none when the field stays blank; a name cleared is the API's to refuse.
            friendlyName: trimmed || hook.friendlyName !== null ? trimmed : null,
            eventTypes: eventTypesOf(events),
            format,
            enabled,
          },
        })
        .toPromise();
      if (r.error) return problemOf(r.error);
      await onSaved();
      return null;
    });
  };
  const fields = ["url", "friendlyName", "eventTypes", "format", "enabled"];
  return (
    <form class="settings-form" aria-label={`Edit ${hook.friendlyName ?? hook.sid}`} onSubmit={submit} noValidate>
      <div class="grid">
        <Field label="URL" name="url" prefix={prefix} hint="http(s), where events are POSTed" problem={problem}>
          <input {...control("url", problem, prefix)} ref={first} type="url" value={url} onInput={(e) => setUrl(inputValue(e))} />
        </Field>
        <Field label="Name" name="friendlyName" prefix={prefix} hint="1–64 characters, for people" problem={problem}>
          <input {...control("friendlyName", problem, prefix)} value={name} onInput={(e) => setName(inputValue(e))} />
        </Field>
        <Field label="Event types" name="eventTypes" prefix={prefix} hint='Comma separated: "*", verification.*, delivery.*, factor.*, challenge.*, fraud_guard.* or one type' problem={problem}>
          <input {...control("eventTypes", problem, prefix)} value={events} onInput={(e) => setEvents(inputValue(e))} />
        </Field>
        <Field label="Format" name="format" prefix={prefix} hint="The signing secret stays the same" problem={problem}>
          <select {...control("format", problem, prefix)} value={format} onChange={(e) => setFormat(inputValue(e) as WebhookFormat)}>
            <option value="STANDARD">Standard Webhooks (JSON)</option>
            <option value="TWILIO">Twilio (form, X-Twilio-Signature)</option>
          </select>
        </Field>
        <Field label="Enabled" name="enabled" prefix={prefix} hint="A disabled webhook receives nothing" problem={problem}>
          <input {...control("enabled", problem, prefix)} type="checkbox" checked={enabled} onChange={(e) => setEnabled(checkedOf(e))} />
        </Field>
      </div>
      <FormError problem={problem} fields={fields} />
      <div class="save-row">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? "Saving…" : "Save webhook"}
        </button>
        <button type="button" onClick={onClose}>
          Close
        </button>
        {saved && (
          <span role="status" class="ok">
            Saved
          </span>
        )}
      </div>
    </form>
  );
}

function Deliveries({ workspace, hook }: { workspace: Workspace; hook: WebhookRowFragment }) {
  const { client } = workspace;
  const [rows, setRows] = useState<DeliveryRowFragment[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const load = useCallback(async () => {
    const r = await client.query(WebhookDeliveriesDocument, { webhookSid: hook.sid, after: null }).toPromise();
    if (r.error) return setProblem(problemOf(r.error));
    setRows(r.data?.webhookDeliveries.nodes ?? []);
    setNext(r.data?.webhookDeliveries.pageInfo.hasNextPage ? (r.data.webhookDeliveries.pageInfo.endCursor ?? null) : null);
  }, [client, hook.sid]);
  useEffect(() => {
    void load();
  }, [load]);
  const more = async () => {
    const r = await client.query(WebhookDeliveriesDocument, { webhookSid: hook.sid, after: next }).toPromise();
    if (r.error) return setProblem(problemOf(r.error));
    setRows([...(rows ?? []), ...(r.data?.webhookDeliveries.nodes ?? [])]);
    setNext(r.data?.webhookDeliveries.pageInfo.hasNextPage ? (r.data.webhookDeliveries.pageInfo.endCursor ?? null) : null);
  };
  const test = async () => {
    const r = await client.mutation(TestWebhookDocument, { sid: hook.sid }).toPromise();
    setProblem(problemOf(r.error));
    if (r.data) setNotice("A webhook.test event was queued.");
    await load();
  };
  const retry = async (id: string) => {
    const r = await client.mutation(RetryWebhookDeliveryDocument, { id }).toPromise();
    setProblem(problemOf(r.error));
    if (r.data) setNotice("The delivery was queued again.");
    await load();
  };
  return (
    <section class="deliveries" aria-label={`Deliveries of ${hook.friendlyName ?? hook.sid}`}>
      <div class="actions">
        <button type="button" onClick={test}>
          Send test event
        </button>
        <button type="button" onClick={load}>
          Refresh
        </button>
        {notice && (
          <span role="status" class="ok">
            {notice}
          </span>
        )}
      </div>
      <FormError problem={problem} fields={[]} />
      {rows && rows.length === 0 && <p class="muted">No deliveries yet.</p>}
      {rows && rows.length > 0 && (
        <div class="table-wrap">
          <table data-testid="deliveries">
            <thead>
              <tr>
                <th scope="col">Event</th>
                <th scope="col">Status</th>
                <th scope="col">Tries</th>
                <th scope="col">Last answer</th>
                <th scope="col">Queued</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr>
                  <td>
                    {d.eventType}
                    <div class="muted small">
                      <code>{d.eventSid}</code>
                    </div>
                  </td>
                  <td class={`status-${d.status}`}>{d.status}</td>
                  <td>{d.attempts}</td>
                  <td>{d.lastError ?? (d.lastStatusCode ? `HTTP ${d.lastStatusCode}` : "—")}</td>
                  <td>{dateTime(d.dateCreated)}</td>
                  <td>
                    {d.status === "FAILED" && (
                      <button type="button" onClick={() => retry(d.id)}>
                        Retry
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {next && (
        <button type="button" onClick={more}>
          Older deliveries
        </button>
      )}
    </section>
  );
}

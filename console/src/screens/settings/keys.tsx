import { useCallback, useEffect, useState } from "preact/hooks";
import type { Workspace } from "../../app";
import { type ApiKeysQuery, ApiKeysDocument, CreateApiKeyDocument, RevokeApiKeyDocument } from "../../gql";
import { type ApiProblem, Confirm, Field, FormError, OneTimeSecret, control, dateTime, inputValue, problemOf } from "./common";

type Key = ApiKeysQuery["apiKeys"][number];

/** The service's API keys: create (the key shown once), list, revoke. */
export function ApiKeysTab({ workspace, version }: { workspace: Workspace; version: number }) {
  const { client, serviceSid } = workspace;
  const [keys, setKeys] = useState<Key[] | null>(null);
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [name, setName] = useState("");
  const [fresh, setFresh] = useState<{ key: string; sid: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const load = useCallback(async () => {
    const r = await client.query(ApiKeysDocument, { serviceSid }).toPromise();
    if (r.error) setProblem(problemOf(r.error));
    else setKeys(r.data?.apiKeys ?? []);
  }, [client, serviceSid]);
  useEffect(() => {
    setKeys(null);
    setFresh(null);
    void load();
  }, [load]);
  useEffect(() => {
    if (version > 0) void load();
  }, [version]);
  const create = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await client.mutation(CreateApiKeyDocument, { input: { serviceSid, name: name.trim() || null } }).toPromise();
    setBusy(false);
    setProblem(problemOf(r.error));
    if (r.data) {
      setFresh({ key: r.data.createApiKey.key, sid: r.data.createApiKey.apiKey.sid });
      setName("");
      await load();
    }
  };
  const revoke = async (sid: string) => {
    const r = await client.mutation(RevokeApiKeyDocument, { sid }).toPromise();
    setProblem(problemOf(r.error));
    await load();
  };
  return (
    <div class="tab-body">
      <form class="inline-form panel" aria-label="New API key" onSubmit={create}>
        <Field label="Key name" name="keyName" hint="Your label, e.g. backend-prod" problem={problem && { ...problem, field: problem.field === "name" ? "keyName" : problem.field }}>
          <input {...control("keyName", problem)} value={name} onInput={(e) => setName(inputValue(e))} />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          Create API key
        </button>
      </form>
      {fresh && <OneTimeSecret title={`New API key ${fresh.sid}`} value={fresh.key} testid="new-api-key" onDone={() => setFresh(null)} />}
      <FormError problem={problem} fields={["name"]} />
      <h2>Keys</h2>
      {!keys && <p class="loading">Loading…</p>}
      {keys && keys.length === 0 && <p class="muted">No API keys yet.</p>}
      {keys && keys.length > 0 && (
        <div class="table-wrap">
          <table data-testid="api-keys">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Sid</th>
                <th scope="col">Created</th>
                <th scope="col">Status</th>
                <th scope="col">
                  <span class="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {keys.map((k) => (
                <tr data-sid={k.sid}>
                  <td>{k.name || <span class="muted">—</span>}</td>
                  <td>
                    <code>{k.sid}</code>
                  </td>
                  <td>{dateTime(k.dateCreated)}</td>
                  <td>{k.revokedAt ? <span class="status-CANCELED">Revoked {dateTime(k.revokedAt)}</span> : <span class="status-APPROVED">Active</span>}</td>
                  <td>{!k.revokedAt && <Confirm question={`Revoke ${k.name || k.sid}? Requests with it fail at once.`} action="Revoke" onConfirm={() => revoke(k.sid)} />}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

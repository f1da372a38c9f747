import { useEffect, useState } from "preact/hooks";
import type { Workspace } from "../../app";
import { type Channel, CreateServiceDocument, type TotpAlgorithm, type UpdateServiceInput } from "../../gql";
import { type ApiProblem, Field, FormError, SaveRow, type ServiceSettings, checkedOf, control, inputValue, intOf, problemOf, useSaving, useServiceSettings } from "./common";

const channels: Channel[] = ["SMS", "WHATSAPP", "CALL", "EMAIL", "SNA", "AUTO"];
const flags = [
  ["blockPremiumNumbers", "Block premium-rate and shared-cost numbers"],
  ["skipSmsToLandlines", "Refuse SMS to landlines"],
  ["customCodeEnabled", "Allow custom codes"],
  ["doNotShareWarningEnabled", "Warn never to share the code"],
  ["dtmfInputRequired", "Calls: key press before the code is read"],
  ["lookupEnabled", "Look up each number's carrier"],
  ["psd2Enabled", "PSD2 dynamic linking (amount and payee)"],
] as const;
type Flag = (typeof flags)[number][0];
const levels = ["REQUIRED", "PREFERRED", "DISCOURAGED"];

/** The form's values: strings as typed (numbers are sent as the API's Int), booleans and lists. */
interface Draft {
  friendlyName: string;
  codeLength: string;
  ttlSeconds: string;
  maxCheckAttempts: string;
  maxSendAttempts: string;
  defaultLocale: string;
  webOtpDomain: string;
  channels: Channel[];
  flags: Record<Flag, boolean>;
  totp: { algorithm: TotpAlgorithm; codeLength: string; skew: string; timeStep: string; issuer: string };
  passkeys: { rpId: string; rpName: string; origins: string; authenticatorAttachment: string; residentKey: string; userVerification: string };
}

const draftOf = (s: ServiceSettings): Draft => ({
  friendlyName: s.friendlyName,
  codeLength: String(s.codeLength),
  ttlSeconds: String(s.ttlSeconds),
  maxCheckAttempts: String(s.maxCheckAttempts),
  maxSendAttempts: String(s.maxSendAttempts),
  defaultLocale: s.defaultLocale,
  webOtpDomain: s.webOtpDomain ?? "",
  channels: [...s.channels],
  flags: Object.fromEntries(flags.map(([k]) => [k, s[k]])) as Record<Flag, boolean>,
  totp: { algorithm: s.totp.algorithm, codeLength: String(s.totp.codeLength), skew: String(s.totp.skew), timeStep: String(s.totp.timeStep), issuer: s.totp.issuer ?? "" },
  passkeys: {
    rpId: s.passkeys.rpId ?? "",
    rpName: s.passkeys.rpName ?? "",
    origins: s.passkeys.origins.join("\n"),
    authenticatorAttachment: s.passkeys.authenticatorAttachment,
    residentKey: s.passkeys.residentKey,
    userVerification: s.passkeys.userVerification,
  },
});

/** Every setting of the form, as updateService takes it (an emptied optional text is left out). */
function inputOf(d: Draft, s: ServiceSettings): Omit<UpdateServiceInput, "sid"> {
  const text = (value: string) => (value.trim() === "" ? null : value.trim());
  return {
    friendlyName: d.friendlyName,
    codeLength: intOf(d.codeLength),
    ttlSeconds: intOf(d.ttlSeconds),
    maxCheckAttempts: intOf(d.maxCheckAttempts),
    maxSendAttempts: intOf(d.maxSendAttempts),
    defaultLocale: text(d.defaultLocale),
    webOtpDomain: text(d.webOtpDomain) ?? (s.webOtpDomain ? "" : null),
    channels: d.channels,
    ...d.flags,
    totp: { algorithm: d.totp.algorithm, codeLength: intOf(d.totp.codeLength), skew: intOf(d.totp.skew), timeStep: intOf(d.totp.timeStep), issuer: text(d.totp.issuer) },
    passkeys: {
      rpId: text(d.passkeys.rpId),
      rpName: text(d.passkeys.rpName),
      origins: d.passkeys.origins
        .split(/\s+/)
        .map((o) => o.trim())
        .filter(Boolean),
      authenticatorAttachment: d.passkeys.authenticatorAttachment,
      residentKey: d.passkeys.residentKey,
      userVerification: d.passkeys.userVerification,
    },
  };
}

export function ServiceTab({ workspace }: { workspace: Workspace }) {
  const { service, missing, save } = useServiceSettings(workspace);
  return (
    <div class="tab-body">
      {workspace.admin && <CreateService workspace={workspace} />}
      {missing && <p role="alert">This service was not found.</p>}
      {!service && !missing && <p class="loading">Loading…</p>}
      {service && <ServiceForm key={service.sid} service={service} save={save} />}
    </div>
  );
}

function CreateService({ workspace }: { workspace: Workspace }) {
  const [name, setName] = useState("");
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<string | null>(null);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    const r = await workspace.client.mutation(CreateServiceDocument, { input: { friendlyName: name } }).toPromise();
    setBusy(false);
    setProblem(problemOf(r.error));
    if (r.data) {
      await workspace.reloadServices();
      workspace.setServiceSid(r.data.createService.sid);
      setCreated(r.data.createService.friendlyName);
      setName("");
    }
  };
  return (
    <details class="panel create-service">
      <summary>New service</summary>
      <form onSubmit={submit} class="inline-form" aria-label="New service">
        <Field
          label="Friendly name"
          name="newServiceName"
          hint="1–30 characters, no links, at most 4 digits"
          problem={problem && { ...problem, field: problem.field === "friendlyName" ? "newServiceName" : problem.field }}
        >
          <input {...control("newServiceName", problem)} required value={name} onInput={(e) => setName(inputValue(e))} />
        </Field>
        <button type="submit" class="primary" disabled={busy}>
          Create service
        </button>
        {created && (
          <span role="status" class="ok">
            Created {created}; it is selected now.
          </span>
        )}
        <FormError problem={problem} fields={["friendlyName"]} />
      </form>
    </details>
  );
}

const simpleFields = ["friendlyName", "codeLength", "ttlSeconds", "maxCheckAttempts", "maxSendAttempts", "defaultLocale", "webOtpDomain", "channels", "totp", "passkeys", ...flags.map(([k]) => k)];

function ServiceForm({ service, save }: { service: ServiceSettings; save: (changes: Omit<UpdateServiceInput, "sid">) => Promise<ApiProblem | null> }) {
  const [draft, setDraft] = useState(() => draftOf(service));
  useEffect(() => setDraft(draftOf(service)), [service]);
  const saving = useSaving();
  const p = saving.problem;
  const set = (patch: Partial<Draft>) => setDraft({ ...draft, ...patch });
  const num = (name: "codeLength" | "ttlSeconds" | "maxCheckAttempts" | "maxSendAttempts", min: number, max: number) => (
    <input {...control(name, p)} type="number" inputMode="numeric" step={1} min={min} max={max} value={draft[name]} onInput={(e) => set({ [name]: inputValue(e) })} />
  );
  return (
    <form
      class="settings-form"
      aria-label="Service settings"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        void saving.run(() => save(inputOf(draft, service)));
      }}
    >
      <fieldset>
        <legend>Codes and messages</legend>
        <div class="grid">
          <Field label="Friendly name" name="friendlyName" hint="Named in the messages; 1–30 characters" problem={p}>
            <input {...control("friendlyName", p)} value={draft.friendlyName} onInput={(e) => set({ friendlyName: inputValue(e) })} />
          </Field>
          <Field label="Code length" name="codeLength" hint="4–10 digits" problem={p}>
            {num("codeLength", 4, 10)}
          </Field>
          <Field label="Validity (seconds)" name="ttlSeconds" hint="120–86400" problem={p}>
            {num("ttlSeconds", 120, 86400)}
          </Field>
          <Field label="Max check attempts" name="maxCheckAttempts" hint="1–20" problem={p}>
            {num("maxCheckAttempts", 1, 20)}
          </Field>
          <Field label="Max send attempts" name="maxSendAttempts" hint="1–20 per number per validity window" problem={p}>
            {num("maxSendAttempts", 1, 20)}
          </Field>
          <Field label="Default locale" name="defaultLocale" hint="A language tag such as en or pt-BR" problem={p}>
            <input {...control("defaultLocale", p)} value={draft.defaultLocale} onInput={(e) => set({ defaultLocale: inputValue(e) })} />
          </Field>
          <Field label="WebOTP domain" name="webOtpDomain" hint="Adds @domain #code to SMS; empty: none" problem={p}>
            <input {...control("webOtpDomain", p)} value={draft.webOtpDomain} placeholder="example.com" onInput={(e) => set({ webOtpDomain: inputValue(e) })} />
          </Field>
        </div>
      </fieldset>
      <fieldset aria-describedby={p?.field?.startsWith("channels") ? "error-channels" : undefined}>
        <legend>Channels</legend>
        <div class="checks">
          {channels.map((c) => (
            <label>
              <input type="checkbox" checked={draft.channels.includes(c)} onChange={(e) => set({ channels: checkedOf(e) ? [...draft.channels, c] : draft.channels.filter((x) => x !== c) })} /> {c}
            </label>
          ))}
        </div>
        <FieldErrorFor problem={p} name="channels" />
      </fieldset>
      <fieldset>
        <legend>Behaviour</legend>
        <div class="checks column">
          {flags.map(([k, label]) => (
            <label>
              <input type="checkbox" name={k} checked={draft.flags[k]} onChange={(e) => set({ flags: { ...draft.flags, [k]: checkedOf(e) } })} /> {label}
              <FieldErrorFor problem={p} name={k} />
            </label>
          ))}
        </div>
      </fieldset>
      <fieldset>
        <legend>TOTP defaults</legend>
        <div class="grid">
          <Field label="Algorithm" name="totp.algorithm" problem={p}>
            <select {...control("totp.algorithm", p)} value={draft.totp.algorithm} onChange={(e) => set({ totp: { ...draft.totp, algorithm: inputValue(e) as TotpAlgorithm } })}>
              {["SHA1", "SHA256", "SHA512"].map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
          </Field>
          <Field label="TOTP code length" name="totp.codeLength" hint="6–8" problem={p}>
            <input {...control("totp.codeLength", p)} type="number" step={1} value={draft.totp.codeLength} onInput={(e) => set({ totp: { ...draft.totp, codeLength: inputValue(e) } })} />
          </Field>
          <Field label="Time step (seconds)" name="totp.timeStep" hint="20–60" problem={p}>
            <input {...control("totp.timeStep", p)} type="number" step={1} value={draft.totp.timeStep} onInput={(e) => set({ totp: { ...draft.totp, timeStep: inputValue(e) } })} />
          </Field>
          <Field label="Skew (steps)" name="totp.skew" hint="0–2" problem={p}>
            <input {...control("totp.skew", p)} type="number" step={1} value={draft.totp.skew} onInput={(e) => set({ totp: { ...draft.totp, skew: inputValue(e) } })} />
          </Field>
          <Field label="Issuer" name="totp.issuer" hint="Shown by authenticator apps; empty: the friendly name" problem={p}>
            <input {...control("totp.issuer", p)} value={draft.totp.issuer} onInput={(e) => set({ totp: { ...draft.totp, issuer: inputValue(e) } })} />
          </Field>
        </div>
      </fieldset>
      <fieldset>
        <legend>Passkeys (WebAuthn relying party)</legend>
        <div class="grid">
          <Field label="Relying party id" name="passkeys.rpId" hint="A domain such as example.com; empty: the gateway's" problem={p}>
            <input {...control("passkeys.rpId", p)} value={draft.passkeys.rpId} onInput={(e) => set({ passkeys: { ...draft.passkeys, rpId: inputValue(e) } })} />
          </Field>
          <Field label="Relying party name" name="passkeys.rpName" hint="Empty: the friendly name" problem={p}>
            <input {...control("passkeys.rpName", p)} value={draft.passkeys.rpName} onInput={(e) => set({ passkeys: { ...draft.passkeys, rpName: inputValue(e) } })} />
          </Field>
          <Field label="Origins" name="passkeys.origins" hint="One per line, such as https://example.com" problem={p}>
            <textarea {...control("passkeys.origins", p)} rows={2} value={draft.passkeys.origins} onInput={(e) => set({ passkeys: { ...draft.passkeys, origins: inputValue(e) } })} />
          </Field>
          <Field label="Authenticator attachment" name="passkeys.authenticatorAttachment" problem={p}>
            <select
              {...control("passkeys.authenticatorAttachment", p)}
              value={draft.passkeys.authenticatorAttachment}
              onChange={(e) => set({ passkeys: { ...draft.passkeys, authenticatorAttachment: inputValue(e) } })}
            >
              {["ANY", "PLATFORM", "CROSS_PLATFORM"].map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
          </Field>
          <Field label="Resident key" name="passkeys.residentKey" problem={p}>
            <select {...control("passkeys.residentKey", p)} value={draft.passkeys.residentKey} onChange={(e) => set({ passkeys: { ...draft.passkeys, residentKey: inputValue(e) } })}>
              {levels.map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
          </Field>
          <Field label="User verification" name="passkeys.userVerification" problem={p}>
            <select {...control("passkeys.userVerification", p)} value={draft.passkeys.userVerification} onChange={(e) => set({ passkeys: { ...draft.passkeys, userVerification: inputValue(e) } })}>
              {levels.map((a) => (
                <option value={a}>{a}</option>
              ))}
            </select>
          </Field>
        </div>
      </fieldset>
      <FormError problem={p} fields={simpleFields} />
      <SaveRow busy={saving.busy} saved={saving.saved} />
    </form>
  );
}

function FieldErrorFor({ problem, name }: { problem: ApiProblem | null; name: string }) {
  if (!problem?.field || !(problem.field === name || problem.field.startsWith(`${name}.`))) return null;
  return (
    <span class="field-error error" role="alert" id={`error-${name}`} data-testid={`error-${name}`}>
      {problem.message}
    </span>
  );
}

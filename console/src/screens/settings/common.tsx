import type { CombinedError } from "@urql/core";
import type { ComponentChildren } from "preact";
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { Workspace } from "../../app";
import { ServiceSettingsDocument, type ServiceSettingsFragment, UpdateServiceDocument, type UpdateServiceInput } from "../../gql";

/** The API's refusal as the console shows it: exactly its message, and the input field it names. */
export interface ApiProblem {
  message: string;
  field: string | null;
  code: string | null;
}

export function problemOf(error: CombinedError | undefined): ApiProblem | null {
  if (!error) return null;
  const first = error.graphQLErrors[0];
  if (!first) return { message: error.networkError?.message ?? error.message, field: null, code: null };
  const field = typeof first.extensions?.field === "string" ? first.extensions.field : null;
  const code = typeof first.extensions?.code === "string" ? first.extensions.code : null;
  return { message: first.message, field, code };
}

/** Does the API's field (codeLength, totp.codeLength, rateLimits.perTo.0.max…) belong to this form field? */
export const isField = (problem: ApiProblem | null, name: string): boolean =>
  !!problem?.field && (problem.field === name || problem.field.startsWith(`${name}.`) || problem.field.startsWith(`${name}[`));

/**
 * The API's message under the field it names (role=alert so a screen reader hears it). `prefix` keeps ids
 * unique when two forms of the page have a field of the same name (a webhook's editor beside "New webhook").
 */
export function FieldError({ problem, name, prefix = "" }: { problem: ApiProblem | null; name: string; prefix?: string }) {
  if (!problem || !isField(problem, name)) return null;
  return (
    <span class="field-error error" role="alert" id={`error-${prefix}${name}`} data-testid={`error-${prefix}${name}`}>
      {problem.message}
    </span>
  );
}

/** A refusal that no field of the form shows (named for the field it concerns, if any). */
export function FormError({ problem, fields }: { problem: ApiProblem | null; fields: string[] }) {
  if (!problem || fields.some((f) => isField(problem, f))) return null;
  return (
    <p class="error" role="alert" data-testid="form-error">
      {problem.message}
      {problem.field ? ` (${problem.field})` : ""}
    </p>
  );
}

/** A labelled form row: the control, its hint and the API's message for it. */
export function Field(props: { label: string; name: string; hint?: string; problem: ApiProblem | null; prefix?: string; children: ComponentChildren }) {
  const prefix = props.prefix ?? "";
  return (
    <div class="field">
      <label for={`f-${prefix}${props.name}`}>{props.label}</label>
      {props.children}
      {props.hint && <span class="hint">{props.hint}</span>}
      <FieldError problem={props.problem} name={props.name} prefix={prefix} />
    </div>
  );
}

/** Attributes that tie a control to its label and (when refused) its error message. */
export const control = (name: string, problem: ApiProblem | null, prefix = "") => ({
  id: `f-${prefix}${name}`,
  name,
  "aria-invalid": isField(problem, name) ? ("true" as const) : undefined,
  "aria-describedby": isField(problem, name) ? `error-${prefix}${name}` : undefined,
});

export type ServiceSettings = ServiceSettingsFragment;

/** The selected service's settings, and a save that sends part of them (the API validates; its message is kept). */
export function useServiceSettings(workspace: Workspace) {
  const [service, setService] = useState<ServiceSettings | null>(null);
  const [missing, setMissing] = useState(false);
  const load = useCallback(async () => {
    if (!workspace.serviceSid) return;
    const r = await workspace.client.query(ServiceSettingsDocument, { sid: workspace.serviceSid }).toPromise();
    setService(r.data?.service ?? null);
    setMissing(!r.error && !r.data?.service);
  }, [workspace.client, workspace.serviceSid]);
  useEffect(() => {
    setService(null);
    void load();
  }, [load]);
  const save = async (changes: Omit<UpdateServiceInput, "sid">): Promise<ApiProblem | null> => {
    const r = await workspace.client.mutation(UpdateServiceDocument, { input: { sid: workspace.serviceSid, ...changes } }).toPromise();
    if (r.error) return problemOf(r.error);
    if (r.data) setService(r.data.updateService);
    return null;
  };
  return { service, missing, reload: load, save };
}

/** "Saved" / the API's refusal, per form. */
export function useSaving() {
  const [problem, setProblem] = useState<ApiProblem | null>(null);
  const [saved, setSaved] = useState(false);
  const [busy, setBusy] = useState(false);
  const run = async (work: () => Promise<ApiProblem | null>) => {
    setBusy(true);
    setSaved(false);
    try {
      const p = await work();
      setProblem(p);
      setSaved(!p);
    } finally {
      setBusy(false);
    }
  };
  return { problem, saved, busy, run, setProblem };
}

export function SaveRow({ busy, saved, label = "Save" }: { busy: boolean; saved: boolean; label?: string }) {
  return (
    <div class="save-row">
      <button type="submit" class="primary" disabled={busy}>
        {busy ? "Saving…" : label}
      </button>
      {saved && (
        <span role="status" class="ok">
          Saved
        </span>
      )}
    </div>
  );
}

export const dateTime = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

/** An int from a number field; an empty field is left out (null: the API keeps the value). */
export const intOf = (value: string): number | null => (value.trim() === "" ? null : Number.parseInt(value, 10));

export const inputValue = (e: Event) => (e.target as HTMLInputElement).value;
export const checkedOf = (e: Event) => (e.target as HTMLInputElement).checked;

/** A copy-to-clipboard button (the API's one-time secrets). */
export function CopyButton({ text, label }: { text: string; label: string }) {
  const [copied, setCopied] = useState(false);
  return (
    <button
      type="button"
      onClick={async () => {
        try {
          await navigator.clipboard.writeText(text);
          setCopied(true);
        } catch {
          setCopied(false);
        }
      }}
    >
      {copied ? "Copied" : label}
    </button>
  );
}

/** A secret shown once: selectable, copyable, with the warning that it will not be shown again. */
export function OneTimeSecret({ title, value, testid, onDone }: { title: string; value: string; testid: string; onDone: () => void }) {
  return (
    <div class="once" role="status" aria-live="polite">
      <strong>{title}</strong>
      <p class="warning">Copy it now: it is shown only this once and cannot be read again.</p>
      <div class="once-value">
        <input readOnly value={value} aria-label={title} data-testid={testid} onFocus={(e) => (e.target as HTMLInputElement).select()} />
        <CopyButton text={value} label="Copy" />
      </div>
      <button type="button" onClick={onDone}>
        I have copied it
      </button>
    </div>
  );
}

/** An inline confirmation (a real button pair, keyboard reachable) instead of window.confirm. */
export function Confirm({ question, action, onConfirm }: { question: string; action: string; onConfirm: () => void | Promise<void> }) {
  const [asking, setAsking] = useState(false);
  const yes = useRef<HTMLButtonElement>(null);
  // Keyboard users land on the question's answer; Cancel is one Tab away.
  useEffect(() => {
    if (asking) yes.current?.focus();
  }, [asking]);
  if (!asking)
    return (
      <button type="button" class="danger" onClick={() => setAsking(true)}>
        {action}
      </button>
    );
  return (
    <fieldset class="confirm">
      <legend>{question}</legend>
      <button
        type="button"
        class="danger"
        ref={yes}
        onClick={async () => {
          await onConfirm();
          setAsking(false);
        }}
      >
        Yes, {action.toLowerCase()}
      </button>
      <button type="button" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </fieldset>
  );
}

import { useSubscription } from "@urql/preact";
import { useState } from "preact/hooks";
import type { Workspace } from "../app";
import { SettingsEventsDocument } from "../gql";
import { href } from "../route";
import { ApiKeysTab } from "./settings/keys";
import { ProtectionTab } from "./settings/protection";
import { ServiceTab } from "./settings/service";
import { WebhooksTab } from "./settings/webhooks";

const tabs = [
  ["service", "Service"],
  ["keys", "API keys"],
  ["webhooks", "Webhooks"],
  ["protection", "Protection"],
] as const;
type Tab = (typeof tabs)[number][0];

/** Settings of the selected service, one tab each (#/settings/<tab>). */
export function Settings(props: { workspace: Workspace; tab?: string | null }) {
  const tab: Tab = tabs.some(([id]) => id === props.tab) ? (props.tab as Tab) : "service";
  const service = props.workspace.services.find((s) => s.sid === props.workspace.serviceSid);
  // Lists follow the service's events (another operator's new key, a webhook change, a block); a key
  // revoked meanwhile ends this stream with UNAUTHENTICATED and the console signs out.
  const [version, setVersion] = useState(0);
  useSubscription({ query: SettingsEventsDocument, variables: { serviceSid: props.workspace.serviceSid }, pause: !props.workspace.serviceSid }, (_, event) => {
    if (/^(api_key|webhook|fraud_guard)\./.test(event.serviceEvents.type)) setVersion((v) => v + 1);
    return event;
  });
  return (
    <section aria-labelledby="settings-title" class="settings">
      <h1 id="settings-title">
        Settings <span class="muted">{service?.friendlyName}</span>
      </h1>
      <nav aria-label="Settings" class="tabs">
        {tabs.map(([id, label]) => (
          <a href={href("settings", id)} aria-current={id === tab ? "page" : undefined}>
            {label}
          </a>
        ))}
      </nav>
      {tab === "service" && <ServiceTab workspace={props.workspace} />}
      {tab === "keys" && <ApiKeysTab workspace={props.workspace} version={version} />}
      {tab === "webhooks" && <WebhooksTab workspace={props.workspace} version={version} />}
      {tab === "protection" && <ProtectionTab workspace={props.workspace} version={version} />}
    </section>
  );
}

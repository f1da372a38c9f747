import type { Workspace } from "../app";

/** TODO(console helper): the settings screen. */
export function Settings(props: { workspace: Workspace; sid?: string; tab?: string | null }) {
  return (
    <section aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <p>{props.workspace.serviceSid}</p>
    </section>
  );
}

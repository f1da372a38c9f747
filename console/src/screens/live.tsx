import type { Workspace } from "../app";

/** TODO(console helper): the live screen. */
export function Live(props: { workspace: Workspace; sid?: string; tab?: string | null }) {
  return (
    <section aria-labelledby="live-title">
      <h1 id="live-title">Live</h1>
      <p>{props.workspace.serviceSid}</p>
    </section>
  );
}

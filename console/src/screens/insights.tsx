import type { Workspace } from "../app";

/** TODO(console helper): the insights screen. */
export function Insights(props: { workspace: Workspace; sid?: string; tab?: string | null }) {
  return (
    <section aria-labelledby="insights-title">
      <h1 id="insights-title">Insights</h1>
      <p>{props.workspace.serviceSid}</p>
    </section>
  );
}

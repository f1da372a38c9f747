import type { Workspace } from "../app";

/** TODO(console helper): the search screen. */
export function Search(props: { workspace: Workspace; sid?: string; tab?: string | null }) {
  return (
    <section aria-labelledby="search-title">
      <h1 id="search-title">Search</h1>
      <p>{props.workspace.serviceSid}</p>
    </section>
  );
}

import type { Workspace } from "../app";

/** TODO(console helper): the verification screen. */
export function VerificationDetail(props: { workspace: Workspace; sid?: string; tab?: string | null }) {
  return (
    <section aria-labelledby="verification-title">
      <h1 id="verification-title">VerificationDetail</h1>
      <p>{props.workspace.serviceSid}</p>
    </section>
  );
}

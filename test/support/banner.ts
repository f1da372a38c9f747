/**
 * The address a gateway process printed at start-up ("listening on http://localhost:PORT/graphql"), as a URL
 * to dial: the banner names localhost for people (WebAuthn needs a domain name), the server listens on
 * 127.0.0.1 by default, and Node may try ::1 first for localhost.
 */
export function listeningUrl(output: string): string | null {
  const match = /listening on (http:\/\/\S+)\/graphql/.exec(output);
  return match ? match[1].replace("//localhost:", "//127.0.0.1:") : null;
}

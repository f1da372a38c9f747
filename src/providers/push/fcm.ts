import { readFileSync } from "node:fs";
import { SignJWT, importPKCS8 } from "jose";
import type { ChallengeNotice, NotifyResult } from "./notice.js";

/** A Google service account (the JSON file Firebase's console gives). */
interface ServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri: string;
}

const SCOPE = "https://www.googleapis.com/auth/firebase.messaging";

/**
 * Firebase Cloud Messaging, HTTP v1: an OAuth 2 access token from the service account (a JWT signed with
 * its key, exchanged at token_uri, cached until shortly before it expires), then one `messages:send` per
 * notice, as a data message (the app decides what to show; silent challenges show nothing).
 */
export class FcmSender {
  private readonly account: ServiceAccount;
  private token: { value: string; until: number } | null = null;

  constructor(private readonly o: { serviceAccountFile: string; apiUrl: string; timeoutMs: number }) {
    const parsed = JSON.parse(readFileSync(o.serviceAccountFile, "utf8")) as Partial<ServiceAccount>;
    for (const key of ["project_id", "client_email", "private_key", "token_uri"] as const) {
      if (typeof parsed[key] !== "string" || !parsed[key]) throw new Error(`FCM_SERVICE_ACCOUNT: the file has no "${key}"`);
    }
    this.account = parsed as ServiceAccount;
  }

  private async accessToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const now = Math.floor(Date.now() / 1000);
    const assertion = await new SignJWT({ scope: SCOPE })
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(this.account.client_email)
      .setAudience(this.account.token_uri)
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(await importPKCS8(this.account.private_key, "RS256"));
    const response = await fetch(this.account.token_uri, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ grant_type: "urn:ietf:params:oauth:grant-type:jwt-bearer", assertion }),
      signal: AbortSignal.timeout(this.o.timeoutMs),
    });
    if (!response.ok) throw new Error(`FCM token endpoint answered ${response.status}`);
    const body = (await response.json()) as { access_token?: string; expires_in?: number };
    if (!body.access_token) throw new Error("FCM token endpoint gave no access_token");
    this.token = { value: body.access_token, until: Date.now() + Math.max(60, (body.expires_in ?? 3600) - 60) * 1000 };
    return body.access_token;
  }

  async send(registrationToken: string, notice: ChallengeNotice, ttlSeconds: number): Promise<NotifyResult> {
    let token: string;
    try {
      token = await this.accessToken();
    } catch (error) {
      return { sent: false, retry: true, reason: (error as Error).message };
    }
    // FCM data values are strings.
    const data = Object.fromEntries(Object.entries(notice).map(([k, v]) => [k, String(v)]));
    const response = await fetch(`${this.o.apiUrl.replace(/\/$/, "")}/v1/projects/${encodeURIComponent(this.account.project_id)}/messages:send`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
      body: JSON.stringify({ message: { token: registrationToken, data, android: { priority: "HIGH", ttl: `${ttlSeconds}s` } } }),
      signal: AbortSignal.timeout(this.o.timeoutMs),
    }).catch((error: Error) => error);
    if (response instanceof Error) return { sent: false, retry: true, reason: response.message };
    await response.body?.cancel().catch(() => {});
    if (response.ok) return { sent: true };
    if (response.status === 401) this.token = null;
    // 400 (bad token), 403 (sender mismatch), 404 (unregistered) will not pass by retrying.
    return { sent: false, retry: ![400, 403, 404].includes(response.status), reason: `FCM answered ${response.status}` };
  }
}

import { readFileSync } from "node:fs";
import { type ClientHttp2Session, connect } from "node:http2";
import { rootCertificates } from "node:tls";
import { SignJWT, importPKCS8 } from "jose";
import type { ChallengeNotice, NotifyResult } from "./notice.js";

/**
 * Apple Push Notification service over HTTP/2 with token-based authentication: an ES256 provider token
 * (team id, key id) renewed every 50 minutes, one long-lived connection, one POST /3/device/<token> per
 * notice. Silent challenges go as background pushes (content-available, no alert).
 */
export class ApnsSender {
  private session: ClientHttp2Session | null = null;
  private token: { value: string; until: number } | null = null;
  private readonly keyPem: string;

  constructor(private readonly o: { keyFile: string; keyId: string; teamId: string; topic: string; url: string; caFile: string | null; timeoutMs: number }) {
    this.keyPem = readFileSync(o.keyFile, "utf8");
  }

  private async providerToken(): Promise<string> {
    if (this.token && this.token.until > Date.now()) return this.token.value;
    const value = await new SignJWT({})
      .setProtectedHeader({ alg: "ES256", kid: this.o.keyId })
      .setIssuer(this.o.teamId)
      .setIssuedAt()
      .sign(await importPKCS8(this.keyPem, "ES256"));
    this.token = { value, until: Date.now() + 50 * 60_000 };
    return value;
  }

  private connection(): ClientHttp2Session {
    if (this.session && !this.session.closed && !this.session.destroyed) return this.session;
    const ca = this.o.caFile ? [...rootCertificates, readFileSync(this.o.caFile, "utf8")] : undefined;
    const session = connect(this.o.url, ca ? { ca } : {});
    session.on("error", () => session.destroy());
    session.unref();
    this.session = session;
    return session;
  }

  async send(deviceToken: string, notice: ChallengeNotice, expiresAt: number): Promise<NotifyResult> {
    const token = await this.providerToken();
    const payload = JSON.stringify({
      aps: notice.silent ? { "content-available": 1 } : { alert: { body: notice.message }, sound: "default", "content-available": 1 },
      ...notice,
    });
    return new Promise<NotifyResult>((resolve) => {
      let request: ReturnType<ClientHttp2Session["request"]>;
      try {
        request = this.connection().request({
          ":method": "POST",
          ":path": `/3/device/${encodeURIComponent(deviceToken)}`,
          authorization: `bearer ${token}`,
          "apns-topic": this.o.topic,
          "apns-push-type": notice.silent ? "background" : "alert",
          "apns-priority": notice.silent ? "5" : "10",
          "apns-expiration": String(Math.floor(expiresAt / 1000)),
          "apns-collapse-id": notice.challengeSid.slice(0, 64),
          "content-type": "application/json",
        });
      } catch (error) {
        resolve({ sent: false, retry: true, reason: (error as Error).message });
        return;
      }
      const timer = setTimeout(() => request.close(), this.o.timeoutMs);
      let status = 0;
      let body = "";
      request.on("response", (headers) => {
        status = Number(headers[":status"]);
      });
      request.on("data", (chunk: Buffer) => (body += chunk.toString()));
      request.on("error", (error) => {
        clearTimeout(timer);
        resolve({ sent: false, retry: true, reason: error.message });
      });
      request.on("close", () => {
        clearTimeout(timer);
        if (status === 200) return resolve({ sent: true });
        if (status === 403) this.token = null;
        const reason = (() => {
          try {
            return (JSON.parse(body) as { reason?: string }).reason ?? "";
          } catch {
            return "";
          }
        })();
        // 400 (bad request or token), 403 (credentials), 410 (device unregistered) will not pass by retrying.
        resolve({ sent: false, retry: status === 0 || status === 429 || status >= 500, reason: `APNs answered ${status || "nothing"}${reason ? ` (${reason})` : ""}` });
      });
      request.end(payload);
    });
  }

  close(): void {
    this.session?.close();
  }
}

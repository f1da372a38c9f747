import nodemailer from "nodemailer";
import type { Provider } from "../provider.js";

/** Email over SMTP (nodemailer). The Message-ID is derived from the attempt sid, so a resend of ours is recognisable. */
export function smtpProvider(options: { url: string; from: string; timeoutMs: number }): Provider {
  const url = new URL(options.url);
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port) || (url.protocol === "smtps:" ? 465 : 587),
    secure: url.protocol === "smtps:",
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: options.timeoutMs,
    greetingTimeout: options.timeoutMs,
    socketTimeout: options.timeoutMs,
  });
  return {
    name: "smtp",
    async send(message) {
      const info = await transport.sendMail({
        from: options.from,
        to: message.to,
        subject: message.subject,
        text: message.body,
        html: message.html,
        messageId: `<${message.attemptSid}@verigate>`,
        headers: { "X-Verigate-Attempt": message.attemptSid, "Content-Language": message.locale },
      });
      return { status: "SENT", providerMessageId: info.messageId ?? null };
    },
    async close() {
      transport.close();
    },
  };
}

import nodemailer from "nodemailer";
import { z } from "zod";
import { type Provider, requiredWith, transportPlugin } from "../provider.js";

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

/** Email over SMTP: SMTP_URL and EMAIL_FROM. */
export const smtpTransport = transportPlugin({
  name: "smtp",
  channels: { EMAIL: "SMTP_URL" },
  env: {
    SMTP_URL: z
      .string()
      .regex(/^smtps?:\/\//, "must be smtp://user:pass@host:port or smtps://…")
      .optional(),
    EMAIL_FROM: z.string().min(3).optional(),
  },
  problems: (env) => requiredWith(env, env.SMTP_URL, "EMAIL_FROM", "SMTP_URL"),
  options: (env) => (env.SMTP_URL && env.EMAIL_FROM ? { url: env.SMTP_URL as string, from: env.EMAIL_FROM as string } : null),
  create: (options, deps) => smtpProvider({ ...options, timeoutMs: deps.timeoutMs }),
});

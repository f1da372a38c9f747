import nodemailer from "nodemailer";
import { z } from "zod";
import { type Provider, requiredWith, transportPlugin } from "../provider.js";

/** EMAIL_FROM as a mailbox: `Name <address>`, `"Name" <address>` or a bare address. */
export function parseSender(from: string): { name: string | null; address: string } {
  const angled = /^\s*(.*?)\s*<([^<>\s]+@[^<>\s]+)>\s*$/.exec(from);
  if (!angled) return { name: null, address: from.trim() };
  const name = angled[1].replace(/^"(.*)"$/, "$1").replace(/\\(.)/g, "$1");
  return { name: name || null, address: angled[2] };
}

/**
 * Email over SMTP (nodemailer). The Message-ID is derived from the attempt sid, so a resend of ours is
 * recognisable. A verification may choose its From address (at EMAIL_FROM's domain: the flow checks it
 * against `senderDomain`) and display name; nodemailer encodes the name (quotes, line breaks and all), so
 * no header can be injected through it.
 */
export function smtpProvider(options: { url: string; from: string; timeoutMs: number }): Provider {
  const configured = parseSender(options.from);
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
    ...(configured.address.includes("@") ? { senderDomain: configured.address.slice(configured.address.lastIndexOf("@") + 1).toLowerCase() } : {}),
    async send(message) {
      const chosen = message.from;
      const info = await transport.sendMail({
        from: chosen ? { name: chosen.name ?? configured.name ?? "", address: chosen.address ?? configured.address } : options.from,
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

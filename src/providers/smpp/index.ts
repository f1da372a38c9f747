import { randomInt } from "node:crypto";
import type { Logger } from "pino";
import smpp, { type PDU, type Session } from "smpp";
import { z } from "zod";
import { type Provider, type ReceiptListener, requiredWith, transportPlugin } from "../provider.js";
import { chooseEncoding, concatUdh, dataCoding, segments } from "./encoding.js";

export interface SmppOptions {
  /** smpp://system_id:password@host:port */
  url: string;
  /** Source address: an E.164 number (+…) or an alphanumeric sender id. */
  from: string;
  enquireLinkMs: number;
  logger: Logger;
  onReceipt: ReceiptListener;
}

// Receipt states (SMPP 3.4 appendix B): which ones end a message, and how.
const receiptStates: Record<string, "DELIVERED" | "UNDELIVERED"> = {
  DELIVRD: "DELIVERED",
  UNDELIV: "UNDELIVERED",
  EXPIRED: "UNDELIVERED",
  REJECTD: "UNDELIVERED",
  DELETED: "UNDELIVERED",
};

const address = (value: string) => (value.startsWith("+") ? { addr: value.slice(1), ton: 1, npi: 1 } : /^\d+$/.test(value) ? { addr: value, ton: 0, npi: 1 } : { addr: value, ton: 5, npi: 0 });

/**
 * SMS over SMPP 3.4: one bound transceiver session, kept alive with enquire_link and re-bound after a
 * drop. Long messages go as concatenated parts (UDH); delivery receipts (deliver_sm) come back as events.
 */
export function smppProvider(options: SmppOptions): Provider {
  const target = new URL(options.url);
  const credentials = { system_id: decodeURIComponent(target.username), password: decodeURIComponent(target.password) };
  const endpoint = `smpp://${target.hostname}:${target.port || 2775}`;
  let bound: Promise<Session> | null = null;
  let keepAlive: NodeJS.Timeout | undefined;
  let closed = false;
  // Parts of a concatenated message → the first part's id, and how many parts are still to be delivered.
  const parts = new Map<string, string>();
  const pending = new Map<string, number>();

  function onDeliverSm(session: Session, pdu: PDU) {
    session.send(pdu.response());
    if (!((pdu.esm_class as number) & 0x04)) return;
    const raw = pdu.short_message as { message?: string } | string | Buffer | undefined;
    const text = typeof raw === "string" ? raw : Buffer.isBuffer(raw) ? raw.toString("latin1") : (raw?.message ?? "");
    const id = (pdu.receipted_message_id as string | undefined) ?? /id:(\S+)/i.exec(text)?.[1];
    const stat = /stat:(\w+)/i.exec(text)?.[1]?.toUpperCase();
    const state = stat ? receiptStates[stat] : undefined;
    if (!id || !state) return;
    const first = parts.get(id) ?? id;
    parts.delete(id);
    if (state === "DELIVERED") {
      const left = (pending.get(first) ?? 1) - 1;
      if (left > 0) {
        pending.set(first, left);
        return;
      }
    }
    pending.delete(first);
    const err = /err:(\w+)/i.exec(text)?.[1];
    options.onReceipt({ providerMessageId: first, status: state, errorCode: state === "UNDELIVERED" ? `${stat}${err ? `:${err}` : ""}` : null });
  }

  function connect(): Promise<Session> {
    return new Promise<Session>((resolve, reject) => {
      const session = smpp.connect({ url: endpoint }, () => {
        session.bind_transceiver(credentials, (pdu) => {
          if (pdu.command_status !== 0) {
            session.close();
            reject(new Error(`SMPP bind refused (status ${pdu.command_status})`));
            return;
          }
          options.logger.info({ endpoint }, "SMPP transceiver bound");
          resolve(session);
        });
      });
      session.on("deliver_sm", (pdu: PDU) => onDeliverSm(session, pdu));
      session.on("enquire_link", (pdu: PDU) => session.send(pdu.response()));
      session.on("unbind", (pdu: PDU) => {
        session.send(pdu.response());
        session.close();
      });
      session.on("error", (error: Error) => {
        options.logger.warn({ endpoint, reason: error.message }, "SMPP connection error");
        reject(error);
      });
      session.on("close", () => {
        bound = null;
        clearInterval(keepAlive);
        reject(new Error("SMPP connection closed"));
        if (!closed) setTimeout(() => void ensure().catch(() => {}), 1000).unref();
      });
    });
  }

  /** The bound session, binding (again) if needed; a failed bind is retried on the next call. */
  function ensure(): Promise<Session> {
    if (closed) return Promise.reject(new Error("SMPP provider closed"));
    if (!bound) {
      bound = connect().then(
        (session) => {
          clearInterval(keepAlive);
          keepAlive = setInterval(() => {
            // A link that does not answer enquire_link within a period is dead: drop it and rebind.
            const timer = setTimeout(() => session.destroy(), options.enquireLinkMs);
            session.enquire_link({}, () => clearTimeout(timer));
          }, options.enquireLinkMs);
          keepAlive.unref();
          return session;
        },
        (error: unknown) => {
          bound = null;
          throw error;
        },
      );
    }
    return bound;
  }

  const submit = (session: Session, fields: Record<string, unknown>) =>
    new Promise<string>((resolve, reject) => {
      session.submit_sm(fields, (pdu) => {
        if (pdu.command_status === 0) resolve(String(pdu.message_id));
        else reject(new Error(`SMPP submit_sm refused (status ${pdu.command_status})`));
      });
    });

  return {
    name: "smpp",
    async send(message) {
      const session = await ensure();
      const encoding = chooseEncoding(message.body);
      const pieces = segments(message.body, encoding);
      const source = address(options.from);
      const destination = address(message.to);
      const reference = randomInt(256);
      let first: string | null = null;
      for (const [i, text] of pieces.entries()) {
        const id = await submit(session, {
          source_addr: source.addr,
          source_addr_ton: source.ton,
          source_addr_npi: source.npi,
          destination_addr: destination.addr,
          dest_addr_ton: destination.ton,
          dest_addr_npi: destination.npi,
          esm_class: 0,
          registered_delivery: 1,
          data_coding: dataCoding(encoding),
          short_message: pieces.length === 1 ? text : { udh: concatUdh(reference, pieces.length, i + 1), message: text },
        });
        // Known as soon as each part is accepted: a part's receipt can overtake the next submit.
        if (first === null) {
          first = id;
          if (pieces.length > 1) pending.set(first, pieces.length);
        } else {
          parts.set(id, first);
        }
      }
      // Receipts that never come must not grow these maps without bound.
      while (parts.size > 10_000) parts.delete(parts.keys().next().value as string);
      while (pending.size > 10_000) pending.delete(pending.keys().next().value as string);
      return { status: "SENT", providerMessageId: first };
    },
    async close() {
      closed = true;
      clearInterval(keepAlive);
      const session = await bound?.catch(() => null);
      if (session) await new Promise<void>((resolve) => session.close(() => resolve()));
    },
  };
}

/** The sender SMS transports use: an E.164 number or an alphanumeric sender id (SMPP and HTTP share it). */
export const smsFrom = z
  .string()
  .regex(/^(\+?\d{3,15}|[A-Za-z0-9 ]{1,11})$/, "must be a number or an alphanumeric sender id of up to 11 characters")
  .optional();

/** SMS over SMPP 3.4: SMPP_URL and SMS_FROM. */
export const smppTransport = transportPlugin({
  name: "smpp",
  channels: { SMS: "SMPP_URL" },
  env: {
    SMPP_URL: z
      .string()
      .regex(/^smpp:\/\/[^:@/]+:[^@/]*@[^:/]+(:\d+)?\/?$/, "must be smpp://system_id:password@host:port")
      .optional(),
    SMS_FROM: smsFrom,
    SMPP_ENQUIRE_LINK_MS: z.coerce.number().int().min(100).max(600_000).default(30_000),
  },
  problems: (env) => requiredWith(env, env.SMPP_URL, "SMS_FROM", "SMPP_URL"),
  options: (env) => (env.SMPP_URL && env.SMS_FROM ? { url: env.SMPP_URL as string, from: env.SMS_FROM as string, enquireLinkMs: env.SMPP_ENQUIRE_LINK_MS as number } : null),
  create: (options, deps) => smppProvider({ ...options, logger: deps.logger, onReceipt: deps.onReceipt }),
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type ParsedMail, simpleParser } from "mailparser";
import smpp, { type PDU, type Session } from "smpp";
import { SMTPServer } from "smtp-server";

/** A real SMTP server on loopback that parses every mail it receives. */
export async function startSmtpServer(options: { user?: string; pass?: string } = {}) {
  const mails: ParsedMail[] = [];
  const waiters: (() => void)[] = [];
  const server = new SMTPServer({
    disabledCommands: ["STARTTLS"],
    authOptional: !options.user,
    onAuth(auth, _session, callback) {
      if (auth.username === options.user && auth.password === options.pass) callback(null, { user: auth.username });
      else callback(new Error("Invalid username or password"));
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then((mail) => {
        mails.push(mail);
        for (const w of waiters.splice(0)) w();
        callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.server.address() as AddressInfo).port;
  return {
    port,
    mails,
    async waitFor(count: number) {
      while (mails.length < count) await new Promise<void>((resolve) => waiters.push(resolve));
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface SubmittedSms {
  session: Session;
  pdu: PDU;
  messageId: string;
  text: string;
  udh: Buffer | null;
}

/** A real SMPP server (the smpp package's) on loopback: checks credentials, records submit_sm, can send receipts. */
export async function startSmppServer(options: { systemId: string; password: string }) {
  const submitted: SubmittedSms[] = [];
  const binds: { systemId: string; ok: boolean }[] = [];
  const sessions: Session[] = [];
  let enquireLinks = 0;
  let next = 1;
  const listeners: (() => void)[] = [];
  const notify = () => {
    for (const l of listeners.splice(0)) l();
  };
  const server = smpp.createServer((session) => {
    sessions.push(session);
    session.on("bind_transceiver", (pdu: PDU) => {
      const ok = pdu.system_id === options.systemId && pdu.password === options.password;
      binds.push({ systemId: String(pdu.system_id), ok });
      session.send(pdu.response({ command_status: ok ? 0 : smpp.ESME_RBINDFAIL }));
      notify();
    });
    session.on("enquire_link", (pdu: PDU) => {
      enquireLinks++;
      session.send(pdu.response());
      notify();
    });
    session.on("submit_sm", (pdu: PDU) => {
      const messageId = `msg-${next++}`;
      const short = pdu.short_message as { message?: string; udh?: Buffer[] | Buffer } | string;
      const text = typeof short === "string" ? short : (short.message ?? "");
      const udh = typeof short === "object" && short.udh ? (Array.isArray(short.udh) ? short.udh[0] : short.udh) : null;
      submitted.push({ session, pdu, messageId, text, udh });
      session.send(pdu.response({ message_id: messageId }));
      notify();
    });
    session.on("unbind", (pdu: PDU) => {
      session.send(pdu.response());
      session.close();
    });
    session.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    submitted,
    binds,
    sessions,
    enquireLinks: () => enquireLinks,
    async until(predicate: () => boolean, ms = 10_000) {
      const end = Date.now() + ms;
      while (!predicate()) {
        if (Date.now() > end) throw new Error("SMPP peer: condition not reached");
        await Promise.race([new Promise<void>((r) => listeners.push(r)), new Promise((r) => setTimeout(r, 50))]);
      }
    },
    /** Sends a delivery receipt for a submitted message, as an SMSC does. */
    receipt(sms: SubmittedSms, stat: string, err = "000") {
      sms.session.deliver_sm({
        source_addr: sms.pdu.destination_addr,
        destination_addr: sms.pdu.source_addr,
        esm_class: 0x04,
        short_message: `id:${sms.messageId} sub:001 dlvrd:${stat === "DELIVRD" ? "001" : "000"} submit date:2611251200 done date:2611251201 stat:${stat} err:${err} text:`,
      });
    },
    /** Drops every connection, as a network failure would. */
    dropAll() {
      for (const s of sessions.splice(0)) s.socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.socket.destroy();
        server.close(() => resolve());
      }),
  };
}

export interface ReceivedRequest {
  path: string;
  headers: IncomingMessage["headers"];
  body: string;
  json: any;
}

/** A real HTTP endpoint standing in for a vendor's API; `respond` decides each answer. */
export async function startHttpPeer(respond: (request: ReceivedRequest, index: number) => { status: number; body?: unknown } | Promise<{ status: number; body?: unknown }>) {
  const requests: ReceivedRequest[] = [];
  const open = new Set<ServerResponse>();
  const server: Server = createServer(async (req, res) => {
    let body = "";
    for await (const chunk of req) body += chunk;
    let json: unknown = null;
    try {
      json = JSON.parse(body);
    } catch {}
    const request = { path: req.url ?? "/", headers: req.headers, body, json };
    requests.push(request);
    open.add(res);
    const answer = await respond(request, requests.length - 1);
    open.delete(res);
    if (res.destroyed) return;
    res.writeHead(answer.status, { "content-type": "application/json" });
    res.end(answer.body === undefined ? "" : JSON.stringify(answer.body));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    async until(count: number, ms = 10_000) {
      const end = Date.now() + ms;
      while (requests.length < count) {
        if (Date.now() > end) throw new Error(`HTTP peer: ${requests.length} of ${count} requests`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of open) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export const HTTP_SECRET = `whsec_${Buffer.from("verigate-test-provider-secret-32b!").toString("base64")}`;

/** HTTP peers a test file starts as it goes and closes after each test. */
export function httpPeers() {
  const open: Awaited<ReturnType<typeof startHttpPeer>>[] = [];
  return {
    async start(respond: Parameters<typeof startHttpPeer>[0]) {
      const peer = await startHttpPeer(respond);
      open.push(peer);
      return peer;
    },
    async closeAll() {
      await Promise.all(open.splice(0).map((p) => p.close()));
    },
  };
}

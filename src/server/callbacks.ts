import type { IncomingMessage, ServerResponse } from "node:http";
import type { CallScript } from "../channels/call/script.js";
import { messageInput, openSecret } from "../channels/compose.js";
import type { Keyring } from "../domain/crypto.js";
import { verifySigned } from "../providers/http/signing.js";
import type { VerificationFlow } from "../domain/verification/flow.js";
import type { ReceiptRecorder } from "../workers/receipts.js";
import type { Store } from "../store/port.js";
import { BodyTooLarge, readBody } from "./body.js";

export interface CallbackDeps {
  store: Store;
  keys: Keyring;
  callScript: CallScript;
  receipts: ReceiptRecorder;
  httpProviderSecret: string | null;
  verifications: VerificationFlow;
}

/** A callback's body as text: provider callbacks are small, so their cap is lower than the API's. */
async function readText(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  const body = await readBody(req, limit);
  if (!body) throw new BodyTooLarge(limit);
  return body.toString("utf8");
}

const reply = (res: ServerResponse, status: number, type: string, body: string) => {
  res.writeHead(status, { "content-type": type });
  res.end(body);
};

/**
 * Endpoints that transports call back: the voice script (TwiML / SSML, signed URLs) and the generic
 * HTTP provider's delivery-status callback (Standard Webhooks signature). Answers true when it handled.
 */
export function callbackRoutes(deps: CallbackDeps) {
  async function voice(req: IncomingMessage, res: ServerResponse, url: URL, [, , attemptSid, action]: string[]) {
    if (!deps.callScript.verify(url)) return reply(res, 403, "text/plain", "bad signature");
    const context = await deps.store.deliveryContext(attemptSid);
    const secret = context && context.status === "PENDING" ? openSecret(deps.keys, context) : null;
    if (!context || !secret) {
      return action === "ssml" ? reply(res, 410, "text/plain", "gone") : reply(res, 200, "text/xml", deps.callScript.hangup());
    }
    const input = messageInput(context, secret);
    const call = { ...input, attemptSid, dtmfRequired: context.service.dtmfInputRequired };
    if (action === "ssml") return reply(res, 200, "application/ssml+xml", deps.callScript.ssml(call));
    if (action === "answer") return reply(res, 200, "text/xml", deps.callScript.answer(call));
    if (action === "gather") {
      const body = req.method === "POST" ? await readText(req) : "";
      const form = req.headers["content-type"]?.includes("json") ? new URLSearchParams(JSON.parse(body || "{}")) : new URLSearchParams(body);
      const round = Number(url.searchParams.get("round") ?? "1");
      return reply(res, 200, "text/xml", deps.callScript.gather(call, round, form.get("Digits") ?? ""));
    }
    return reply(res, 404, "text/plain", "not found");
  }

  async function httpStatus(req: IncomingMessage, res: ServerResponse) {
    if (req.method !== "POST" || !deps.httpProviderSecret) return reply(res, 404, "text/plain", "not found");
    const body = await readText(req);
    try {
      verifySigned(deps.httpProviderSecret, body, req.headers as Record<string, string>);
    } catch {
      return reply(res, 401, "text/plain", "bad signature");
    }
    const update = JSON.parse(body) as { messageId?: unknown; status?: unknown; errorCode?: unknown };
    const status = update.status === "delivered" ? "DELIVERED" : update.status === "undelivered" || update.status === "failed" ? "UNDELIVERED" : null;
    if (typeof update.messageId !== "string" || !status) return reply(res, 400, "text/plain", "expected { messageId, status: delivered | undelivered | failed }");
    deps.receipts.record({ providerMessageId: update.messageId, status, errorCode: typeof update.errorCode === "string" ? update.errorCode : null });
    res.writeHead(204).end();
  }

  return async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> => {
    const segments = url.pathname.split("/");
    if (segments[1] === "voice" && /^VL[0-9a-f]{32}$/.test(segments[2] ?? "")) {
      await voice(req, res, url, segments);
      return true;
    }
    if (segments[1] === "sna" && segments.length === 3 && (req.method === "GET" || req.method === "POST")) {
      // The device opens its SNA URL over mobile data; the carrier identifies the session's number.
      const result = await deps.verifications.openSna(segments[2], { ip: req.socket.remoteAddress ?? "", headers: req.headers });
      reply(res, result.status, "application/json", JSON.stringify(result.body));
      return true;
    }
    if (url.pathname === "/providers/http/status") {
      await httpStatus(req, res);
      return true;
    }
    return false;
  };
}

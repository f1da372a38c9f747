import type { OutboxMessage } from "../domain/types.js";
import { authorize } from "../domain/access/rules.js";
import { builder } from "./builder.js";
import { pageSize } from "./connection.js";
import { AttemptChannelEnum } from "./verification.js";

const OutboxMessageRef = builder.objectRef<OutboxMessage>("OutboxMessage").implement({
  description: "A message the dev outbox delivered instead of a real transport",
  fields: (t) => ({
    to: t.exposeString("to", { description: "The recipient: an E.164 number or an email address" }),
    channel: t.field({ type: AttemptChannelEnum, description: "The channel the message would have taken", resolve: (m) => m.channel }),
    body: t.exposeString("body", { description: "The text as a real transport would have sent it" }),
    code: t.exposeString("code", { nullable: true, description: "The code the message carries; null when it carries none" }),
    verificationSid: t.exposeID("verificationSid", { nullable: true, description: "The verification (VE…) the message belongs to, if any" }),
    attemptSid: t.exposeID("attemptSid", { nullable: true, description: "The send attempt (VL…) that produced it, if any" }),
    createdAt: t.field({ type: "DateTime", description: "When the dev outbox received it", resolve: (m) => m.createdAt }),
  }),
});

builder.queryFields((t) => ({
  devOutbox: t.field({
    type: [OutboxMessageRef],
    description:
      "Messages the dev outbox delivered, newest first. Admin key only (others: FORBIDDEN); exists only while the dev outbox delivers (never with NODE_ENV=production). Errors: INVALID_PARAMETER (first).",
    args: {
      to: t.arg.string({ description: "Only messages to this recipient (as stored: E.164 or the address)" }),
      first: t.arg.int({ description: "How many, 1–100 (default 20); else INVALID_PARAMETER (field `first`)" }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      authorize(principal, "devOutbox");
      return gateway.records.devMessages(args.to ?? null, pageSize(args.first));
    },
  }),
}));

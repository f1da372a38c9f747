import type { OutboxMessage } from "../domain/types.js";
import { requireAdmin } from "../server/auth.js";
import { builder } from "./builder.js";
import { pageSize } from "./connection.js";
import { AttemptChannelEnum } from "./verification.js";

const OutboxMessageRef = builder.objectRef<OutboxMessage>("OutboxMessage").implement({
  description: "A message the dev outbox delivered instead of a real transport",
  fields: (t) => ({
    to: t.exposeString("to"),
    channel: t.field({ type: AttemptChannelEnum, resolve: (m) => m.channel }),
    body: t.exposeString("body"),
    code: t.exposeString("code", { nullable: true }),
    verificationSid: t.exposeID("verificationSid", { nullable: true }),
    attemptSid: t.exposeID("attemptSid", { nullable: true }),
    createdAt: t.field({ type: "DateTime", resolve: (m) => m.createdAt }),
  }),
});

builder.queryFields((t) => ({
  devOutbox: t.field({
    type: [OutboxMessageRef],
    description: "Messages the dev outbox delivered, newest first (admin only; absent in production)",
    args: { to: t.arg.string(), first: t.arg.int() },
    resolve: async (_, args, { principal, gateway }) => {
      requireAdmin(principal);
      return gateway.store.listDevMessages(args.to ?? null, pageSize(args.first));
    },
  }),
}));

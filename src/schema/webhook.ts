import { notFound } from "../domain/errors.js";
import { type Webhook, type WebhookDelivery, webhookDeliveryStatuses } from "../domain/types.js";
import { requireServiceAccess, serviceScope } from "../server/auth.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize } from "./connection.js";

const WebhookRef = builder.objectRef<Webhook>("Webhook").implement({
  description: "Where a service's events are POSTed, signed per Standard Webhooks; the secret is shown once, by createWebhook",
  fields: (t) => ({
    id: t.exposeID("sid"),
    sid: t.exposeID("sid"),
    serviceSid: t.exposeID("serviceSid"),
    url: t.exposeString("url"),
    eventTypes: t.exposeStringList("eventTypes", { description: 'e.g. "verification.*", "delivery.*", "factor.*", "challenge.*", "fraud_guard.*", "verification.approved", "*"' }),
    enabled: t.exposeBoolean("enabled"),
    dateCreated: t.field({ type: "DateTime", resolve: (w) => w.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", resolve: (w) => w.dateUpdated }),
  }),
});

const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", { values: webhookDeliveryStatuses });
const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>("WebhookDelivery").implement({
  description: "One event sent to one webhook: retried with backoff until a 2xx, FAILED after the last try",
  fields: (t) => ({
    webhookSid: t.exposeID("webhookSid"),
    eventSid: t.exposeID("eventSid", { description: "Also the webhook-id header: the same on every retry" }),
    eventType: t.exposeString("eventType"),
    status: t.field({ type: WebhookDeliveryStatusEnum, resolve: (d) => d.status }),
    attempts: t.exposeInt("attempts"),
    lastStatusCode: t.exposeInt("lastStatusCode", { nullable: true }),
    lastError: t.exposeString("lastError", { nullable: true }),
    dateCreated: t.field({ type: "DateTime", resolve: (d) => d.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", resolve: (d) => d.dateUpdated }),
    deliveredAt: t.field({ type: "DateTime", nullable: true, resolve: (d) => d.deliveredAt }),
  }),
});
const WebhookDeliveryConnection = connection("WebhookDelivery", WebhookDeliveryRef);

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  fields: (t) => ({
    serviceSid: t.id({ required: true }),
    url: t.string({ required: true }),
    eventTypes: t.stringList({ required: true }),
    enabled: t.boolean({ description: "default true" }),
  }),
});
const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  fields: (t) => ({ sid: t.id({ required: true }), url: t.string(), eventTypes: t.stringList(), enabled: t.boolean() }),
});
const CreateWebhookPayload = builder.objectRef<{ webhook: Webhook; secret: string }>("CreateWebhookPayload").implement({
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, resolve: (p) => p.webhook }),
    secret: t.exposeString("secret", { description: "The signing secret (whsec_…); shown only in this response" }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: [WebhookRef],
    description: "A service's webhooks (at most 10)",
    args: { serviceSid: t.arg.id({ required: true }) },
    resolve: async (_, { serviceSid }, { principal, gateway }) =>
      requireServiceAccess(principal, serviceSid) === "in-scope" ? gateway.store.listWebhooks(serviceSid) : [],
  }),
  webhookDeliveries: t.field({
    type: WebhookDeliveryConnection,
    description: "A webhook's delivery history, newest first",
    args: { webhookSid: t.arg.id({ required: true }), status: t.arg({ type: WebhookDeliveryStatusEnum }), first: t.arg.int(), after: t.arg.string() },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      requireServiceAccess(principal, null);
      const webhook = await gateway.webhooks.get(args.webhookSid);
      if (!webhook || requireServiceAccess(principal, webhook.serviceSid) === "out-of-scope") return emptyPage<WebhookDelivery>();
      return gateway.store.listWebhookDeliveries(webhook.sid, args.status ?? null, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (requireServiceAccess(principal, input.serviceSid) === "out-of-scope") throw notFound("Service");
      return gateway.webhooks.create(input);
    },
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    args: { input: t.arg({ type: UpdateWebhookInput, required: true }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      const { sid, ...patch } = input;
      return gateway.webhooks.update(sid, patch, serviceScope(principal));
    },
  }),
  deleteWebhook: t.field({
    type: WebhookRef,
    description: "Deletes a webhook; its pending deliveries are CANCELED",
    args: { sid: t.arg.id({ required: true }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      requireServiceAccess(principal, null);
      return gateway.webhooks.delete(sid, serviceScope(principal));
    },
  }),
}));

import { notFound } from "../domain/errors.js";
import type { Webhook, WebhookDelivery } from "../domain/types.js";
import { webhookDeliveryStatuses } from "../domain/types.js";
import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageOfList, pageSize, pagingArgs } from "./connection.js";
import { describedValues } from "./describe.js";

const WebhookFormatEnum = builder.enumType("WebhookFormat", {
  description: "What a webhook's requests look like",
  values: {
    STANDARD: { value: "standard" as const, description: "Standard Webhooks: a JSON body signed in the webhook-id, webhook-timestamp and webhook-signature headers (the default)" },
    TWILIO: {
      value: "twilio" as const,
      description:
        "Twilio's Verify webhooks: a form (uuid, type, account_sid, service_sid, factor_*, challenge_*, verification_*) signed in X-Twilio-Signature; twilio.validateRequest checks it with the webhook's secret as the auth token",
    },
  },
});

const WebhookRef = builder.objectRef<Webhook>("Webhook").implement({
  description: "Where a service's events are POSTed, signed per Standard Webhooks (or Twilio's format); the secret is shown once, by createWebhook",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The webhook sid (WH…), as `sid`" }),
    sid: t.exposeID("sid", { description: "WH followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) whose events it receives" }),
    url: t.exposeString("url", { description: "Where events are POSTed (http or https)" }),
    friendlyName: t.exposeString("friendlyName", { nullable: true, description: "A name for people (Twilio's FriendlyName); null when none was given" }),
    eventTypes: t.exposeStringList("eventTypes", { description: 'e.g. "verification.*", "delivery.*", "factor.*", "challenge.*", "fraud_guard.*", "verification.approved", "*"' }),
    enabled: t.exposeBoolean("enabled", { description: "A disabled webhook receives nothing until enabled again" }),
    format: t.field({ type: WebhookFormatEnum, description: "STANDARD (Standard Webhooks) or TWILIO (Twilio's form and X-Twilio-Signature)", resolve: (w) => w.format }),
    dateCreated: t.field({ type: "DateTime", description: "When it was created", resolve: (w) => w.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", description: "When it last changed", resolve: (w) => w.dateUpdated }),
  }),
});
const WebhookConnection = connection("Webhook", WebhookRef);

const WebhookDeliveryStatusEnum = builder.enumType("WebhookDeliveryStatus", {
  description: "Where one webhook delivery stands",
  values: describedValues(webhookDeliveryStatuses, {
    PENDING: "Waiting for its first try or a retry",
    DELIVERED: "The receiver answered 2xx",
    FAILED: "Every try failed (WEBHOOK_MAX_TRIES)",
    CANCELED: "Its webhook was deleted (or disabled) before it was delivered",
  }),
});
const WebhookDeliveryRef = builder.objectRef<WebhookDelivery>("WebhookDelivery").implement({
  description: "One event sent to one webhook: retried with backoff until a 2xx, FAILED after the last try",
  fields: (t) => ({
    id: t.id({ description: "The delivery's id (retryWebhookDelivery takes it)", resolve: (d) => String(d.id) }),
    webhookSid: t.exposeID("webhookSid", { description: "The webhook (WH…)" }),
    eventSid: t.exposeID("eventSid", { description: "Also the webhook-id header: the same on every retry" }),
    eventType: t.exposeString("eventType", { description: "e.g. verification.approved" }),
    status: t.field({ type: WebhookDeliveryStatusEnum, description: "PENDING until delivered, failed or canceled", resolve: (d) => d.status }),
    attempts: t.exposeInt("attempts", { description: "Tries so far" }),
    lastStatusCode: t.exposeInt("lastStatusCode", { nullable: true, description: "The HTTP status of the last try; null when it got no answer" }),
    lastError: t.exposeString("lastError", { nullable: true, description: "Why the last try failed (timeout, refused address, HTTP status …)" }),
    dateCreated: t.field({ type: "DateTime", description: "When the event was queued for this webhook", resolve: (d) => d.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", description: "When it last changed (the last try)", resolve: (d) => d.dateUpdated }),
    deliveredAt: t.field({ type: "DateTime", nullable: true, description: "When the receiver answered 2xx; null until then", resolve: (d) => d.deliveredAt }),
  }),
});
const WebhookDeliveryConnection = connection("WebhookDelivery", WebhookDeliveryRef);

const CreateWebhookInput = builder.inputType("CreateWebhookInput", {
  description: "A new webhook for a service (at most 10 a service)",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    url: t.string({ required: true, description: "An http(s) URL without credentials, at most 2048 characters; internal addresses refused unless WEBHOOK_PRIVATE_NETWORKS=allow" }),
    friendlyName: t.string({ description: "A name for people, 1–64 characters (Twilio's FriendlyName)" }),
    eventTypes: t.stringList({
      required: true,
      description: '1–50 of "*", "verification.*", "delivery.*", "factor.*", "challenge.*", "fraud_guard.*" or one exact type such as "verification.approved"',
    }),
    enabled: t.boolean({ description: "default true" }),
    format: t.field({ type: WebhookFormatEnum, description: "default STANDARD; TWILIO sends Twilio's form signed with the returned secret (X-Twilio-Signature)" }),
  }),
});
const UpdateWebhookInput = builder.inputType("UpdateWebhookInput", {
  description: "A webhook's changes; a field left out keeps its value",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The webhook (WH…)" }),
    url: t.string({ description: "A new http(s) URL (same rules as createWebhook)" }),
    friendlyName: t.string({ description: "A new name, 1–64 characters" }),
    eventTypes: t.stringList({ description: "Replaces the event types (same rules as createWebhook)" }),
    enabled: t.boolean({ description: "false pauses it" }),
    format: t.field({ type: WebhookFormatEnum, description: "A new format; the secret stays the same" }),
  }),
});
const CreateWebhookPayload = builder.objectRef<{ webhook: Webhook; secret: string }>("CreateWebhookPayload").implement({
  description: "A new webhook and its signing secret, shown once",
  fields: (t) => ({
    webhook: t.field({ type: WebhookRef, description: "The webhook", resolve: (p) => p.webhook }),
    secret: t.exposeString("secret", { description: "The signing secret (whsec_…); shown only in this response" }),
  }),
});

builder.queryFields((t) => ({
  webhooks: t.field({
    type: WebhookConnection,
    description:
      "A service's webhooks (at most 10), oldest first; empty when out of scope. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const list = inScope(authorize(principal, "webhooks"), args.serviceSid) ? await gateway.records.webhooks(args.serviceSid) : [];
      return pageOfList(list, pageSize(args.first), args.after ?? null);
    },
  }),
  webhookDeliveries: t.field({
    type: WebhookDeliveryConnection,
    description:
      "A webhook's delivery history, newest first; empty when unknown or out of scope. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      webhookSid: t.arg.id({ required: true, description: "The webhook (WH…)" }),
      status: t.arg({ type: WebhookDeliveryStatusEnum, description: "Only deliveries in this status" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      const p = authorize(principal, "webhookDeliveries");
      const webhook = await gateway.webhooks.get(args.webhookSid);
      if (!webhook || !inScope(p, webhook.serviceSid)) return emptyPage<WebhookDelivery>();
      return gateway.records.webhookDeliveries(webhook.sid, args.status ?? null, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: CreateWebhookPayload,
    description:
      "Creates a webhook; the signing secret (whsec_…) is shown only in this answer. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER (url, eventTypes; serviceSid when it has 10 already).",
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: "The service, URL and event types" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "createWebhook"), input.serviceSid)) throw notFound("Service");
      return gateway.webhooks.create(input);
    },
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    description: "Changes a webhook's URL, event types or enabled flag. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER.",
    args: { input: t.arg({ type: UpdateWebhookInput, required: true, description: "The webhook and its changes" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const { sid, ...patch } = input;
      return gateway.webhooks.update(sid, patch, serviceScope(authorize(principal, "updateWebhook")));
    },
  }),
  deleteWebhook: t.field({
    type: WebhookRef,
    description: "Deletes a webhook; its pending deliveries are CANCELED. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The webhook (WH…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => {
      return gateway.webhooks.delete(sid, serviceScope(authorize(principal, "deleteWebhook")));
    },
  }),
  testWebhook: t.field({
    type: WebhookDeliveryRef,
    description:
      "Queues a delivery of a synthetic `webhook.test` event (data: the webhook's sid, serviceSid, url and test: true) to this one webhook, whatever its event types; its delivery history shows how it went. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER (sid: the webhook is disabled).",
    args: { sid: t.arg.id({ required: true, description: "The webhook (WH…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => gateway.webhooks.test(sid, serviceScope(authorize(principal, "testWebhook"))),
  }),
  retryWebhookDelivery: t.field({
    type: WebhookDeliveryRef,
    description:
      "Queues a FAILED delivery again: it is PENDING and tried afresh (WEBHOOK_MAX_TRIES more tries, the same event and webhook-id). Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER (id: the delivery is not FAILED).",
    args: { id: t.arg.id({ required: true, description: "The delivery (WebhookDelivery.id)" }) },
    resolve: async (_, { id }, { principal, gateway }) => gateway.webhooks.retry(String(id), serviceScope(authorize(principal, "retryWebhookDelivery"))),
  }),
}));

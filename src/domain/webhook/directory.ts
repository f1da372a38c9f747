import { randomBytes } from "node:crypto";
import { z } from "zod";
import type { WebhookStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { type Keyring, seal } from "../crypto.js";
import { VerifyError, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import { type Webhook, type WebhookDelivery, webhookFormats } from "../types.js";
import { webhookRetry } from "./delivery.js";
import { parseInput } from "../validation.js";
import { literalInternalHost } from "../policy/addresses.js";

/** Families a webhook may subscribe to, each as `family.*` or one exact type (`verification.approved`). */
export const webhookEventFamilies = ["verification", "delivery", "factor", "challenge", "fraud_guard"] as const;
const eventType = new RegExp(`^(\\*|(${webhookEventFamilies.join("|")})\\.(\\*|[a-z_]{1,40}))$`);
export const MAX_WEBHOOKS_PER_SERVICE = 10;

const url = z
  .string()
  .max(2048)
  .refine((value) => {
    try {
      const parsed = new URL(value);
      return (parsed.protocol === "https:" || parsed.protocol === "http:") && !parsed.username && !parsed.password;
    } catch {
      return false;
    }
  }, "must be an http(s) URL without credentials");
const eventTypes = z
  .array(z.string().regex(eventType, `must be "*", or ${webhookEventFamilies.map((f) => `${f}.*`).join(", ")} or one exact type such as verification.approved`))
  .min(1, "needs at least one event type")
  .max(50)
  .transform((list) => [...new Set(list)]);

const format = z.enum(webhookFormats);
const friendlyName = z.string().trim().min(1, "must not be empty").max(64, "at most 64 characters");
const createInput = z.object({ serviceSid: z.string(), url, friendlyName: friendlyName.nullish(), eventTypes, enabled: z.boolean().nullish(), format: format.nullish() });
const updateInput = z.object({ url: url.nullish(), friendlyName: friendlyName.nullish(), eventTypes: eventTypes.nullish(), enabled: z.boolean().nullish(), format: format.nullish() });
/** A signing key the caller brings (Twilio's: the auth token a receiver passes to validateRequest). */
const signingKey = z.string().min(16).max(512);

/** A service's webhooks. The signing secret is generated here, shown once, and stored sealed. */
export class WebhookDirectory {
  constructor(private readonly deps: { store: WebhookStore; clock: Clock; keys: Keyring; services: { require(sid: string): Promise<unknown> }; allowInternal: boolean }) {}

  /** An address that is internal on its face is refused now; names are checked again at every delivery. */
  private checkDestination(url: string | null | undefined): void {
    if (url && !this.deps.allowInternal && literalInternalHost(url)) {
      throw new VerifyError("INVALID_PARAMETER", "Invalid parameter `url`: webhooks may not go to loopback, private or link-local addresses here (WEBHOOK_PRIVATE_NETWORKS=allow permits it).", {
        field: "url",
      });
    }
  }

  /**
   * A new webhook, signed with a generated secret, or with `signingKey` when the caller brings one (the
   * REST API signs a Twilio-format webhook with the secret its creator authenticated with, as Twilio signs
   * with the account's auth token).
   */
  async create(raw: unknown, options: { signingKey?: string } = {}): Promise<{ webhook: Webhook; secret: string }> {
    const input = parseInput(createInput, raw);
    const given = options.signingKey === undefined ? undefined : parseInput(z.object({ signingKey }), { signingKey: options.signingKey }).signingKey;
    this.checkDestination(input.url);
    await this.deps.services.require(input.serviceSid);
    if ((await this.deps.store.listWebhooks(input.serviceSid)).length >= MAX_WEBHOOKS_PER_SERVICE) {
      throw new VerifyError("INVALID_PARAMETER", `Invalid parameter \`serviceSid\`: a service has at most ${MAX_WEBHOOKS_PER_SERVICE} webhooks.`, { field: "serviceSid" });
    }
    const now = this.deps.clock.now();
    const webhook: Webhook = {
      sid: newSid("WH"),
      serviceSid: input.serviceSid,
      url: input.url,
      friendlyName: input.friendlyName ?? null,
      eventTypes: input.eventTypes,
      enabled: input.enabled ?? true,
      format: input.format ?? "standard",
      dateCreated: now,
      dateUpdated: now,
    };
    // Standard Webhooks secrets: whsec_ + base64 of 24 random bytes.
    const secret = given ?? `whsec_${randomBytes(24).toString("base64")}`;
    await this.deps.store.createWebhook(webhook, seal(this.deps.keys, secret, webhook.sid));
    return { webhook, secret };
  }

  async update(sid: string, raw: unknown, serviceScope: string | null): Promise<Webhook> {
    const input = parseInput(updateInput, raw);
    this.checkDestination(input.url);
    const patch = {
      ...(input.url != null ? { url: input.url } : {}),
      ...(input.friendlyName != null ? { friendlyName: input.friendlyName } : {}),
      ...(input.eventTypes != null ? { eventTypes: input.eventTypes } : {}),
      ...(input.enabled != null ? { enabled: input.enabled } : {}),
      ...(input.format != null ? { format: input.format } : {}),
    };
    const updated = isSid(sid, "WH") ? await this.deps.store.updateWebhook(sid, serviceScope, patch, this.deps.clock.now()) : null;
    if (!updated) throw notFound("Webhook");
    return updated.webhook;
  }

  async delete(sid: string, serviceScope: string | null): Promise<Webhook> {
    const deleted = isSid(sid, "WH") ? await this.deps.store.deleteWebhook(sid, serviceScope, this.deps.clock.now()) : null;
    if (!deleted) throw notFound("Webhook");
    return deleted.webhook;
  }

  /** testWebhook: a synthetic webhook.test event queued to this webhook only (a disabled one is refused). */
  async test(sid: string, serviceScope: string | null): Promise<WebhookDelivery> {
    const webhook = isSid(sid, "WH") ? await this.deps.store.getWebhook(sid) : null;
    if (!webhook || (serviceScope !== null && webhook.serviceSid !== serviceScope)) throw notFound("Webhook");
    if (!webhook.enabled) throw new VerifyError("INVALID_PARAMETER", "Invalid parameter `sid`: the webhook is disabled; enable it before sending a test.", { field: "sid" });
    const queued = await this.deps.store.testWebhook(sid, serviceScope, this.deps.clock.now());
    if (!queued) throw notFound("Webhook");
    return queued.delivery;
  }

  /** retryWebhookDelivery: a FAILED delivery is queued again; any other status is INVALID_PARAMETER. */
  async retry(id: string, serviceScope: string | null): Promise<WebhookDelivery> {
    const seq = /^[1-9][0-9]{0,15}$/.test(id) ? Number(id) : null;
    const result = seq !== null && Number.isSafeInteger(seq) ? await this.deps.store.retryWebhookDelivery(seq, serviceScope, this.deps.clock.now()) : null;
    if (!result) throw notFound("Webhook delivery");
    if (!result.retried) {
      throw new VerifyError("INVALID_PARAMETER", `Invalid parameter \`id\`: only a ${webhookRetry.from} delivery can be retried; this one is ${result.delivery.status}.`, { field: "id" });
    }
    return result.delivery;
  }

  async get(sid: string): Promise<Webhook | null> {
    return isSid(sid, "WH") ? this.deps.store.getWebhook(sid) : null;
  }
}

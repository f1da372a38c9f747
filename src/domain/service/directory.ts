import type { ServiceStore, TemplateStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { hashApiKey } from "../crypto.js";
import { invalidParameter, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import type { ApiKey, MessagingConfiguration, NamedRateLimit, NamedRateLimitBucket, Service, ServiceSettings } from "../types.js";
import { parseInput } from "../validation.js";
import { createServiceInput, mergeNested, mergePasskeys, mergeRateLimits, serviceDefaults, updateServiceInput } from "./settings.js";
import { addMessagingConfiguration, removeMessagingConfiguration, updateMessagingConfiguration } from "./messaging.js";
import { addBucket, addRateLimit, removeBucket, removeRateLimit, updateBucket, updateRateLimit } from "./rate-limits.js";
import { randomBytes } from "node:crypto";
import { z } from "zod";

const apiKeyName = z.object({ name: z.string().trim().min(1).max(64).default("default") });

export interface ServiceDirectoryDeps {
  store: ServiceStore & Pick<TemplateStore, "getTemplate">;
  clock: Clock;
}

/** Services and their API keys. */
export class ServiceDirectory {
  constructor(private readonly deps: ServiceDirectoryDeps) {}

  async create(input: unknown): Promise<Service> {
    const settings = parseInput(createServiceInput, input);
    if ((input as { defaultTemplateSid?: unknown } | null)?.defaultTemplateSid) {
      throw invalidParameter("defaultTemplateSid", "Invalid parameter `defaultTemplateSid`: a new service has no templates yet; set it with an update.");
    }
    const now = this.deps.clock.now();
    const defaults = serviceDefaults();
    const passkeys = mergePasskeys(defaults.passkeys, settings.passkeys);
    const totp = mergeNested(defaults.totp, defaults.totp, settings.totp);
    const rateLimits = mergeRateLimits(defaults.rateLimits, settings.rateLimits, now);
    const service: Service = { ...defaults, ...settings, passkeys, totp, rateLimits, sid: newSid("VA"), dateCreated: now, dateUpdated: now };
    await this.deps.store.createService(service);
    return service;
  }

  async update(sid: string, input: unknown): Promise<Service> {
    const { passkeys: passkeysPatch, totp: totpPatch, rateLimits: rateLimitsPatch, ...patch } = parseInput(updateServiceInput, input);
    if (patch.defaultTemplateSid) {
      const template = await this.deps.store.getTemplate(patch.defaultTemplateSid);
      if (!template || template.serviceSid !== sid)
        throw invalidParameter("defaultTemplateSid", `Invalid parameter \`defaultTemplateSid\`: ${patch.defaultTemplateSid} is not a template of this service.`);
    }
    // Nested settings merge onto the service as it is inside the write (its row locked on PostgreSQL): two
    // updates at once, on two instances, both land.
    const now = this.deps.clock.now();
    const merged = (current: Service): Partial<ServiceSettings> => ({
      ...patch,
      ...(passkeysPatch ? { passkeys: mergePasskeys(current.passkeys, passkeysPatch) } : {}),
      ...(totpPatch ? { totp: mergeNested(current.totp, serviceDefaults().totp, totpPatch) } : {}),
      ...(rateLimitsPatch ? { rateLimits: mergeRateLimits(current.rateLimits, rateLimitsPatch, now) } : {}),
    });
    const updated = isSid(sid, "VA") ? await this.deps.store.updateService(sid, merged, now) : null;
    if (!updated) throw notFound("Service");
    return updated.service;
  }

  /**
   * Deletes a service: its keys stop working at once (on every instance: the `service.deleted` event drops
   * cached copies), its webhooks, templates, factors and pending verifications go; its history stays.
   */
  async delete(sid: string): Promise<Service> {
    const deleted = isSid(sid, "VA") ? await this.deps.store.deleteService(sid, this.deps.clock.now()) : null;
    if (!deleted) throw notFound("Service");
    return deleted.service;
  }

  /**
   * One change to a service's settings, built from the service as it is inside the write (its row locked
   * on PostgreSQL), so parallel changes to one list all land; `change` may refuse by throwing.
   */
  private async edit<T>(sid: string, change: (current: Service, now: number) => { patch: Partial<ServiceSettings>; result: T }): Promise<T> {
    const now = this.deps.clock.now();
    let outcome: { result: T } | null = null;
    const updated = isSid(sid, "VA")
      ? await this.deps.store.updateService(
          sid,
          (current) => {
            const { patch, result } = change(current, now);
            outcome = { result };
            return patch;
          },
          now,
        )
      : null;
    if (!updated || !outcome) throw notFound("Service");
    return (outcome as { result: T }).result;
  }

  private editNamed<T>(sid: string, change: (named: NamedRateLimit[], now: number) => { named: NamedRateLimit[]; result: T }): Promise<T> {
    return this.edit(sid, (current, now) => {
      const { named, result } = change(current.rateLimits.named, now);
      return { patch: { rateLimits: { ...current.rateLimits, named } }, result };
    });
  }

  // --- programmable rate limits and their buckets, one at a time (Twilio's RateLimits and Buckets) ------
  createRateLimit(serviceSid: string, input: { uniqueName: string; description?: string | null }): Promise<NamedRateLimit> {
    return this.editNamed(serviceSid, (named, now) => {
      const { named: next, limit } = addRateLimit(named, input, now);
      return { named: next, result: limit };
    });
  }

  updateRateLimit(serviceSid: string, sid: string, input: { description?: string | null }): Promise<NamedRateLimit> {
    return this.editNamed(serviceSid, (named, now) => {
      const { named: next, limit } = updateRateLimit(named, sid, input, now);
      return { named: next, result: limit };
    });
  }

  deleteRateLimit(serviceSid: string, sid: string): Promise<void> {
    return this.editNamed(serviceSid, (named) => ({ named: removeRateLimit(named, sid), result: undefined }));
  }

  createBucket(serviceSid: string, rateLimitSid: string, input: { max: number; interval: number }): Promise<NamedRateLimitBucket> {
    return this.editNamed(serviceSid, (named, now) => {
      const { named: next, bucket } = addBucket(named, rateLimitSid, input, now);
      return { named: next, result: bucket };
    });
  }

  updateBucket(serviceSid: string, rateLimitSid: string, sid: string, input: { max?: number; interval?: number }): Promise<NamedRateLimitBucket> {
    return this.editNamed(serviceSid, (named, now) => {
      const { named: next, bucket } = updateBucket(named, rateLimitSid, sid, input, now);
      return { named: next, result: bucket };
    });
  }

  deleteBucket(serviceSid: string, rateLimitSid: string, sid: string): Promise<void> {
    return this.editNamed(serviceSid, (named, now) => ({ named: removeBucket(named, rateLimitSid, sid, now), result: undefined }));
  }

  // --- messaging configurations (Twilio's MessagingConfigurations): stored and answered ----------------
  createMessagingConfiguration(serviceSid: string, input: { country: string; messagingServiceSid: string }): Promise<MessagingConfiguration> {
    return this.edit(serviceSid, (current, now) => {
      const { list, configuration } = addMessagingConfiguration(current.messagingConfigurations, input, now);
      return { patch: { messagingConfigurations: list }, result: configuration };
    });
  }

  updateMessagingConfiguration(serviceSid: string, country: string, input: { messagingServiceSid: string }): Promise<MessagingConfiguration> {
    return this.edit(serviceSid, (current, now) => {
      const { list, configuration } = updateMessagingConfiguration(current.messagingConfigurations, country, input, now);
      return { patch: { messagingConfigurations: list }, result: configuration };
    });
  }

  deleteMessagingConfiguration(serviceSid: string, country: string): Promise<void> {
    return this.edit(serviceSid, (current) => ({ patch: { messagingConfigurations: removeMessagingConfiguration(current.messagingConfigurations, country) }, result: undefined }));
  }

  /** Unknown and malformed sids look the same: null. */
  async get(sid: string): Promise<Service | null> {
    return isSid(sid, "VA") ? this.deps.store.getService(sid) : null;
  }

  async require(sid: string): Promise<Service> {
    const service = await this.get(sid);
    if (!service) throw notFound("Service");
    return service;
  }

  /** The key is returned once, here; only its hash is stored. */
  async createApiKey(serviceSid: string, input: { name?: string | null }): Promise<{ key: string; apiKey: ApiKey }> {
    await this.require(serviceSid);
    const { name } = parseInput(apiKeyName, { name: input.name ?? undefined });
    const key = `vgk_${randomBytes(32).toString("base64url")}`;
    const apiKey: ApiKey = { sid: newSid("SK"), serviceSid, name, dateCreated: this.deps.clock.now(), revokedAt: null };
    await this.deps.store.createApiKey(apiKey, hashApiKey(key));
    return { key, apiKey };
  }

  async revokeApiKey(sid: string, serviceScope: string | null): Promise<ApiKey> {
    const revoked = isSid(sid, "SK") ? await this.deps.store.revokeApiKey(sid, serviceScope, this.deps.clock.now()) : null;
    if (!revoked) throw notFound("API key");
    return revoked.apiKey;
  }
}

import type { ServiceStore, TemplateStore } from "../ports/index.js";
import type { Clock } from "../clock.js";
import { hashApiKey } from "../crypto.js";
import { invalidParameter, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import type { ApiKey, Service, ServiceSettings } from "../types.js";
import { parseInput } from "../validation.js";
import { createServiceInput, mergeNested, mergePasskeys, mergeRateLimits, serviceDefaults, updateServiceInput } from "./settings.js";
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
    const rateLimits = mergeRateLimits(defaults.rateLimits, settings.rateLimits);
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
    const merged = (current: Service): Partial<ServiceSettings> => ({
      ...patch,
      ...(passkeysPatch ? { passkeys: mergePasskeys(current.passkeys, passkeysPatch) } : {}),
      ...(totpPatch ? { totp: mergeNested(current.totp, serviceDefaults().totp, totpPatch) } : {}),
      ...(rateLimitsPatch ? { rateLimits: mergeRateLimits(current.rateLimits, rateLimitsPatch) } : {}),
    });
    const updated = isSid(sid, "VA") ? await this.deps.store.updateService(sid, merged, this.deps.clock.now()) : null;
    if (!updated) throw notFound("Service");
    return updated.service;
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

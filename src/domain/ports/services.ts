import type { ApiKey, OutboxMessage, Page, Service, ServiceSettings, VerifyEvent } from "../types.js";
import type { PageRequest } from "./page.js";

/** Settings, services, API keys, the event log and the dev outbox. Every write returns its events (the store publishes them after commit). */
export interface ServiceStore {
  getSetting(key: string): Promise<string | null>;
  /** Sets the value only if the key is absent; answers the value that is stored afterwards. */
  initSetting(key: string, value: string): Promise<string>;
  /** Sets the value only if the key is absent; true when it was absent. */
  addSetting(key: string, value: string): Promise<boolean>;
  /** Removes a key; true when it was there. */
  deleteSetting(key: string): Promise<boolean>;

  createService(service: Service): Promise<VerifyEvent>;
  /**
   * Changes a service's settings: `change` is given the service as it is in the write's transaction (the
   * row locked on PostgreSQL), so a merge of nested settings cannot lose a concurrent update.
   */
  updateService(sid: string, change: (current: Service) => Partial<ServiceSettings>, now: number): Promise<{ service: Service; event: VerifyEvent } | null>;
  /** Removes a service and what belongs to it alone (see the store unit); null when there is none. */
  deleteService(sid: string, now: number): Promise<{ service: Service; events: VerifyEvent[] } | null>;
  getService(sid: string): Promise<Service | null>;
  listServices(page: PageRequest): Promise<Page<Service>>;
  countServices(): Promise<number>;

  createApiKey(key: ApiKey, keyHash: string): Promise<VerifyEvent>;
  findApiKeyByHash(keyHash: string): Promise<ApiKey | null>;
  revokeApiKey(sid: string, serviceSid: string | null, now: number): Promise<{ apiKey: ApiKey; event: VerifyEvent | null } | null>;
  listApiKeys(serviceSid: string): Promise<ApiKey[]>;

  addDevMessage(message: OutboxMessage): Promise<void>;
  listDevMessages(to: string | null, limit: number): Promise<OutboxMessage[]>;
  listEvents(resourceSid: string): Promise<VerifyEvent[]>;
  /** A page of one resource's events, oldest first; `serviceSid` (when not null) keeps to that service's. */
  pageEvents(resourceSid: string, serviceSid: string | null, page: PageRequest): Promise<Page<VerifyEvent>>;
  /** A service's last `limit` events, oldest first. */
  recentEvents(serviceSid: string, limit: number): Promise<VerifyEvent[]>;
}

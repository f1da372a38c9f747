import { z } from "zod";
import { VerifyError, notFound } from "../errors.js";
import type { MessagingConfiguration } from "../types.js";
import { parseInput } from "../validation.js";

/**
 * Twilio's messaging configurations: which messaging service (MG…) sends a service's SMS to a country
 * ("all": every other country). Verigate stores and answers them; its SMS provider sends every message.
 */

export const MAX_MESSAGING_CONFIGURATIONS = 250;

/** ISO 3166-1 alpha-2 (kept upper case), or "all". */
const country = z
  .string()
  .trim()
  .regex(/^([A-Za-z]{2}|all|ALL|All)$/, "must be an ISO 3166-1 alpha-2 country code such as US, or all")
  .transform((v) => (v.toLowerCase() === "all" ? "all" : v.toUpperCase()));
const messagingServiceSid = z.string().regex(/^MG[0-9a-fA-F]{32}$/, "must be a messaging service sid (MG…)");

const createInput = z.object({ country, messagingServiceSid });
const updateInput = z.object({ messagingServiceSid });

/** The configuration for a country as a path names it (any case); NOT_FOUND when there is none. */
export function findMessagingConfiguration(list: readonly MessagingConfiguration[], raw: string): MessagingConfiguration {
  const parsed = country.safeParse(raw);
  const found = parsed.success ? list.find((m) => m.country === parsed.data) : undefined;
  if (!found) throw notFound("Messaging configuration");
  return found;
}

export function addMessagingConfiguration(list: readonly MessagingConfiguration[], raw: unknown, now: number): { list: MessagingConfiguration[]; configuration: MessagingConfiguration } {
  const input = parseInput(createInput, raw);
  if (list.some((m) => m.country === input.country)) {
    throw new VerifyError("INVALID_PARAMETER", `A messaging configuration for ${input.country} already exists.`, { field: "country", twilioCode: 60213 });
  }
  if (list.length >= MAX_MESSAGING_CONFIGURATIONS) throw new VerifyError("INVALID_PARAMETER", `A service has at most ${MAX_MESSAGING_CONFIGURATIONS} messaging configurations.`, { field: "country" });
  const configuration: MessagingConfiguration = { country: input.country, messagingServiceSid: input.messagingServiceSid, dateCreated: now, dateUpdated: now };
  return { list: [...list, configuration], configuration };
}

export function updateMessagingConfiguration(
  list: readonly MessagingConfiguration[],
  countryName: string,
  raw: unknown,
  now: number,
): { list: MessagingConfiguration[]; configuration: MessagingConfiguration } {
  const current = findMessagingConfiguration(list, countryName);
  const input = parseInput(updateInput, raw);
  const configuration = { ...current, messagingServiceSid: input.messagingServiceSid, dateUpdated: now };
  return { list: list.map((m) => (m === current ? configuration : m)), configuration };
}

export function removeMessagingConfiguration(list: readonly MessagingConfiguration[], countryName: string): MessagingConfiguration[] {
  const current = findMessagingConfiguration(list, countryName);
  return list.filter((m) => m !== current);
}

import { z } from "zod";
import type { Clock } from "../clock.js";
import { VerifyError, invalidParameter, notFound } from "../errors.js";
import { isSid, newSid } from "../ids.js";
import type { ServiceStore, TemplateStore } from "../ports/index.js";
import { localeTag } from "../service/settings.js";
import { type AppliedTemplate, type Service, type Template, type TemplateChannel, type TemplateChoice, type TemplateTexts, templateChannels } from "../types.js";
import { parseInput } from "../validation.js";

/**
 * Message templates (Twilio's verification templates): a service's own words per channel and locale.
 *
 * Placeholders are written as Twilio writes them, `{{name}}` (spaces inside the braces allowed):
 * `{{code}}` (required in every text), `{{friendly_name}}`, `{{ttl_minutes}}`, `{{amount}}`, `{{payee}}`,
 * and `{{custom.<name>}}`, filled from the start's custom substitutions (`templateCustomSubstitutions`,
 * Twilio's `TemplateCustomSubstitutions`: `{ "<name>": "value" }`). Any other name is INVALID_PARAMETER.
 */
export { templateChannels } from "../types.js";
export type { AppliedTemplate, Template, TemplateChannel, TemplateChoice, TemplateTexts } from "../types.js";

export const builtinPlaceholders = ["code", "friendly_name", "ttl_minutes", "amount", "payee"] as const;
type Builtin = (typeof builtinPlaceholders)[number];

/** The longest each placeholder can be once filled (the worst case a length limit is checked against). */
const worstCase: Record<Builtin, number> = {
  // A custom code is at most 10 characters; a CALL reads it digit by digit ("1, 2, 3…": 28).
  code: 28,
  friendly_name: 30,
  ttl_minutes: 4,
  amount: 32,
  payee: 64,
};
export const MAX_SUBSTITUTION = 64;
const MAX_SUBSTITUTIONS = 10;

/** The longest text a channel carries, every placeholder filled to its longest. */
export const maxRendered: Record<TemplateChannel, number> = { SMS: 1600, WHATSAPP: 1024, CALL: 1000, EMAIL: 10000 };
const MAX_TEMPLATES_PER_SERVICE = 50;

const placeholder = /\{\{\s*([^{}]*?)\s*\}\}/g;
const customName = /^custom\.([A-Za-z0-9_]{1,32})$/;

/** The placeholders of a text, in order (custom ones as `custom.<name>`). */
export const placeholdersOf = (text: string): string[] => [...text.matchAll(placeholder)].map((m) => m[1]);

/** Why a text cannot be a template's text for a channel, or null. */
export function textProblem(text: string, channel: TemplateChannel): string | null {
  const names = placeholdersOf(text);
  const unknown = names.find((n) => !(builtinPlaceholders as readonly string[]).includes(n) && !customName.test(n));
  if (unknown !== undefined) return `unknown placeholder {{${unknown}}}; use ${builtinPlaceholders.map((b) => `{{${b}}}`).join(", ")} or {{custom.<name>}}`;
  if (!names.includes("code")) return "must contain the code placeholder {{code}}";
  const worst = text.replace(placeholder, (_, name: string) => "x".repeat(worstCase[name as Builtin] ?? MAX_SUBSTITUTION)).length;
  if (worst > maxRendered[channel]) return `is ${worst} characters with every placeholder at its longest; ${channel} carries at most ${maxRendered[channel]}`;
  return null;
}

/** Fills a text's placeholders; a custom one without a value is left empty (a start checks they are given). */
export function fillTemplate(text: string, values: Record<Builtin, string>, substitutions: Record<string, string>): string {
  return text.replace(placeholder, (_, name: string) => {
    const custom = customName.exec(name);
    if (custom) return substitutions[custom[1]] ?? "";
    return values[name as Builtin] ?? "";
  });
}

/**
 * A message's text from a verification's template: the translation for the channel and locales
 * (chooseTranslation), filled. `showsTransaction`: the text words both amount and payee itself. Null: the
 * template has no text for this channel (the built-in words are used).
 */
export function renderTemplate(
  applied: AppliedTemplate,
  channel: TemplateChannel,
  preferred: (string | null)[],
  values: Record<Builtin, string>,
): { text: string; locale: string; showsTransaction: boolean } | null {
  const chosen = chooseTranslation(applied.template.translations, channel, preferred);
  if (!chosen) return null;
  const names = placeholdersOf(chosen.text);
  return { text: fillTemplate(chosen.text, values, applied.substitutions), locale: chosen.locale, showsTransaction: names.includes("amount") && names.includes("payee") };
}

/** fr-CA → fr-CA, fr. */
const chain = (locale: string): string[] => {
  const parts = locale.split("-");
  return parts.map((_, i) => parts.slice(0, parts.length - i).join("-"));
};

/**
 * The translation a message uses: the verification's locale (along its fallback chain), then the
 * locale the message is worded in otherwise (country, service default), then `en`, then the first the
 * template has for the channel. Null: the template has no text for this channel (built-in text).
 */
export function chooseTranslation(texts: TemplateTexts, channel: TemplateChannel, preferred: (string | null)[]): { locale: string; text: string } | null {
  const locales = Object.keys(texts).filter((l) => texts[l][channel] !== undefined);
  if (locales.length === 0) return null;
  const byLower = new Map(locales.map((l) => [l.toLowerCase(), l]));
  for (const wanted of [...preferred, "en"]) {
    if (!wanted) continue;
    for (const candidate of chain(wanted)) {
      const found = byLower.get(candidate.toLowerCase());
      if (found) return { locale: found, text: texts[found][channel] as string };
    }
  }
  const first = locales[0];
  return { locale: first, text: texts[first][channel] as string };
}

const channelName = z.string().transform((value, ctx) => {
  const upper = value.toUpperCase() === "VOICE" ? "CALL" : value.toUpperCase();
  if (!(templateChannels as readonly string[]).includes(upper)) {
    ctx.addIssue({ code: "custom", message: `must be one of ${templateChannels.join(", ")}` });
    return z.NEVER;
  }
  return upper as TemplateChannel;
});
const translation = z.object({ locale: localeTag, channel: channelName, text: z.string().min(1).max(20000) });
const translations = z
  .array(translation)
  .min(1, "needs at least one text")
  .max(200)
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((t, i) => {
      const key = `${t.locale.toLowerCase()}|${t.channel}`;
      if (seen.has(key)) ctx.addIssue({ code: "custom", path: [i], message: `${t.channel} in ${t.locale} is given twice` });
      seen.add(key);
      const problem = textProblem(t.text, t.channel);
      if (problem) ctx.addIssue({ code: "custom", path: [i, "text"], message: `${t.channel} text in ${t.locale} ${problem}` });
    });
  })
  .transform((list) => {
    const texts: TemplateTexts = {};
    for (const t of list) {
      const byChannel = texts[t.locale] ?? {};
      byChannel[t.channel] = t.text;
      texts[t.locale] = byChannel;
    }
    return texts;
  });
const templateName = z.string().trim().min(1).max(32);
const createInput = z.object({ serviceSid: z.string(), friendlyName: templateName, translations });
const updateInput = z.object({ friendlyName: templateName.nullish(), translations: translations.nullish() });

const substitutionsInput = z
  .record(z.string().regex(/^[A-Za-z0-9_]{1,32}$/, "names are 1 to 32 letters, digits or _"), z.union([z.string().max(MAX_SUBSTITUTION), z.number().finite()]).transform(String))
  .refine((s) => Object.keys(s).length <= MAX_SUBSTITUTIONS, `at most ${MAX_SUBSTITUTIONS} substitutions`);

/** The custom placeholders a template's texts use. */
const customNames = (texts: TemplateTexts): string[] => {
  const names = new Set<string>();
  for (const byChannel of Object.values(texts))
    for (const text of Object.values(byChannel))
      for (const n of placeholdersOf(text ?? "")) {
        const custom = customName.exec(n);
        if (custom) names.add(custom[1]);
      }
  return [...names];
};

/** A service's message templates: created, changed and chosen here; texts validated once for both APIs. */
export class TemplateDirectory {
  constructor(private readonly deps: { store: TemplateStore & Pick<ServiceStore, "getService" | "updateService">; clock: Clock; services: { require(sid: string): Promise<Service> } }) {}

  async create(raw: unknown): Promise<Template> {
    const input = parseInput(createInput, raw);
    await this.deps.services.require(input.serviceSid);
    if ((await this.deps.store.countTemplates(input.serviceSid)) >= MAX_TEMPLATES_PER_SERVICE) {
      throw invalidParameter("serviceSid", `Invalid parameter \`serviceSid\`: a service has at most ${MAX_TEMPLATES_PER_SERVICE} templates.`);
    }
    const now = this.deps.clock.now();
    const template: Template = { sid: newSid("HJ"), serviceSid: input.serviceSid, friendlyName: input.friendlyName, translations: input.translations, dateCreated: now, dateUpdated: now };
    await this.deps.store.createTemplate(template);
    return template;
  }

  /** A field left out keeps its value; `translations` given replaces them all. */
  async update(sid: string, raw: unknown, serviceScope: string | null): Promise<Template> {
    const input = parseInput(updateInput, raw);
    const patch = { ...(input.friendlyName != null ? { friendlyName: input.friendlyName } : {}), ...(input.translations != null ? { translations: input.translations } : {}) };
    const updated = isSid(sid, "HJ") ? await this.deps.store.updateTemplate(sid, serviceScope, patch, this.deps.clock.now()) : null;
    if (!updated) throw notFound("Template");
    return updated;
  }

  /** Deletes a template; a service that used it by default goes back to the built-in texts. */
  async delete(sid: string, serviceScope: string | null): Promise<Template> {
    const deleted = isSid(sid, "HJ") ? await this.deps.store.deleteTemplate(sid, serviceScope) : null;
    if (!deleted) throw notFound("Template");
    const service = await this.deps.store.getService(deleted.serviceSid);
    if (service?.defaultTemplateSid === sid) {
      await this.deps.store.updateService(deleted.serviceSid, (s) => (s.defaultTemplateSid === sid ? { defaultTemplateSid: null } : {}), this.deps.clock.now());
    }
    return deleted;
  }

  async get(sid: string): Promise<Template | null> {
    return isSid(sid, "HJ") ? this.deps.store.getTemplate(sid) : null;
  }

  /** A template of this service, or INVALID_PARAMETER on `field` (unknown, or another service's). */
  async requireOwn(serviceSid: string, sid: string, field: string): Promise<Template> {
    const template = await this.get(sid);
    if (!template || template.serviceSid !== serviceSid) throw invalidParameter(field, `Invalid parameter \`${field}\`: ${sid} is not a template of this service.`);
    return template;
  }

  /**
   * The template a start uses and its substitutions: the one it names (which must be this service's and
   * have a text for the channel), else the service's default (skipped where it has no text for the channel
   * or is gone), else none (the built-in texts).
   */
  async choose(service: Service, channel: string, templateSid: string | null, raw: unknown): Promise<TemplateChoice | null> {
    const substitutions = raw == null ? {} : parseInput(z.object({ templateCustomSubstitutions: substitutionsInput }), { templateCustomSubstitutions: raw }).templateCustomSubstitutions;
    const textChannel = channel === "AUTO" ? "SMS" : channel;
    let template: Template | null = null;
    if (templateSid) {
      template = await this.requireOwn(service.sid, templateSid, "templateSid");
      if (!hasChannel(template, textChannel)) {
        throw invalidParameter("templateSid", `Invalid parameter \`templateSid\`: template ${template.sid} has no ${textChannel} text.`);
      }
    } else if (service.defaultTemplateSid) {
      const fallback = await this.get(service.defaultTemplateSid);
      if (fallback && fallback.serviceSid === service.sid && hasChannel(fallback, textChannel)) template = fallback;
    }
    if (!template) {
      if (raw != null && Object.keys(substitutions).length > 0) throw invalidParameter("templateCustomSubstitutions", "Invalid parameter `templateCustomSubstitutions`: no template is used.");
      return null;
    }
    const missing = customNames(template.translations).filter((n) => substitutions[n] === undefined);
    if (missing.length > 0) {
      throw new VerifyError("INVALID_PARAMETER", `Invalid parameter \`templateCustomSubstitutions\`: the template needs ${missing.map((n) => `"${n}"`).join(", ")}.`, {
        field: "templateCustomSubstitutions",
      });
    }
    return { sid: template.sid, substitutions };
  }
}

const hasChannel = (template: Template, channel: string) => Object.values(template.translations).some((byChannel) => (byChannel as Record<string, string | undefined>)[channel] !== undefined);

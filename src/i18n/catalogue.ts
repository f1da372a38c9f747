import { countryLocales, locales, type Wording } from "./locales.js";

export type { Wording };

/** fr-CA → fr; zh-Hant-TW → zh-Hant → zh. */
export const fallbackChain = (locale: string): string[] => {
  const parts = locale.split("-");
  return parts.map((_, i) => parts.slice(0, parts.length - i).join("-"));
};

const canonical = new Map(Object.keys(locales).map((tag) => [tag.toLowerCase(), tag]));

function lookup(locale: string | null | undefined): string | null {
  if (!locale) return null;
  for (const candidate of fallbackChain(locale)) {
    const found = canonical.get(candidate.toLowerCase());
    if (found) return found;
  }
  return null;
}

/**
 * The locale a message is worded in: the explicit one (along its fallback chain), else the phone
 * number's country, else the service's default, else English.
 */
export function resolveLocale(explicit: string | null, country: string | null, serviceDefault: string): { locale: string; wording: Wording } {
  const locale = lookup(explicit) ?? lookup(country ? countryLocales[country] : null) ?? lookup(serviceDefault) ?? "en";
  return { locale, wording: locales[locale] };
}

export const supportedLocales = (): string[] => Object.keys(locales).sort();

export const fill = (template: string, values: Record<string, string>): string => template.replace(/\{(\w+)\}/g, (whole, key: string) => values[key] ?? whole);

import { authorize } from "../domain/access/rules.js";
import { type Template, templateChannels } from "../domain/template/templates.js";
import { type RestContext, type Route, iso, listPage } from "./router.js";

/** Twilio's channel names (a call is `voice`). */
const twilioChannel = (channel: string) => (channel === "CALL" ? "voice" : channel.toLowerCase());

/**
 * A template as Twilio's `verify.v2.verification_template`. Twilio keeps one text per language; Verigate
 * keeps one per channel and language: `text` is the SMS text (else the first channel's), `texts` has each.
 */
export function presentTemplate(t: Template, c: RestContext) {
  const locales = Object.keys(t.translations);
  const defaultLocale = locales.includes("en") ? "en" : locales[0];
  const channels = templateChannels.filter((ch) => locales.some((l) => t.translations[l][ch] !== undefined));
  return {
    sid: t.sid,
    account_sid: c.accountSid,
    friendly_name: t.friendlyName,
    channels: channels.map(twilioChannel),
    translations: Object.fromEntries(
      locales.map((locale) => {
        const byChannel = t.translations[locale];
        const texts = Object.fromEntries(Object.entries(byChannel).map(([ch, text]) => [twilioChannel(ch), text]));
        return [
          locale,
          {
            is_default_translation: locale === defaultLocale,
            status: "approved",
            locale,
            text: byChannel.SMS ?? Object.values(byChannel)[0] ?? null,
            texts,
            date_created: iso(t.dateCreated),
            date_updated: iso(t.dateUpdated),
          },
        ];
      }),
    ),
  };
}

export const templateRoutes: Route[] = [
  {
    method: "GET",
    path: "/v2/Templates",
    handle: async (request, c) => {
      const p = authorize(c.principal, "templates");
      // The admin sees every service's templates; a service key its own service's.
      const filter = { serviceSid: p.kind === "apiKey" ? p.serviceSid : null, friendlyName: request.params.string("FriendlyName", { max: 64 }) ?? null };
      return listPage(
        request,
        c,
        "templates",
        (page) => c.gateway.records.templates(filter, page),
        (t) => presentTemplate(t, c),
      );
    },
  },
];

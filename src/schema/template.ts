import { authorize, inScope, serviceScope } from "../domain/access/rules.js";
import { notFound } from "../domain/errors.js";
import { builtinPlaceholders, maxRendered, type Template, templateChannels } from "../domain/template/templates.js";
import { builder } from "./builder.js";
import { connection, emptyPage, pageSize, pagingArgs } from "./connection.js";

const placeholders = `${builtinPlaceholders.map((p) => `{{${p}}}`).join(", ")} and {{custom.<name>}} (from templateCustomSubstitutions)`;
const limits = templateChannels.map((c) => `${c} ${maxRendered[c]}`).join(", ");

interface TranslationRow {
  locale: string;
  channel: string;
  text: string;
}

const TemplateTranslationRef = builder.objectRef<TranslationRow>("TemplateTranslation").implement({
  description: "One text of a template: a channel in a language",
  fields: (t) => ({
    locale: t.exposeString("locale", { description: "A language tag such as en or pt-BR" }),
    channel: t.exposeString("channel", { description: `One of ${templateChannels.join(", ")}` }),
    text: t.exposeString("text", { description: `The message, with placeholders: ${placeholders}` }),
  }),
});

const TemplateRef = builder.objectRef<Template>("Template").implement({
  description:
    "A service's own message texts (Twilio's verification templates), per channel and language. A start uses the template it names (templateSid), else the service's defaultTemplateSid, else the built-in texts; the text is the verification's locale, else the message's locale (country, service default), else en, else the first the template has for the channel.",
  fields: (t) => ({
    id: t.exposeID("sid", { description: "The template sid (HJ…), as `sid`" }),
    sid: t.exposeID("sid", { description: "HJ followed by 32 lowercase hex digits" }),
    serviceSid: t.exposeID("serviceSid", { description: "The service (VA…) it belongs to" }),
    friendlyName: t.exposeString("friendlyName", { description: "Your name for it, 1–32 characters" }),
    channels: t.stringList({
      description: "The channels it has a text for",
      resolve: (tpl) => templateChannels.filter((c) => Object.values(tpl.translations).some((byChannel) => byChannel[c] !== undefined)),
    }),
    translations: t.field({
      type: [TemplateTranslationRef],
      description: "Its texts, one per channel and language",
      resolve: (tpl) => Object.entries(tpl.translations).flatMap(([locale, byChannel]) => Object.entries(byChannel).map(([channel, text]) => ({ locale, channel, text: text as string }))),
    }),
    dateCreated: t.field({ type: "DateTime", description: "When it was created", resolve: (tpl) => tpl.dateCreated }),
    dateUpdated: t.field({ type: "DateTime", description: "When it last changed", resolve: (tpl) => tpl.dateUpdated }),
  }),
});
const TemplateConnection = connection("Template", TemplateRef);

const TemplateTranslationInput = builder.inputType("TemplateTranslationInput", {
  description: `One text: it must contain {{code}}; placeholders: ${placeholders}; any other is INVALID_PARAMETER. Longest text with every placeholder at its longest: ${limits} characters`,
  fields: (t) => ({
    locale: t.string({ required: true, description: "A language tag such as en or pt-BR" }),
    channel: t.string({ required: true, description: `${templateChannels.join(", ")} (VOICE is CALL); SMS also words RCS, EMAIL the body (the subject stays built-in)` }),
    text: t.string({ required: true, description: "The message with its placeholders" }),
  }),
});
const CreateTemplateInput = builder.inputType("CreateTemplateInput", {
  description: "A new template for a service (at most 50 a service)",
  fields: (t) => ({
    serviceSid: t.id({ required: true, description: "The service (VA…)" }),
    friendlyName: t.string({ required: true, description: "1–32 characters" }),
    translations: t.field({ type: [TemplateTranslationInput], required: true, description: "1–200 texts, each channel at most once per language" }),
  }),
});
const UpdateTemplateInput = builder.inputType("UpdateTemplateInput", {
  description: "A template's changes; a field left out keeps its value",
  fields: (t) => ({
    sid: t.id({ required: true, description: "The template (HJ…)" }),
    friendlyName: t.string({ description: "1–32 characters" }),
    translations: t.field({ type: [TemplateTranslationInput], description: "Replaces every text (same rules as createTemplate)" }),
  }),
});

builder.queryFields((t) => ({
  templates: t.field({
    type: TemplateConnection,
    description:
      "A service's templates, oldest first; empty when out of scope. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: INVALID_PARAMETER (first, after).",
    args: {
      serviceSid: t.arg.id({ required: true, description: "The service (VA…)" }),
      first: t.arg.int({ description: pagingArgs.first }),
      after: t.arg.string({ description: pagingArgs.after }),
    },
    resolve: async (_, args, { principal, gateway }) => {
      const first = pageSize(args.first);
      if (!inScope(authorize(principal, "templates"), args.serviceSid)) return emptyPage<Template>();
      return gateway.records.templates({ serviceSid: args.serviceSid, friendlyName: null }, { first, after: args.after ?? null });
    },
  }),
}));

builder.mutationFields((t) => ({
  createTemplate: t.field({
    type: TemplateRef,
    description:
      "Creates a message template for a service. Admin, or a key of that service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND (service), INVALID_PARAMETER (friendlyName; translations.<i>.text without {{code}}, with an unknown placeholder or too long; serviceSid when it has 50 already).",
    args: { input: t.arg({ type: CreateTemplateInput, required: true, description: "The service, a name and the texts" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      if (!inScope(authorize(principal, "createTemplate"), input.serviceSid)) throw notFound("Service");
      return gateway.templates.create(input);
    },
  }),
  updateTemplate: t.field({
    type: TemplateRef,
    description: "Renames a template or replaces its texts. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND, INVALID_PARAMETER (as createTemplate).",
    args: { input: t.arg({ type: UpdateTemplateInput, required: true, description: "The template and its changes" }) },
    resolve: async (_, { input }, { principal, gateway }) => {
      const { sid, ...patch } = input;
      return gateway.templates.update(sid, patch, serviceScope(authorize(principal, "updateTemplate")));
    },
  }),
  deleteTemplate: t.field({
    type: TemplateRef,
    description:
      "Deletes a template; a service that used it as defaultTemplateSid goes back to the built-in texts, and pending verifications started with it send the built-in texts. Admin, or a key of its service; client, access and device tokens: FORBIDDEN. Errors: NOT_FOUND.",
    args: { sid: t.arg.id({ required: true, description: "The template (HJ…)" }) },
    resolve: async (_, { sid }, { principal, gateway }) => gateway.templates.delete(sid, serviceScope(authorize(principal, "deleteTemplate"))),
  }),
}));

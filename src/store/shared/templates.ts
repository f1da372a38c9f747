import { and, asc, eq, gt, sql } from "drizzle-orm";
import type { Template } from "../../domain/template/templates.js";
import type { Step } from "../../domain/unit.js";
import { decodeCursor } from "../cursor.js";
import type { PageRequest, TemplateFilter, TemplatePatch } from "../port.js";
import { pageOf, toTemplate } from "../rows.js";
import { type Q, all, get, run } from "./ops.js";

/** A service's message templates: written once for both dialects. */
export const templates = {
  *create({ db, t }: Q, template: Template): Step<void> {
    yield* run(db.insert(t.templates).values({ ...template, translations: JSON.stringify(template.translations) }));
  },

  *update({ db, t }: Q, sid: string, serviceSid: string | null, patch: TemplatePatch, now: number): Step<Template | null> {
    const h = t.templates;
    const { translations, ...rest } = patch;
    const row = yield* get(
      db
        .update(h)
        .set({ ...rest, ...(translations ? { translations: JSON.stringify(translations) } : {}), dateUpdated: now })
        .where(serviceSid ? and(eq(h.sid, sid), eq(h.serviceSid, serviceSid)) : eq(h.sid, sid))
        .returning(),
    );
    return row ? toTemplate(row) : null;
  },

  *delete({ db, t }: Q, sid: string, serviceSid: string | null): Step<Template | null> {
    const h = t.templates;
    const row = yield* get(
      db
        .delete(h)
        .where(serviceSid ? and(eq(h.sid, sid), eq(h.serviceSid, serviceSid)) : eq(h.sid, sid))
        .returning(),
    );
    return row ? toTemplate(row) : null;
  },

  *get({ db, t }: Q, sid: string): Step<Template | null> {
    const row = yield* get(db.select().from(t.templates).where(eq(t.templates.sid, sid)));
    return row ? toTemplate(row) : null;
  },

  *count({ db, t }: Q, serviceSid: string): Step<number> {
    return (yield* get(db.select({ n: sql<number>`cast(count(*) as integer)` }).from(t.templates).where(eq(t.templates.serviceSid, serviceSid))))?.n ?? 0;
  },

  *list({ db, t }: Q, filter: TemplateFilter, page: PageRequest) {
    const h = t.templates;
    const rows = yield* all(
      db
        .select()
        .from(h)
        .where(and(gt(h.seq, decodeCursor(page.after)), filter.serviceSid ? eq(h.serviceSid, filter.serviceSid) : undefined, filter.friendlyName ? eq(h.friendlyName, filter.friendlyName) : undefined))
        .orderBy(asc(h.seq))
        .limit(page.first + 1),
    );
    return pageOf(rows, page.first, toTemplate);
  },
};

import type { Template, TemplateTexts } from "../types.js";
import type { Page } from "../types.js";
import type { PageRequest } from "./page.js";

/** A service's message templates. */
export interface TemplateStore {
  createTemplate(template: Template): Promise<void>;
  /** Null when unknown or outside `serviceSid` (null: any service). */
  updateTemplate(sid: string, serviceSid: string | null, patch: TemplatePatch, now: number): Promise<Template | null>;
  deleteTemplate(sid: string, serviceSid: string | null): Promise<Template | null>;
  getTemplate(sid: string): Promise<Template | null>;
  countTemplates(serviceSid: string): Promise<number>;
  /** Oldest first; `serviceSid` null: every service's; `friendlyName`: only templates so named. */
  listTemplates(filter: TemplateFilter, page: PageRequest): Promise<Page<Template>>;
}

export interface TemplatePatch {
  friendlyName?: string;
  translations?: TemplateTexts;
}

export interface TemplateFilter {
  serviceSid: string | null;
  friendlyName: string | null;
}

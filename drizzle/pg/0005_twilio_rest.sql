CREATE TABLE "templates" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"friendly_name" text NOT NULL,
	"translations" text NOT NULL,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	CONSTRAINT "templates_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "messaging_configurations" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "default_template_sid" text;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "template" text;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "friendly_name" text;--> statement-breakpoint
ALTER TABLE "webhooks" ADD COLUMN "format" text DEFAULT 'standard' NOT NULL;--> statement-breakpoint
CREATE INDEX "templates_service" ON "templates" USING btree ("service_sid");
CREATE TABLE "fraud_blocks" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"prefix" text NOT NULL,
	"reason" text NOT NULL,
	"severity" integer NOT NULL,
	"level" text NOT NULL,
	"blocked_until" bigint NOT NULL,
	"date_created" bigint NOT NULL,
	CONSTRAINT "fraud_blocks_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
CREATE TABLE "rate_limits" (
	"key" varchar(255) PRIMARY KEY NOT NULL,
	"points" integer DEFAULT 0 NOT NULL,
	"expire" bigint
);
--> statement-breakpoint
CREATE TABLE "webhook_deliveries" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"webhook_sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"event_sid" text NOT NULL,
	"event_type" text NOT NULL,
	"status" text NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_status_code" integer,
	"last_error" text,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	"delivered_at" bigint
);
--> statement-breakpoint
CREATE TABLE "webhooks" (
	"seq" bigserial PRIMARY KEY NOT NULL,
	"sid" text NOT NULL,
	"service_sid" text NOT NULL,
	"url" text NOT NULL,
	"event_types" text NOT NULL,
	"enabled" boolean NOT NULL,
	"secret_sealed" text NOT NULL,
	"date_created" bigint NOT NULL,
	"date_updated" bigint NOT NULL,
	CONSTRAINT "webhooks_sid_unique" UNIQUE("sid")
);
--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "silent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "fallback" text;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "fallback_verification_sid" text;--> statement-breakpoint
ALTER TABLE "factors" ADD COLUMN "config" text;--> statement-breakpoint
ALTER TABLE "factors" ADD COLUMN "secret" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "totp" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "rate_limits" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "geo_permissions" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "safe_list" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "block_premium_numbers" boolean DEFAULT true NOT NULL;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "country" text;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "prefix" text;--> statement-breakpoint
ALTER TABLE "verifications" ADD COLUMN "test_mode" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "fraud_blocks_prefix" ON "fraud_blocks" USING btree ("service_sid","prefix","blocked_until");--> statement-breakpoint
CREATE INDEX "fraud_blocks_service" ON "fraud_blocks" USING btree ("service_sid","seq");--> statement-breakpoint
CREATE INDEX "webhook_deliveries_webhook" ON "webhook_deliveries" USING btree ("webhook_sid","seq");--> statement-breakpoint
CREATE INDEX "webhooks_service" ON "webhooks" USING btree ("service_sid");--> statement-breakpoint
CREATE INDEX "challenges_fallback" ON "challenges" USING btree ("fallback_verification_sid");--> statement-breakpoint
CREATE INDEX "verifications_prefix_time" ON "verifications" USING btree ("service_sid","prefix","date_created");--> statement-breakpoint
CREATE INDEX "verifications_service_time" ON "verifications" USING btree ("service_sid","date_created");
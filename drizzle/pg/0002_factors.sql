ALTER TABLE "challenges" ADD COLUMN "silent" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "fallback" text;--> statement-breakpoint
ALTER TABLE "challenges" ADD COLUMN "fallback_verification_sid" text;--> statement-breakpoint
ALTER TABLE "factors" ADD COLUMN "config" text;--> statement-breakpoint
ALTER TABLE "factors" ADD COLUMN "secret" text;--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "totp" text;--> statement-breakpoint
CREATE INDEX "challenges_fallback" ON "challenges" USING btree ("fallback_verification_sid");
ALTER TABLE "fraud_blocks" ADD COLUMN "lifted_at" bigint;--> statement-breakpoint
ALTER TABLE "verifications" DROP COLUMN "sna_url";
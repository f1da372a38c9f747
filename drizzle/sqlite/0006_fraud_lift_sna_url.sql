ALTER TABLE `fraud_blocks` ADD `lifted_at` integer;--> statement-breakpoint
ALTER TABLE `verifications` DROP COLUMN `sna_url`;
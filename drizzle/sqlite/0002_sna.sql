CREATE TABLE `sna_sessions` (
	`token_hash` text PRIMARY KEY NOT NULL,
	`verification_sid` text NOT NULL,
	`attempt_sid` text NOT NULL,
	`expires_at` integer NOT NULL,
	`opened_at` integer
);
--> statement-breakpoint
CREATE INDEX `sna_sessions_verification` ON `sna_sessions` (`verification_sid`);--> statement-breakpoint
ALTER TABLE `verifications` ADD `sna_url` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `sna_error_codes` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `sna_state` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `sna_client_token_required` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `verifications` ADD `sna_client_token_hash` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `auto_fallback` integer DEFAULT false NOT NULL;
ALTER TABLE `challenges` ADD `silent` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE `challenges` ADD `fallback` text;--> statement-breakpoint
ALTER TABLE `challenges` ADD `fallback_verification_sid` text;--> statement-breakpoint
CREATE INDEX `challenges_fallback` ON `challenges` (`fallback_verification_sid`);--> statement-breakpoint
ALTER TABLE `factors` ADD `config` text;--> statement-breakpoint
ALTER TABLE `factors` ADD `secret` text;--> statement-breakpoint
ALTER TABLE `services` ADD `totp` text;
CREATE TABLE `templates` (
	`seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`sid` text NOT NULL,
	`service_sid` text NOT NULL,
	`friendly_name` text NOT NULL,
	`translations` text NOT NULL,
	`date_created` integer NOT NULL,
	`date_updated` integer NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `templates_sid_unique` ON `templates` (`sid`);--> statement-breakpoint
CREATE INDEX `templates_service` ON `templates` (`service_sid`);--> statement-breakpoint
ALTER TABLE `services` ADD `messaging_configurations` text;--> statement-breakpoint
ALTER TABLE `services` ADD `default_template_sid` text;--> statement-breakpoint
ALTER TABLE `verifications` ADD `template` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `friendly_name` text;--> statement-breakpoint
ALTER TABLE `webhooks` ADD `format` text DEFAULT 'standard' NOT NULL;
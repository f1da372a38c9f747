DROP INDEX `verifications_to`;--> statement-breakpoint
CREATE INDEX `verifications_to_seq` ON `verifications` (`service_sid`,`to`,`seq`);
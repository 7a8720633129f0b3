// Package batch describes the batch/v1 resources, Jobs and CronJobs: their
// defaulting (including the selector Kubernetes generates for a job from its
// UID), validation, status handling and table columns, following
// Kubernetes. CronJob schedules are checked by a small standard-cron parser
// of its own.
package batch

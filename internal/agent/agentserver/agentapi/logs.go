package agentapi

import (
	"net/url"
	"strconv"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/util/sets"
	"k8s.io/apimachinery/pkg/util/validation/field"
)

// DecodeLogOptions reads PodLogOptions from query parameters named after
// its JSON fields (container, follow, previous, sinceSeconds, sinceTime,
// timestamps, tailLines, limitBytes, insecureSkipTLSVerifyBackend, stream).
// As in Kubernetes, stream defaults to All when any parameter is given. A
// malformed number or time is an error; the values are not validated
// (see ValidateLogOptions).
func DecodeLogOptions(q url.Values) (*corev1.PodLogOptions, error) {
	opts := &corev1.PodLogOptions{
		Container:                    q.Get("container"),
		Follow:                       boolValue(q["follow"]),
		Previous:                     boolValue(q["previous"]),
		Timestamps:                   boolValue(q["timestamps"]),
		InsecureSkipTLSVerifyBackend: boolValue(q["insecureSkipTLSVerifyBackend"]),
		Stream:                       stringValue(q["stream"]),
	}
	var err error
	if opts.SinceSeconds, err = int64Value(q["sinceSeconds"]); err != nil {
		return nil, err
	}
	if opts.SinceTime, err = timeValue(q["sinceTime"]); err != nil {
		return nil, err
	}
	if opts.TailLines, err = int64Value(q["tailLines"]); err != nil {
		return nil, err
	}
	if opts.LimitBytes, err = int64Value(q["limitBytes"]); err != nil {
		return nil, err
	}
	if opts.Stream == nil && len(q) > 0 {
		all := corev1.LogStreamAll
		opts.Stream = &all
	}
	return opts, nil
}

// EncodeLogOptions writes the options the agent needs to serve a log as
// query parameters: everything but the container (which is in the path)
// and insecureSkipTLSVerifyBackend (which concerns the caller's dialing).
// stream is sent only when it asks for less than All, so an agent that
// knows no streams serves the common case.
func EncodeLogOptions(opts *corev1.PodLogOptions) url.Values {
	q := url.Values{}
	if opts.Follow {
		q.Set("follow", "true")
	}
	if opts.Previous {
		q.Set("previous", "true")
	}
	if opts.Timestamps {
		q.Set("timestamps", "true")
	}
	if opts.SinceSeconds != nil {
		q.Set("sinceSeconds", strconv.FormatInt(*opts.SinceSeconds, 10))
	}
	if opts.SinceTime != nil {
		q.Set("sinceTime", opts.SinceTime.UTC().Format(time.RFC3339))
	}
	if opts.TailLines != nil {
		q.Set("tailLines", strconv.FormatInt(*opts.TailLines, 10))
	}
	if opts.LimitBytes != nil {
		q.Set("limitBytes", strconv.FormatInt(*opts.LimitBytes, 10))
	}
	if opts.Stream != nil && *opts.Stream != corev1.LogStreamAll {
		q.Set("stream", *opts.Stream)
	}
	return q
}

var logStreams = sets.New(corev1.LogStreamStdout, corev1.LogStreamStderr, corev1.LogStreamAll)

// ValidateLogOptions checks PodLogOptions as Kubernetes does, with its
// field paths and messages: tailLines >= 0, limitBytes > 0, sinceSeconds
// > 0, at most one of sinceSeconds and sinceTime, a known stream, and no
// tailLines with a single stream.
func ValidateLogOptions(opts *corev1.PodLogOptions) field.ErrorList {
	var errs field.ErrorList
	if opts.TailLines != nil && *opts.TailLines < 0 {
		errs = append(errs, field.Invalid(field.NewPath("tailLines"), *opts.TailLines, "must be greater than or equal to 0"))
	}
	if opts.LimitBytes != nil && *opts.LimitBytes < 1 {
		errs = append(errs, field.Invalid(field.NewPath("limitBytes"), *opts.LimitBytes, "must be greater than 0"))
	}
	switch {
	case opts.SinceSeconds != nil && opts.SinceTime != nil:
		errs = append(errs, field.Forbidden(field.NewPath(""), "at most one of `sinceTime` or `sinceSeconds` may be specified"))
	case opts.SinceSeconds != nil && *opts.SinceSeconds < 1:
		errs = append(errs, field.Invalid(field.NewPath("sinceSeconds"), *opts.SinceSeconds, "must be greater than 0"))
	}
	if opts.Stream != nil {
		if !logStreams.Has(*opts.Stream) {
			errs = append(errs, field.NotSupported(field.NewPath("stream"), *opts.Stream, sets.List(logStreams)))
		}
		if *opts.Stream != corev1.LogStreamAll && opts.TailLines != nil {
			errs = append(errs, field.Forbidden(field.NewPath(""), "`tailLines` and specific `stream` are mutually exclusive for now"))
		}
	}
	return errs
}

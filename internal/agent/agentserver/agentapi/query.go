package agentapi

import (
	"strconv"
	"strings"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// boolValue reads a boolean query parameter the way Kubernetes' parameter
// conversion does: absent is false; present, anything but "0" and "false"
// (in any case) is true, including an empty value ("?follow").
func boolValue(values []string) bool {
	if len(values) == 0 {
		return false
	}
	v := values[0]
	return v != "0" && !strings.EqualFold(v, "false")
}

// int64Value reads an optional integer; absent or empty is nil.
func int64Value(values []string) (*int64, error) {
	if len(values) == 0 || values[0] == "" {
		return nil, nil
	}
	n, err := strconv.ParseInt(values[0], 10, 64)
	if err != nil {
		return nil, err
	}
	return &n, nil
}

// timeValue reads an optional RFC 3339 time; absent or empty is nil.
func timeValue(values []string) (*metav1.Time, error) {
	if len(values) == 0 || values[0] == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, values[0])
	if err != nil {
		return nil, err
	}
	mt := metav1.NewTime(t)
	return &mt, nil
}

// stringValue reads an optional string; absent is nil.
func stringValue(values []string) *string {
	if len(values) == 0 {
		return nil
	}
	v := values[0]
	return &v
}

package agentserver

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/grpc/codes"
	grpcstatus "google.golang.org/grpc/status"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

func TestErrorStatus(t *testing.T) {
	tests := []struct {
		err      error
		wantCode int32
		reason   string
	}{
		{fmt.Errorf("pod x: %w", ErrNotFound), 404, "NotFound"},
		{fmt.Errorf("not started: %w", ErrBadRequest), 400, "BadRequest"},
		{grpcstatus.Error(codes.NotFound, "no such container"), 404, "NotFound"},
		{fmt.Errorf("exec: %w", grpcstatus.Error(codes.InvalidArgument, "cmd empty")), 400, "BadRequest"},
		{grpcstatus.Error(codes.ResourceExhausted, "busy"), 429, "TooManyRequests"},
		{grpcstatus.Error(codes.Unavailable, "down"), 500, "InternalError"},
		{apierrors.NewConflict(schema.GroupResource{Resource: "pods"}, "x", errors.New("c")), 409, "Conflict"},
		{errors.New("boom"), 500, "InternalError"},
	}
	for _, tt := range tests {
		st := errorStatus(tt.err)
		if st.Code != tt.wantCode || string(st.Reason) != tt.reason {
			t.Errorf("errorStatus(%v) = %d %s, want %d %s", tt.err, st.Code, st.Reason, tt.wantCode, tt.reason)
		}
		if st.Message == "" {
			t.Errorf("errorStatus(%v) has no message", tt.err)
		}
	}
}

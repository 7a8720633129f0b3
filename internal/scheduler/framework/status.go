// Package framework is the scheduler's plugin framework: the Status a
// plugin returns, the per-pod and per-node information plugins read (PodInfo,
// NodeInfo, Snapshot), the plugin interfaces (PreFilter, Filter, PreScore,
// Score, PreBind) and the Framework that runs a configured set of plugins.
// Everything here is pure: no API calls, no informers.
package framework

import (
	"errors"
	"strings"
)

// Code is the outcome class of a plugin call.
type Code int

const (
	// Success means the plugin ran and the pod may go on (a nil *Status is
	// Success too).
	Success Code = iota
	// Error is an internal failure; the pod is retried with back-off.
	Error
	// Unschedulable means the pod does not fit, but evicting lower-priority
	// pods (preemption) might help.
	Unschedulable
	// UnschedulableAndUnresolvable means the pod does not fit and preemption
	// cannot change that (e.g. a node selector mismatch).
	UnschedulableAndUnresolvable
	// Skip, from PreFilter or PreScore, means the plugin has nothing to do
	// for this pod: its Filter or Score is not called.
	Skip
)

var codeNames = [...]string{"Success", "Error", "Unschedulable", "UnschedulableAndUnresolvable", "Skip"}

func (c Code) String() string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return "Unknown"
}

// Status is what a plugin returns: a code, human-readable reasons (they end
// up in "0/3 nodes are available: ..." messages, one count per reason), an
// optional error and the name of the plugin that failed.
type Status struct {
	code    Code
	reasons []string
	err     error
	plugin  string
}

// NewStatus returns a status with the given code and reasons.
func NewStatus(code Code, reasons ...string) *Status {
	return &Status{code: code, reasons: reasons}
}

// AsStatus wraps an internal error as an Error status (nil stays nil).
func AsStatus(err error) *Status {
	if err == nil {
		return nil
	}
	return &Status{code: Error, reasons: []string{err.Error()}, err: err}
}

// Code is the status code; a nil status is Success.
func (s *Status) Code() Code {
	if s == nil {
		return Success
	}
	return s.code
}

// IsSuccess reports whether the status is Success (or nil).
func (s *Status) IsSuccess() bool { return s.Code() == Success }

// IsSkip reports whether the status is Skip.
func (s *Status) IsSkip() bool { return s.Code() == Skip }

// IsRejected reports whether the pod was found not to fit (Unschedulable or
// UnschedulableAndUnresolvable), as opposed to an internal error.
func (s *Status) IsRejected() bool {
	c := s.Code()
	return c == Unschedulable || c == UnschedulableAndUnresolvable
}

// Reasons are the status's reasons.
func (s *Status) Reasons() []string {
	if s == nil {
		return nil
	}
	return s.reasons
}

// Message joins the reasons with ", ".
func (s *Status) Message() string {
	if s == nil {
		return ""
	}
	return strings.Join(s.reasons, ", ")
}

// Plugin is the name of the plugin that produced a failing status.
func (s *Status) Plugin() string {
	if s == nil {
		return ""
	}
	return s.plugin
}

// WithPlugin records the failing plugin and returns s.
func (s *Status) WithPlugin(name string) *Status {
	if s != nil {
		s.plugin = name
	}
	return s
}

// AsError returns nil for Success and Skip, otherwise an error carrying the
// message (or the wrapped error).
func (s *Status) AsError() error {
	if s.IsSuccess() || s.IsSkip() {
		return nil
	}
	if s.err != nil {
		return s.err
	}
	return errors.New(s.Message())
}

// Equal compares code and reasons (for tests).
func (s *Status) Equal(o *Status) bool {
	if s.Code() != o.Code() || len(s.Reasons()) != len(o.Reasons()) {
		return false
	}
	for i, r := range s.Reasons() {
		if o.reasons[i] != r {
			return false
		}
	}
	return true
}

func (s *Status) String() string {
	if s == nil {
		return "Success"
	}
	if len(s.reasons) == 0 {
		return s.code.String()
	}
	return s.code.String() + ": " + s.Message()
}

package batch

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// cronField is one of the five fields of a standard cron schedule: its
// bounds and, for months and weekdays, the names of its values in order
// starting at min.
type cronField struct {
	min, max int
	names    []string
}

// standardCronFields returns minute, hour, day of month, month and day of
// week, in the order a schedule lists them.
func standardCronFields() [5]cronField {
	return [5]cronField{
		{min: 0, max: 59},
		{min: 0, max: 23},
		{min: 1, max: 31},
		{min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
		{min: 0, max: 6, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
	}
}

// validateCronSchedule checks spec as a standard cron schedule: five fields
// (minute hour day-of-month month day-of-week) of values, names, ranges,
// lists and steps, or an @ macro, optionally after a TZ= or CRON_TZ= zone.
// It returns the first problem, worded as Kubernetes reports it.
func validateCronSchedule(spec string) error {
	if spec == "" {
		return fmt.Errorf("empty spec string")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		zone, rest, _ := strings.Cut(spec[strings.Index(spec, "=")+1:], " ")
		if _, err := time.LoadLocation(zone); err != nil {
			return fmt.Errorf("provided bad location %s: %w", zone, err)
		}
		spec = strings.TrimSpace(rest)
	}
	if strings.HasPrefix(spec, "@") {
		return validateCronMacro(spec)
	}
	fields := strings.Fields(spec)
	specs := standardCronFields()
	if len(fields) != len(specs) {
		return fmt.Errorf("expected exactly %d fields, found %d: %s", len(specs), len(fields), fields)
	}
	for i, f := range fields {
		for _, expr := range strings.Split(f, ",") {
			if err := specs[i].checkRange(expr); err != nil {
				return err
			}
		}
	}
	return nil
}

// validateCronMacro accepts the fixed @ macros and "@every <duration>".
func validateCronMacro(spec string) error {
	switch spec {
	case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		return nil
	}
	if d, ok := strings.CutPrefix(spec, "@every "); ok {
		if _, err := time.ParseDuration(d); err != nil {
			return fmt.Errorf("failed to parse duration %s: %w", spec, err)
		}
		return nil
	}
	return fmt.Errorf("unrecognized descriptor: %s", spec)
}

// checkRange checks one list element: "*", "?", a value, "a-b", each with
// an optional "/step". A lone value with a step runs to the field maximum.
func (f cronField) checkRange(expr string) error {
	rangePart, stepPart, hasStep := strings.Cut(expr, "/")
	if strings.Contains(stepPart, "/") {
		return fmt.Errorf("too many slashes: %s", expr)
	}
	bounds := strings.Split(rangePart, "-")
	var start, end int
	if bounds[0] == "*" || bounds[0] == "?" {
		start, end = f.min, f.max
	} else {
		var err error
		if start, err = f.value(bounds[0]); err != nil {
			return err
		}
		switch len(bounds) {
		case 1:
			end = start
		case 2:
			if end, err = f.value(bounds[1]); err != nil {
				return err
			}
		default:
			return fmt.Errorf("too many hyphens: %s", expr)
		}
	}
	step := 1
	if hasStep {
		var err error
		if step, err = cronNumber(stepPart); err != nil {
			return err
		}
		if len(bounds) == 1 {
			end = f.max
		}
	}
	switch {
	case start < f.min:
		return fmt.Errorf("beginning of range (%d) below minimum (%d): %s", start, f.min, expr)
	case end > f.max:
		return fmt.Errorf("end of range (%d) above maximum (%d): %s", end, f.max, expr)
	case start > end:
		return fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", start, end, expr)
	case step == 0:
		return fmt.Errorf("step of range should be a positive number: %s", expr)
	}
	return nil
}

// value reads a field value given as a number or, for months and weekdays,
// as a case-insensitive three-letter name.
func (f cronField) value(s string) (int, error) {
	for i, name := range f.names {
		if strings.EqualFold(name, s) {
			return f.min + i, nil
		}
	}
	return cronNumber(s)
}

// cronNumber reads a non-negative decimal number.
func cronNumber(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return n, nil
}

package cronjob

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Schedule is a parsed cron schedule.
type Schedule interface {
	// Next returns the first activation strictly after t (the zero time if
	// there is none within five years).
	Next(t time.Time) time.Time
	// Between returns the latest activation after from and at or before
	// to, and how many activations lie in that interval, counting no
	// further than limit+1. last is zero when there is none.
	Between(from, to time.Time, limit int) (last time.Time, n int)
}

// ParseSchedule parses a standard cron schedule: five fields (minute, hour,
// day of month, month, day of week) of values, three-letter month and day
// names, "*" or "?", ranges "a-b", lists "a,b" and steps "/n"; or one of
// @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly and
// "@every <duration>". A "TZ=<zone> " or "CRON_TZ=<zone> " prefix sets the
// schedule's time zone; otherwise times are taken in loc.
func ParseSchedule(spec string, loc *time.Location) (Schedule, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, fmt.Errorf("empty spec string")
	}
	if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
		_, rest, _ := strings.Cut(spec, "=")
		zone, rest, _ := strings.Cut(rest, " ")
		l, err := time.LoadLocation(zone)
		if err != nil {
			return nil, fmt.Errorf("provided bad location %s: %w", zone, err)
		}
		loc, spec = l, strings.TrimSpace(rest)
	}
	if loc == nil {
		loc = time.Local
	}
	if strings.HasPrefix(spec, "@") {
		if d, ok := strings.CutPrefix(spec, "@every "); ok {
			dur, err := time.ParseDuration(strings.TrimSpace(d))
			if err != nil {
				return nil, fmt.Errorf("failed to parse duration %s: %w", spec, err)
			}
			// Whole seconds, at least one.
			dur = max(time.Second, dur.Truncate(time.Second))
			return every(dur), nil
		}
		expanded, ok := macros[spec]
		if !ok {
			return nil, fmt.Errorf("unrecognized descriptor: %s", spec)
		}
		spec = expanded
	}
	fields := strings.Fields(spec)
	if len(fields) != 5 {
		return nil, fmt.Errorf("expected exactly 5 fields, found %d: %s", len(fields), fields)
	}
	s := &cronSchedule{loc: loc}
	sets := []*uint64{&s.minute, &s.hour, &s.dom, &s.month, &s.dow}
	for i, f := range fields {
		bits, star, err := parseField(f, cronFields[i])
		if err != nil {
			return nil, err
		}
		*sets[i] = bits
		switch i {
		case 2:
			s.domStar = star
		case 4:
			s.dowStar = star
		}
	}
	return s, nil
}

var macros = map[string]string{
	"@yearly":   "0 0 1 1 *",
	"@annually": "0 0 1 1 *",
	"@monthly":  "0 0 1 * *",
	"@weekly":   "0 0 * * 0",
	"@daily":    "0 0 * * *",
	"@midnight": "0 0 * * *",
	"@hourly":   "0 * * * *",
}

// field describes one cron field: its bounds and, for months and weekdays,
// the names of its values starting at min.
type field struct {
	min, max int
	names    []string
}

var cronFields = [5]field{
	{min: 0, max: 59},
	{min: 0, max: 23},
	{min: 1, max: 31},
	{min: 1, max: 12, names: []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}},
	{min: 0, max: 6, names: []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}},
}

// parseField returns the set of values of a field as bits, and whether it
// is an unrestricted "*" or "?" (which matters for the day fields).
func parseField(expr string, f field) (uint64, bool, error) {
	var bits uint64
	star := false
	for _, part := range strings.Split(expr, ",") {
		rng, stepStr, hasStep := strings.Cut(part, "/")
		if strings.Contains(stepStr, "/") {
			return 0, false, fmt.Errorf("too many slashes: %s", part)
		}
		var lo, hi int
		if rng == "*" || rng == "?" {
			lo, hi = f.min, f.max
			star = !hasStep
		} else {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = f.value(a); err != nil {
				return 0, false, err
			}
			hi = lo
			if isRange {
				if strings.Contains(b, "-") {
					return 0, false, fmt.Errorf("too many hyphens: %s", part)
				}
				if hi, err = f.value(b); err != nil {
					return 0, false, err
				}
			} else if hasStep {
				hi = f.max
			}
		}
		step := 1
		if hasStep {
			var err error
			if step, err = number(stepStr); err != nil {
				return 0, false, err
			}
		}
		switch {
		case lo < f.min:
			return 0, false, fmt.Errorf("beginning of range (%d) below minimum (%d): %s", lo, f.min, part)
		case hi > f.max:
			return 0, false, fmt.Errorf("end of range (%d) above maximum (%d): %s", hi, f.max, part)
		case lo > hi:
			return 0, false, fmt.Errorf("beginning of range (%d) beyond end of range (%d): %s", lo, hi, part)
		case step == 0:
			return 0, false, fmt.Errorf("step of range should be a positive number: %s", part)
		}
		for v := lo; v <= hi; v += step {
			bits |= 1 << uint(v)
		}
	}
	return bits, star, nil
}

func (f field) value(s string) (int, error) {
	for i, n := range f.names {
		if strings.EqualFold(n, s) {
			return f.min + i, nil
		}
	}
	return number(s)
}

func number(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("failed to parse int from %s: %w", s, err)
	}
	if n < 0 {
		return 0, fmt.Errorf("negative number (%d) not allowed: %s", n, s)
	}
	return n, nil
}

// cronSchedule is a five-field schedule, evaluated in loc.
type cronSchedule struct {
	minute, hour, dom, month, dow uint64
	domStar, dowStar              bool
	loc                           *time.Location
}

func has(bits uint64, v int) bool { return bits&(1<<uint(v)) != 0 }

// dayMatches applies cron's day rule: when both day fields are restricted
// a day matching either runs; otherwise both must match.
func (s *cronSchedule) dayMatches(t time.Time) bool {
	dom, dow := has(s.dom, t.Day()), has(s.dow, int(t.Weekday()))
	if s.domStar || s.dowStar {
		return dom && dow
	}
	return dom || dow
}

// Next implements Schedule. It walks forward from the next whole minute,
// skipping non-matching months, days and hours at once.
func (s *cronSchedule) Next(t time.Time) time.Time {
	t = t.In(s.loc)
	t = t.Truncate(time.Second).Add(time.Minute - time.Duration(t.Second())*time.Second)
	limit := t.Year() + 5
	for t.Year() <= limit {
		switch {
		case !has(s.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, s.loc)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, s.loc)
		case !has(s.hour, t.Hour()):
			t = t.Add(time.Hour - time.Duration(t.Minute())*time.Minute)
		case !has(s.minute, t.Minute()):
			t = t.Add(time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// prev returns the latest activation at or before t, walking backwards
// the way Next walks forwards.
func (s *cronSchedule) prev(t time.Time) time.Time {
	t = t.In(s.loc)
	t = t.Truncate(time.Second).Add(-time.Duration(t.Second()) * time.Second)
	limit := t.Year() - 5
	for t.Year() >= limit {
		switch {
		case !has(s.month, int(t.Month())):
			t = time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, s.loc).Add(-time.Minute)
		case !s.dayMatches(t):
			t = time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, s.loc).Add(-time.Minute)
		case !has(s.hour, t.Hour()):
			t = t.Add(-time.Duration(t.Minute()+1) * time.Minute)
		case !has(s.minute, t.Minute()):
			t = t.Add(-time.Minute)
		default:
			return t
		}
	}
	return time.Time{}
}

// Between implements Schedule.
func (s *cronSchedule) Between(from, to time.Time, limit int) (time.Time, int) {
	first := s.Next(from)
	if first.IsZero() || first.After(to) {
		return time.Time{}, 0
	}
	n := 0
	for t := first; !t.IsZero() && !t.After(to) && n <= limit; t = s.Next(t) {
		n++
	}
	return s.prev(to), n
}

// every is "@every <duration>": activations at fixed intervals from the
// time counting starts.
type every time.Duration

// Next implements Schedule.
func (e every) Next(t time.Time) time.Time {
	return t.Add(time.Duration(e) - time.Duration(t.Nanosecond()))
}

// Between implements Schedule.
func (e every) Between(from, to time.Time, limit int) (time.Time, int) {
	first := e.Next(from)
	if first.After(to) {
		return time.Time{}, 0
	}
	k := int(to.Sub(first) / time.Duration(e))
	return first.Add(time.Duration(k) * time.Duration(e)), min(k+1, limit+1)
}

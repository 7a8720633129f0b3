package cronjob

import (
	"testing"
	"time"
)

func mustTime(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseScheduleErrors(t *testing.T) {
	for _, spec := range []string{
		"", "* * * *", "* * * * * *", "60 * * * *", "* 24 * * *", "* * 0 * *", "* * * 13 *", "* * * * 7",
		"5-1 * * * *", "*/0 * * * *", "1/2/3 * * * *", "1-2-3 * * * *", "a * * * *", "* * * foo *",
		"@fortnightly", "@every never", "TZ=Nowhere/Land * * * * *", "-1 * * * *",
	} {
		if _, err := ParseSchedule(spec, time.UTC); err == nil {
			t.Errorf("ParseSchedule(%q) succeeded, want an error", spec)
		}
	}
}

func TestNext(t *testing.T) {
	tests := []struct {
		spec, from, want string
	}{
		{"* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z"},
		{"* * * * *", "2026-03-01T10:00:59Z", "2026-03-01T10:01:00Z"},
		{"*/15 * * * *", "2026-03-01T10:07:00Z", "2026-03-01T10:15:00Z"},
		{"5/20 * * * *", "2026-03-01T10:46:00Z", "2026-03-01T11:05:00Z"},
		{"0 9-17/4 * * *", "2026-03-01T13:00:00Z", "2026-03-01T17:00:00Z"},
		{"30 2 * * mon-fri", "2026-03-07T00:00:00Z", "2026-03-09T02:30:00Z"}, // Saturday -> Monday
		{"0 0 29 feb *", "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"0 0 1,15 * 1", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}, // both days restricted: either matches
		{"0 0 * * 1", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
		{"0 0 1 * *", "2026-12-15T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"0 12 ? JAN,jul SUN", "2026-02-01T00:00:00Z", "2026-07-05T12:00:00Z"},
		{"@hourly", "2026-03-01T10:00:00Z", "2026-03-01T11:00:00Z"},
		{"@daily", "2026-03-01T10:00:00Z", "2026-03-02T00:00:00Z"},
		{"@midnight", "2026-03-01T00:00:00Z", "2026-03-02T00:00:00Z"},
		{"@weekly", "2026-03-01T10:00:00Z", "2026-03-08T00:00:00Z"},
		{"@monthly", "2026-03-01T10:00:00Z", "2026-04-01T00:00:00Z"},
		{"@yearly", "2026-03-01T10:00:00Z", "2027-01-01T00:00:00Z"},
		{"@annually", "2026-03-01T10:00:00Z", "2027-01-01T00:00:00Z"},
		{"@every 90s", "2026-03-01T10:00:00Z", "2026-03-01T10:01:30Z"},
		{"TZ=Asia/Tokyo 0 9 * * *", "2026-03-01T01:00:00Z", "2026-03-02T00:00:00Z"},
		{"CRON_TZ=America/New_York 0 0 * * *", "2026-03-01T06:00:00Z", "2026-03-02T05:00:00Z"},
		// Spring forward in New York: 02:30 does not exist on 2026-03-08.
		{"TZ=America/New_York 30 2 * * *", "2026-03-08T00:00:00-05:00", "2026-03-09T02:30:00-04:00"},
		{"0 0 30 2 *", "2026-01-01T00:00:00Z", "0001-01-01T00:00:00Z"}, // never
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec, time.UTC)
		if err != nil {
			t.Fatalf("ParseSchedule(%q): %v", tt.spec, err)
		}
		got := s.Next(mustTime(t, tt.from))
		if want := mustTime(t, tt.want); !got.Equal(want) {
			t.Errorf("%q.Next(%s) = %s, want %s", tt.spec, tt.from, got.UTC().Format(time.RFC3339), want.UTC().Format(time.RFC3339))
		}
	}
}

// TestNextAgainstBruteForce checks Next and Between against a minute-by-
// minute scan.
func TestNextAgainstBruteForce(t *testing.T) {
	specs := []string{"*/7 3-5 * * *", "0 0 1,15 * tue", "15 10 * jun-aug sat,sun", "0 */5 29-31 * *", "59 23 * * 0"}
	start := mustTime(t, "2026-01-01T00:00:00Z")
	for _, spec := range specs {
		s, err := ParseSchedule(spec, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		c := s.(*cronSchedule)
		var want []time.Time
		for m := start; m.Before(start.AddDate(1, 0, 0)); m = m.Add(time.Minute) {
			if has(c.month, int(m.Month())) && c.dayMatches(m) && has(c.hour, m.Hour()) && has(c.minute, m.Minute()) {
				want = append(want, m)
			}
		}
		got := []time.Time{}
		for at := s.Next(start.Add(-time.Second)); !at.IsZero() && at.Before(start.AddDate(1, 0, 0)); at = s.Next(at) {
			got = append(got, at)
		}
		if len(got) != len(want) {
			t.Fatalf("%q: %d activations, want %d", spec, len(got), len(want))
		}
		for i := range got {
			if !got[i].Equal(want[i]) {
				t.Fatalf("%q: activation %d = %s, want %s", spec, i, got[i], want[i])
			}
		}
		mid := len(want) / 2
		last, n := s.Between(want[mid-3], want[mid].Add(30*time.Second), 100)
		if !last.Equal(want[mid]) || n != 3 {
			t.Errorf("%q: Between = %s, %d; want %s, 3", spec, last, n, want[mid])
		}
	}
}

func TestBetween(t *testing.T) {
	tests := []struct {
		spec, from, to string
		limit          int
		want           string
		n              int
	}{
		{"* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:00:30Z", 100, "", 0},
		{"* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:01:00Z", 100, "2026-03-01T10:01:00Z", 1},
		{"* * * * *", "2026-03-01T10:00:00Z", "2026-03-01T10:05:10Z", 100, "2026-03-01T10:05:00Z", 5},
		{"* * * * *", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", 100, "2026-03-02T10:00:00Z", 101},
		{"@every 1h", "2026-03-01T10:00:00Z", "2026-03-01T13:30:00Z", 100, "2026-03-01T13:00:00Z", 3},
		{"@every 1m", "2026-03-01T10:00:00Z", "2026-03-02T10:00:00Z", 100, "2026-03-02T10:00:00Z", 101},
		{"@every 1h", "2026-03-01T10:00:00Z", "2026-03-01T10:30:00Z", 100, "", 0},
	}
	for _, tt := range tests {
		s, err := ParseSchedule(tt.spec, time.UTC)
		if err != nil {
			t.Fatal(err)
		}
		last, n := s.Between(mustTime(t, tt.from), mustTime(t, tt.to), tt.limit)
		var want time.Time
		if tt.want != "" {
			want = mustTime(t, tt.want)
		}
		if !last.Equal(want) || n != tt.n {
			t.Errorf("%q.Between(%s, %s) = %s, %d; want %s, %d", tt.spec, tt.from, tt.to, last, n, want, tt.n)
		}
	}
}

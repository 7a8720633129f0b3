package batch

import "testing"

func TestValidateCronSchedule(t *testing.T) {
	cases := []struct {
		spec    string
		wantErr string
	}{
		{"* * * * *", ""},
		{"*/5 * * * *", ""},
		{"0 3 1 1 *", ""},
		{"0,15,30,45 9-17 * * mon-fri", ""},
		{"0 0 ? * SUN", ""},
		{"5/10 0-23/2 1-31 JAN-dec 0-6", ""},
		{"@hourly", ""},
		{"@every 1h30m", ""},
		{"TZ=UTC 0 0 * * *", ""},
		{"CRON_TZ=Europe/Paris 0 0 * * *", ""},
		{"", "empty spec string"},
		{"* * * *", "expected exactly 5 fields, found 4: [* * * *]"},
		{"0 0 * * * *", "expected exactly 5 fields, found 6: [0 0 * * * *]"},
		{"60 * * * *", "end of range (60) above maximum (59): 60"},
		{"* 24 * * *", "end of range (24) above maximum (23): 24"},
		{"* * 0 * *", "beginning of range (0) below minimum (1): 0"},
		{"* * * 13 *", "end of range (13) above maximum (12): 13"},
		{"* * * * 7", "end of range (7) above maximum (6): 7"},
		{"5-1 * * * *", "beginning of range (5) beyond end of range (1): 5-1"},
		{"*/0 * * * *", "step of range should be a positive number: */0"},
		{"1-2-3 * * * *", "too many hyphens: 1-2-3"},
		{"*/2/3 * * * *", "too many slashes: */2/3"},
		{"x * * * *", `failed to parse int from x: strconv.Atoi: parsing "x": invalid syntax`},
		{"1, * * * *", `failed to parse int from : strconv.Atoi: parsing "": invalid syntax`},
		{"* * * foo *", `failed to parse int from foo: strconv.Atoi: parsing "foo": invalid syntax`},
		{"@fortnightly", "unrecognized descriptor: @fortnightly"},
		{"@every forever", `failed to parse duration @every forever: time: invalid duration "forever"`},
		{"TZ=Mars/Olympus * * * * *", "provided bad location Mars/Olympus: unknown time zone Mars/Olympus"},
	}
	for _, tc := range cases {
		t.Run(tc.spec, func(t *testing.T) {
			err := validateCronSchedule(tc.spec)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("got %v, want %q", err, tc.wantErr)
			}
		})
	}
}

package workday

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// at returns a time of day in Asia/Shanghai.
func at(date string, hh, mm int) time.Time {
	d, err := time.Parse(time.DateOnly, date)
	if err != nil {
		panic(err)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), hh, mm, 0, 0, Shanghai)
}

// end returns 23:59:59 Asia/Shanghai of date.
func end(date string) time.Time { return at(date, 23, 59).Add(59 * time.Second) }

func mustDefault(t *testing.T) *Calendar {
	t.Helper()
	c, err := Default()
	if err != nil {
		t.Fatalf("Default: %v", err)
	}
	return c
}

func TestDeadline(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		name        string
		start       time.Time
		n           int
		want        time.Time
		provisional bool
	}{
		{"ordinary week", at("2026-03-09", 10, 0), 3, end("2026-03-12"), false},
		{"over a weekend", at("2026-03-12", 10, 0), 3, end("2026-03-17"), false},
		{"start on a Saturday is not counted", at("2026-03-14", 10, 0), 1, end("2026-03-16"), false},
		// Spring Festival: 02-15..02-23 off, 02-14 and 02-28 (Saturdays) are working days.
		{"Spring Festival with make-up Saturday 02-14", at("2026-02-12", 9, 0), 3, end("2026-02-24"), false},
		{"Spring Festival five days", at("2026-02-13", 9, 0), 5, end("2026-02-27"), false},
		{"make-up Saturday 02-28 is the last day", at("2026-02-26", 9, 0), 2, end("2026-02-28"), false},
		{"start on the make-up day itself", at("2026-02-14", 9, 0), 1, end("2026-02-24"), false},
		// National Day: 10-01..10-07 off, 10-10 (Saturday) a working day.
		{"National Day three days ends on make-up 10-10", at("2026-09-30", 15, 0), 3, end("2026-10-10"), false},
		{"National Day two days", at("2026-09-30", 15, 0), 2, end("2026-10-09"), false},
		{"National Day five days", at("2026-09-30", 15, 0), 5, end("2026-10-13"), false},
		{"Mid-Autumn and National Day", at("2026-09-24", 9, 0), 5, end("2026-10-09"), false},
		{"make-up Sunday 09-20", at("2026-09-18", 9, 0), 1, end("2026-09-20"), false},
		// The start day is a Shanghai calendar date, whatever the instant's zone.
		{"UTC evening is the next Shanghai day", time.Date(2026, 9, 29, 16, 30, 0, 0, time.UTC), 3, end("2026-10-10"), false},
		{"last second of a Shanghai day", time.Date(2026, 9, 29, 15, 59, 59, 0, time.UTC), 3, end("2026-10-09"), false},
		// New Year 2027 (provisional): counting 2027-01-01 makes the deadline provisional.
		{"into provisional 2027", at("2026-12-30", 9, 0), 3, end("2027-01-05"), true},
		{"stays in official 2026", at("2026-12-29", 9, 0), 2, end("2026-12-31"), false},
		{"start day in 2025 is not needed", at("2025-12-31", 9, 0), 1, end("2026-01-04"), false},
		{"provisional Spring Festival 2027", at("2027-02-04", 9, 0), 3, end("2027-02-11"), true},
		{"zero days is the end of the start day", at("2026-10-03", 12, 0), 0, end("2026-10-03"), false},
		{"zero days in a provisional year", at("2027-03-03", 12, 0), 0, end("2027-03-03"), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prov, err := c.Deadline(tt.start, tt.n)
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if !got.Equal(tt.want) || prov != tt.provisional {
				t.Errorf("Deadline(%s, %d) = %s, provisional %v; want %s, provisional %v",
					tt.start.Format(time.RFC3339), tt.n, got.In(Shanghai).Format(time.RFC3339), prov,
					tt.want.Format(time.RFC3339), tt.provisional)
			}
			if got.Location() != Shanghai {
				t.Errorf("deadline location = %v, want Asia/Shanghai", got.Location())
			}
		})
	}
}

func TestDeadlineErrors(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		name    string
		start   time.Time
		n       int
		noData  bool
		message string
	}{
		{"missing year 2028", at("2027-12-30", 9, 0), 2, true, "2028"},
		{"start in 2028", at("2028-01-03", 9, 0), 1, true, "2028-01-04"},
		{"zero days in a year without data", at("2028-01-03", 9, 0), 0, true, "2028"},
		{"negative", at("2026-03-09", 9, 0), -1, false, "between 0 and"},
		{"too many", at("2026-03-09", 9, 0), MaxDays + 1, false, "between 0 and"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := c.Deadline(tt.start, tt.n)
			if err == nil {
				t.Fatal("Deadline: no error")
			}
			if errors.Is(err, ErrNoData) != tt.noData {
				t.Errorf("errors.Is(err, ErrNoData) = %v, want %v (%v)", !tt.noData, tt.noData, err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("error %q does not mention %q", err, tt.message)
			}
		})
	}
	// The last day of 2027 is still answerable.
	if got, prov, err := c.Deadline(at("2027-12-30", 9, 0), 1); err != nil || !got.Equal(end("2027-12-31")) || !prov {
		t.Errorf("Deadline(2027-12-30, 1) = %v, %v, %v; want 2027-12-31, provisional", got, prov, err)
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		name        string
		from, to    time.Time
		want        int
		provisional bool
	}{
		{"across National Day", at("2026-09-30", 10, 0), end("2026-10-13"), 5, false},
		{"from inside the holiday", at("2026-10-08", 10, 0), end("2026-10-13"), 4, false},
		{"Spring Festival with make-up day", at("2026-02-12", 10, 0), end("2026-02-24"), 3, false},
		{"same day", at("2026-10-13", 10, 0), end("2026-10-13"), 0, false},
		{"due date passed", at("2026-10-14", 10, 0), end("2026-10-13"), 0, false},
		{"into provisional 2027", at("2026-12-30", 10, 0), end("2027-01-05"), 3, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prov, err := c.WorkingDaysBetween(tt.from, tt.to)
			if err != nil {
				t.Fatalf("WorkingDaysBetween: %v", err)
			}
			if got != tt.want || prov != tt.provisional {
				t.Errorf("WorkingDaysBetween = %d, provisional %v; want %d, %v", got, prov, tt.want, tt.provisional)
			}
		})
	}
	if _, _, err := c.WorkingDaysBetween(at("2027-12-30", 9, 0), end("2028-01-05")); !errors.Is(err, ErrNoData) {
		t.Errorf("WorkingDaysBetween into 2028: err = %v, want ErrNoData", err)
	}
}

// Deadline and WorkingDaysBetween agree: the n-th working day after a date has n working days
// after that date.
func TestDeadlineInvertsWorkingDaysBetween(t *testing.T) {
	c := mustDefault(t)
	for d := at("2026-01-01", 9, 0); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		for _, n := range []int{1, 2, 3, 5} {
			due, _, err := c.Deadline(d, n)
			if err != nil {
				t.Fatalf("Deadline(%s, %d): %v", d.Format(time.DateOnly), n, err)
			}
			got, _, err := c.WorkingDaysBetween(d, due)
			if err != nil || got != n {
				t.Fatalf("WorkingDaysBetween(%s, %s) = %d, %v; want %d", d.Format(time.DateOnly), due.Format(time.DateOnly), got, err, n)
			}
			if w, _, _ := c.IsWorkday(due); !w {
				t.Fatalf("Deadline(%s, %d) = %s is not a working day", d.Format(time.DateOnly), n, due.Format(time.DateOnly))
			}
		}
	}
}

func TestIsWorkday(t *testing.T) {
	c := mustDefault(t)
	tests := []struct {
		date string
		want bool
	}{
		{"2026-02-14", true},  // Saturday, make-up
		{"2026-02-16", false}, // Monday, Spring Festival
		{"2026-10-10", true},  // Saturday, make-up
		{"2026-10-11", false}, // Sunday
		{"2026-10-07", false}, // Wednesday, National Day
		{"2026-10-08", true},  // Thursday
		{"2027-01-01", false}, // Friday, New Year (provisional)
	}
	for _, tt := range tests {
		got, _, err := c.IsWorkday(at(tt.date, 12, 0))
		if err != nil || got != tt.want {
			t.Errorf("IsWorkday(%s) = %v, %v; want %v", tt.date, got, err, tt.want)
		}
	}
}

func TestEmbeddedYears(t *testing.T) {
	c := mustDefault(t)
	got := c.Years()
	want := []YearInfo{
		{Year: 2026, Status: Official, Source: "embedded:calendar/2026.yaml"},
		{Year: 2027, Status: Provisional, Source: "embedded:calendar/2027.yaml"},
	}
	if len(got) != len(want) {
		t.Fatalf("Years() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("Years()[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

const official2027 = `year: 2027
status: official
holidays:
  - [2027-01-01, 2027-01-03]
  - [2027-02-05, 2027-02-11]
workdays:
  - 2027-02-20
`

const official2028 = `year: 2028
status: official
holidays:
  - [2028-01-01, 2028-01-03]
workdays: []
`

func TestLoadOverride(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"2027.yaml": official2027,
		"2028.yaml": official2028,
		"README.md": "not a calendar file",
	})
	c, err := Load(dir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	tests := []struct {
		name        string
		start       time.Time
		n           int
		want        time.Time
		provisional bool
	}{
		{"2026 still embedded", at("2026-09-30", 9, 0), 3, end("2026-10-10"), false},
		{"2027 replaced: official, longer Spring Festival", at("2027-02-04", 9, 0), 3, end("2027-02-16"), false},
		{"2027 replaced: make-up Saturday", at("2027-02-19", 9, 0), 1, end("2027-02-20"), false},
		{"2027 replaced: New Year", at("2026-12-31", 9, 0), 1, end("2027-01-04"), false},
		{"2028 added", at("2027-12-30", 9, 0), 2, end("2028-01-04"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, prov, err := c.Deadline(tt.start, tt.n)
			if err != nil {
				t.Fatalf("Deadline: %v", err)
			}
			if !got.Equal(tt.want) || prov != tt.provisional {
				t.Errorf("Deadline = %s, %v; want %s, %v", got.Format(time.RFC3339), prov, tt.want.Format(time.RFC3339), tt.provisional)
			}
		})
	}
	years := c.Years()
	if len(years) != 3 || years[1].Status != Official || years[1].Source != filepath.Join(dir, "2027.yaml") {
		t.Errorf("Years() = %+v", years)
	}
	// The embedded calendar is unchanged by another calendar's override.
	d := mustDefault(t)
	if _, prov, _ := d.Deadline(at("2027-02-04", 9, 0), 3); !prov {
		t.Error("default calendar lost its provisional 2027")
	}
}

func TestLoadRefusesBadFiles(t *testing.T) {
	tests := []struct {
		name string
		file string
		body string
		want []string // substrings of the error
	}{
		{"year does not match the file", "2027.yaml", "year: 2026\nstatus: official\n", []string{"2027.yaml", "year: 2026", "(2027)"}},
		{"holiday outside the year", "2027.yaml", "year: 2027\nstatus: official\nholidays:\n  - [2027-12-31, 2028-01-01]\n",
			[]string{"2027.yaml", "holidays[0]", "2028-01-01 is not in 2027"}},
		{"range in reverse", "2027.yaml", "year: 2027\nstatus: official\nholidays:\n  - [2027-01-01, 2027-01-01]\n  - [2027-02-11, 2027-02-05]\n",
			[]string{"2027.yaml", "holidays[1]", "ends before it starts"}},
		{"range of one date", "2027.yaml", "year: 2027\nstatus: official\nholidays:\n  - [2027-01-01]\n",
			[]string{"2027.yaml", "holidays[0]", "[first, last]"}},
		{"make-up day on a weekday", "2027.yaml", "year: 2027\nstatus: official\nworkdays:\n  - 2027-02-20\n  - 2027-02-22\n",
			[]string{"2027.yaml", "workdays[1]", "2027-02-22 is a Monday"}},
		{"make-up day also a holiday", "2027.yaml", "year: 2027\nstatus: official\nholidays:\n  - [2027-02-20, 2027-02-21]\nworkdays:\n  - 2027-02-20\n",
			[]string{"2027.yaml", "workdays[0]", "also listed as a holiday"}},
		{"make-up day in another year", "2027.yaml", "year: 2027\nstatus: official\nworkdays:\n  - 2026-02-14\n",
			[]string{"2027.yaml", "workdays[0]", "not in 2027"}},
		{"not a date", "2027.yaml", "year: 2027\nstatus: official\nworkdays:\n  - 2027-02-30\n",
			[]string{"2027.yaml", "workdays[0]", "not a date"}},
		{"unknown status", "2027.yaml", "year: 2027\nstatus: draft\n", []string{"2027.yaml", "status", "draft"}},
		{"missing status", "2027.yaml", "year: 2027\n", []string{"2027.yaml", "status"}},
		{"unknown field", "2027.yaml", "year: 2027\nstatus: official\nholiday: []\n", []string{"2027.yaml", "holiday"}},
		{"file not named after its year", "2027-provisional.yaml", official2027, []string{"2027-provisional.yaml", "YYYY.yaml"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{tt.file: tt.body})
			_, err := Load(dir)
			if err == nil {
				t.Fatal("Load: no error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
	if _, err := Load(filepath.Join(t.TempDir(), "absent")); err == nil {
		t.Error("Load of a missing directory: no error")
	}
}

// Package workday is the working-day calendar of mainland China that objection deadlines are
// counted in (R20; API.md, "Working days").
//
// Working days are Monday to Friday, minus the statutory holidays, plus the make-up working
// days (调休上班) that fall on weekends. The data comes per calendar year from YAML files: the
// ones embedded from calendar/ by default, any of which an operator may replace (or extend
// with further years) from a directory of files named YYYY.yaml. A year is either official
// (the State Council's published arrangement) or provisional (statutory holidays only, until
// the arrangement is published); a deadline counted over a provisional year is marked as such.
// A date in a year with no data is an error, never a guess.
//
// All dates are calendar dates in Asia/Shanghai.
package workday

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed calendar/*.yaml
var embedded embed.FS

// Shanghai is China Standard Time (UTC+8; no daylight saving time since 1991).
var Shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Status says whether a year's data is the published arrangement.
type Status string

const (
	Official    Status = "official"
	Provisional Status = "provisional"
)

// ErrNoData means a date falls in a year for which the calendar has no data.
var ErrNoData = errors.New("no working-day calendar data")

// MaxDays is the largest number of working days a deadline may count.
const MaxDays = 1000

// year is one year's working days.
type year struct {
	status Status
	source string // the file the year came from, for messages
	// work[yday-1] says whether day yday of the year is a working day.
	work []bool
}

// Calendar answers working-day questions. It is immutable and safe for concurrent use.
type Calendar struct {
	years map[int]*year
}

// YearInfo describes a year the calendar holds.
type YearInfo struct {
	Year   int
	Status Status
	Source string // "embedded:calendar/2026.yaml" or the operator's file path
}

// Default returns the calendar built from the embedded data.
func Default() (*Calendar, error) { return Load("") }

var fileNameRE = regexp.MustCompile(`^([0-9]{4})\.yaml$`)

// Load returns the embedded calendar with the years found in dir replaced or added: every
// file of dir named YYYY.yaml holds year YYYY. Other .yaml or .yml files are refused (a year
// must be named exactly so that the override is unambiguous); other files are ignored. An
// empty dir gives the embedded calendar alone. Every problem names the file and the entry.
func Load(dir string) (*Calendar, error) {
	c := &Calendar{years: map[int]*year{}}
	if err := c.addFS(embedded, "calendar", "embedded:"); err != nil {
		return nil, err
	}
	if dir == "" {
		return c, nil
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("working-day calendar directory: %w", err)
	}
	if !info.IsDir() {
		return nil, fmt.Errorf("working-day calendar directory %s: not a directory", dir)
	}
	if err := c.addFS(os.DirFS(dir), ".", strings.TrimSuffix(dir, "/")+"/"); err != nil {
		return nil, err
	}
	return c, nil
}

// addFS parses the year files of dir in fsys into c, replacing years already present.
func (c *Calendar) addFS(fsys fs.FS, dir, prefix string) error {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return fmt.Errorf("working-day calendar %s: %w", prefix, err)
	}
	var errs []error
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		ext := path.Ext(name)
		if ext != ".yaml" && ext != ".yml" {
			continue
		}
		display := prefix + path.Join(dir, name)
		if dir == "." {
			display = prefix + name
		}
		m := fileNameRE.FindStringSubmatch(name)
		if m == nil {
			errs = append(errs, fmt.Errorf("calendar %s: a calendar file is named YYYY.yaml after the year it holds", display))
			continue
		}
		b, err := fs.ReadFile(fsys, path.Join(dir, name))
		if err != nil {
			errs = append(errs, fmt.Errorf("calendar %s: %w", display, err))
			continue
		}
		want, _ := strconv.Atoi(m[1]) // four digits
		y, err := parseYear(display, want, b)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.years[want] = y
	}
	return errors.Join(errs...)
}

// rawYear is the file format.
type rawYear struct {
	Year     int        `yaml:"year"`
	Status   string     `yaml:"status"`
	Holidays [][]string `yaml:"holidays"`
	Workdays []string   `yaml:"workdays"`
}

// parseYear parses and validates the data of year want, read from the file named name.
func parseYear(name string, want int, b []byte) (*year, error) {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("calendar %s: %s", name, fmt.Sprintf(format, args...))
	}
	var raw rawYear
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fail("not valid calendar YAML (year, status, holidays, workdays): %v", err)
	}
	if raw.Year != want {
		return nil, fail("year: %d does not match the file name (%d)", raw.Year, want)
	}
	y := &year{status: Status(raw.Status), source: name}
	switch y.status {
	case Official, Provisional:
	default:
		return nil, fail("status: %q is not official or provisional", raw.Status)
	}
	first := time.Date(want, time.January, 1, 0, 0, 0, 0, time.UTC)
	days := time.Date(want, time.December, 31, 0, 0, 0, 0, time.UTC).YearDay()
	y.work = make([]bool, days)
	for i := range y.work {
		wd := first.AddDate(0, 0, i).Weekday()
		y.work[i] = wd != time.Saturday && wd != time.Sunday
	}
	date := func(entry, s string) (time.Time, error) {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
		if err != nil {
			return time.Time{}, fail("%s: %q is not a date YYYY-MM-DD", entry, s)
		}
		if d.Year() != want {
			return time.Time{}, fail("%s: %s is not in %d", entry, s, want)
		}
		return d, nil
	}
	holiday := make([]bool, days)
	for i, r := range raw.Holidays {
		entry := fmt.Sprintf("holidays[%d]", i)
		if len(r) != 2 {
			return nil, fail("%s: a holiday is a range [first, last], got %d dates", entry, len(r))
		}
		from, err := date(entry, r[0])
		if err != nil {
			return nil, err
		}
		to, err := date(entry, r[1])
		if err != nil {
			return nil, err
		}
		if to.Before(from) {
			return nil, fail("%s [%s, %s]: the range ends before it starts", entry, r[0], r[1])
		}
		for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
			holiday[d.YearDay()-1] = true
			y.work[d.YearDay()-1] = false
		}
	}
	seen := map[time.Time]bool{}
	for i, s := range raw.Workdays {
		entry := fmt.Sprintf("workdays[%d]", i)
		d, err := date(entry, s)
		if err != nil {
			return nil, err
		}
		if wd := d.Weekday(); wd != time.Saturday && wd != time.Sunday {
			return nil, fail("%s: %s is a %s; a make-up working day is a Saturday or Sunday", entry, s, wd)
		}
		if holiday[d.YearDay()-1] {
			return nil, fail("%s: %s is also listed as a holiday", entry, s)
		}
		if seen[d] {
			return nil, fail("%s: %s is listed twice", entry, s)
		}
		seen[d] = true
		y.work[d.YearDay()-1] = true
	}
	return y, nil
}

// Years lists the years the calendar holds, in order.
func (c *Calendar) Years() []YearInfo {
	out := make([]YearInfo, 0, len(c.years))
	for n, y := range c.years {
		out = append(out, YearInfo{Year: n, Status: y.status, Source: y.source})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Year < out[j].Year })
	return out
}

// Date returns the calendar date of t in Asia/Shanghai, as midnight UTC.
func Date(t time.Time) time.Time {
	y, m, d := t.In(Shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// EndOfDay returns 23:59:59 Asia/Shanghai of the calendar date d (midnight UTC, as Date gives).
func EndOfDay(d time.Time) time.Time {
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 59, 0, Shanghai)
}

// day looks up a calendar date (midnight UTC).
func (c *Calendar) day(d time.Time) (work, provisional bool, err error) {
	y, ok := c.years[d.Year()]
	if !ok {
		return false, false, fmt.Errorf("%w for %d (needed for %s); an operator must provide %d.yaml",
			ErrNoData, d.Year(), d.Format(time.DateOnly), d.Year())
	}
	return y.work[d.YearDay()-1], y.status == Provisional, nil
}

// IsWorkday reports whether the calendar date of t (Asia/Shanghai) is a working day, and
// whether its year's data is provisional.
func (c *Calendar) IsWorkday(t time.Time) (work, provisional bool, err error) {
	return c.day(Date(t))
}

// Deadline returns the deadline of a step of n working days that starts at start: 23:59:59
// Asia/Shanghai of the n-th working day after start's calendar date (the start day itself is
// not counted, whatever it is). With n = 0 it is the end of the start day. provisional is true
// when a day counted (for n = 0, the start day) lies in a provisional year. A day in a year
// with no data is an error wrapping ErrNoData.
func (c *Calendar) Deadline(start time.Time, n int) (deadline time.Time, provisional bool, err error) {
	if n < 0 || n > MaxDays {
		return time.Time{}, false, fmt.Errorf("working days: %d is not between 0 and %d", n, MaxDays)
	}
	d := Date(start)
	if n == 0 {
		_, prov, err := c.day(d)
		if err != nil {
			return time.Time{}, false, err
		}
		return EndOfDay(d), prov, nil
	}
	for counted := 0; counted < n; {
		d = d.AddDate(0, 0, 1)
		work, prov, err := c.day(d)
		if err != nil {
			return time.Time{}, false, err
		}
		provisional = provisional || prov
		if work {
			counted++
		}
	}
	return EndOfDay(d), provisional, nil
}

// WorkingDaysBetween counts the working days in (from's date, to's date], calendar dates in
// Asia/Shanghai: the working days a step due at to still has on from's day. It is 0 when to's
// date is not after from's. provisional is true when a day counted lies in a provisional year.
func (c *Calendar) WorkingDaysBetween(from, to time.Time) (n int, provisional bool, err error) {
	d, end := Date(from), Date(to)
	for d.Before(end) {
		d = d.AddDate(0, 0, 1)
		work, prov, err := c.day(d)
		if err != nil {
			return 0, false, err
		}
		provisional = provisional || prov
		if work {
			n++
		}
	}
	return n, provisional, nil
}

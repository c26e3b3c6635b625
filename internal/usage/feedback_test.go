package usage

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"creditd/internal/apperr"
	"creditd/internal/testdb"
)

func ptr(s string) *string { return &s }

func TestSummariesCountTheProvidersItemsByShanghaiDay(t *testing.T) {
	pool := testdb.Pool(t)
	// 2026-03-01 16:00 UTC is midnight in Shanghai.
	midnight := time.Date(2026, 3, 1, 16, 0, 0, 0, time.UTC)
	r := startRecorder(t, pool, RecorderOptions{Now: fixedClock(midnight)})
	before, after := midnight.Add(-30*time.Second), midnight.Add(30*time.Second)
	mk := func(at time.Time, provider, inst, item string, action Action, purpose string) Event {
		e := ev(provider, "U1", item)
		e.At, e.Institution, e.Action, e.Purpose = at, inst, action, purpose
		return e
	}
	events := []Event{
		mk(before, "TAX", "BANK-A", "tax.revenue", View, "CREDIT_REVIEW"),
		mk(before, "TAX", "BANK-A", "tax.revenue", View, "CREDIT_REVIEW"),
		mk(before, "TAX", "BANK-A", "tax.revenue", Verify, "CREDIT_REVIEW"),
		mk(before, "TAX", "BANK-B", "tax.revenue", Report, "LOAN_APPLICATION"),
		mk(after, "TAX", "BANK-A", "tax.revenue", View, "CREDIT_REVIEW"),
		mk(after, "TAX", "BANK-A", "tax.paid", Score, ""),
		mk(after, "TAX", Platform, "tax.paid", OperatorView, ""),
		mk(before, "MARKET", "BANK-A", "admin.penalty", View, "CREDIT_REVIEW"), // another provider
	}
	if err := r.Record(t.Context(), events); err != nil {
		t.Fatal(err)
	}

	got, err := Summaries(t.Context(), pool, "TAX", midnight.Add(-time.Hour), midnight.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := []Summary{
		{"2026-03-01", "BANK-A", "tax.revenue", Verify, ptr("CREDIT_REVIEW"), 1},
		{"2026-03-01", "BANK-A", "tax.revenue", View, ptr("CREDIT_REVIEW"), 2},
		{"2026-03-01", "BANK-B", "tax.revenue", Report, ptr("LOAN_APPLICATION"), 1},
		{"2026-03-02", "BANK-A", "tax.paid", Score, nil, 1},
		{"2026-03-02", "BANK-A", "tax.revenue", View, ptr("CREDIT_REVIEW"), 1},
		{"2026-03-02", Platform, "tax.paid", OperatorView, nil, 1},
	}
	if !slices.EqualFunc(got, want, func(a, b Summary) bool {
		return a.Day == b.Day && a.Institution == b.Institution && a.Item == b.Item && a.Action == b.Action &&
			a.Count == b.Count && (a.Purpose == nil) == (b.Purpose == nil) && (a.Purpose == nil || *a.Purpose == *b.Purpose)
	}) {
		t.Fatalf("summaries:\n%s\nwant:\n%s", dump(got), dump(want))
	}

	// [from, to) is half-open.
	got, err = Summaries(t.Context(), pool, "TAX", before, after)
	if err != nil {
		t.Fatal(err)
	}
	var n int
	for _, s := range got {
		n += s.Count
	}
	if n != 4 {
		t.Fatalf("%d events counted in [before, after), want 4", n)
	}
	if got, _ := Summaries(t.Context(), pool, "NOBODY", before, after); len(got) != 0 {
		t.Fatalf("summaries of a provider without usage: %v", got)
	}

	for _, w := range [][2]time.Time{{after, before}, {before, before}, {before, before.AddDate(2, 0, 0)}} {
		if _, err := Summaries(t.Context(), pool, "TAX", w[0], w[1]); apperr.CodeOf(err) != apperr.BadInput {
			t.Errorf("Summaries(%v, %v) = %v, want BAD_INPUT", w[0], w[1], err)
		}
	}
}

func dump(s []Summary) string {
	var out string
	for _, x := range s {
		p := "-"
		if x.Purpose != nil {
			p = *x.Purpose
		}
		out += fmt.Sprintf("%s %s %s %s %s %d\n", x.Day, x.Institution, x.Item, x.Action, p, x.Count)
	}
	return out
}

func TestEventsPaginateNewestFirst(t *testing.T) {
	pool := testdb.Pool(t)
	now := time.Now().UTC().Truncate(time.Microsecond)
	r := startRecorder(t, pool, RecorderOptions{Now: fixedClock(now)})
	var mine []Event // subject U1, provider TAX
	for i := range 25 {
		e := ev("TAX", "U1", "tax.revenue")
		e.At = now.Add(time.Duration(i%12) * time.Second) // ties on time are ordered by id
		e.GrantID = "0190f0a4-52f3-7c4b-9c1e-8a2f1b3c4d5e"
		mine = append(mine, e)
	}
	others := []Event{ev("TAX", "U2", "tax.revenue"), ev("MARKET", "U1", "admin.penalty"), ev("MARKET", "U2", "admin.penalty")}
	if err := r.Record(t.Context(), append(slices.Clone(mine), others...)); err != nil {
		t.Fatal(err)
	}
	// Record assigned ids and times in the slice it got, not in mine: read them back.
	page, err := Events(t.Context(), pool, EventFilter{USCC: "U1"}, 100, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Events) != 26 || page.HasNext {
		t.Fatalf("subject U1 has %d events (hasNext %v), want 26", len(page.Events), page.HasNext)
	}

	tests := []struct {
		name   string
		filter EventFilter
		want   int
	}{
		{"subject", EventFilter{USCC: "U1"}, 26},
		{"provider", EventFilter{Provider: "TAX"}, 26},
		{"other provider", EventFilter{Provider: "MARKET"}, 2},
		{"window", EventFilter{Provider: "TAX", From: now.Add(2 * time.Second), To: now.Add(4 * time.Second)}, 4},
		{"nobody", EventFilter{USCC: "U9"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var all []Event
			after := ""
			for pages := 0; ; pages++ {
				if pages > 10 {
					t.Fatal("pagination does not end")
				}
				p, err := Events(t.Context(), pool, tt.filter, 10, after)
				if err != nil {
					t.Fatal(err)
				}
				all = append(all, p.Events...)
				if len(p.Events) > 0 && p.EndCursor != EventCursor(p.Events[len(p.Events)-1]) {
					t.Fatal("end cursor is not the last event's cursor")
				}
				if !p.HasNext {
					break
				}
				after = p.EndCursor
			}
			if len(all) != tt.want {
				t.Fatalf("%d events, want %d", len(all), tt.want)
			}
			seen := map[string]bool{}
			for i, e := range all {
				if seen[e.ID] {
					t.Fatalf("event %s listed twice", e.ID)
				}
				seen[e.ID] = true
				if (tt.filter.USCC != "" && e.USCC != tt.filter.USCC) || (tt.filter.Provider != "" && e.Provider != tt.filter.Provider) {
					t.Fatalf("event %+v does not match %+v", e, tt.filter)
				}
				if i > 0 {
					prev := all[i-1]
					if e.At.After(prev.At) || (e.At.Equal(prev.At) && e.ID > prev.ID) {
						t.Fatalf("not newest first at %d: %v %s after %v %s", i, e.At, e.ID, prev.At, prev.ID)
					}
				}
			}
		})
	}

	first := page.Events[0]
	if first.Institution != "DEMO-BANK" || first.Item == "" || first.Action != View || first.Purpose != "CREDIT_REVIEW" {
		t.Fatalf("listed event lacks fields: %+v", first)
	}

	bad := []struct {
		name  string
		f     EventFilter
		first int
		after string
		code  apperr.Code
	}{
		{"cursor not base64", EventFilter{USCC: "U1"}, 10, "!!!", apperr.BadInput},
		{"cursor of something else", EventFilter{USCC: "U1"}, 10, "MDE5MGYwYTQ", apperr.BadInput},
		{"page too large", EventFilter{USCC: "U1"}, 101, "", apperr.BadInput},
		{"empty page", EventFilter{USCC: "U1"}, 0, "", apperr.BadInput},
		{"no filter", EventFilter{}, 10, "", apperr.Internal},
		{"two filters", EventFilter{USCC: "U1", Provider: "TAX"}, 10, "", apperr.Internal},
	}
	for _, tt := range bad {
		if _, err := Events(t.Context(), pool, tt.f, tt.first, tt.after); err == nil || apperr.CodeOf(err) != tt.code {
			t.Errorf("%s: Events = %v, want %s", tt.name, err, tt.code)
		}
	}
}

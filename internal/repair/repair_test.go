package repair

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"creditd/internal/apperr"
	"creditd/internal/ingest"
)

func TestApplyMinimumDisclosure(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	type rec struct{ provider, item, data string }
	penalty := func(sev string) rec {
		return rec{"NDRC", "admin.penalty", fmt.Sprintf(`{"severity":%q}`, sev)}
	}
	dishonesty := rec{"NDRC", "list.serious_dishonesty", `{"list":"严重失信主体名单"}`}
	abnormal := rec{"SAMR", "list.abnormal_operation", `{"reason":"未按期公示年报"}`}
	tests := []struct {
		name     string
		rec      rec
		occurred string
		now      time.Time
		earliest string // "" when the application is accepted
	}{
		{"minor penalty at once", penalty("minor"), "2026-06-15", testNow, ""},
		{"ordinary penalty three months on", penalty("ordinary"), "2026-04-01", testNow, "2026-07-01"},
		{"ordinary penalty one day short", penalty("ordinary"), "2026-03-16", testNow, "2026-06-16"},
		{"ordinary penalty on the day", penalty("ordinary"), "2026-03-15", testNow, ""},
		{"serious penalty one year on", penalty("serious"), "2025-07-01", testNow, "2026-07-01"},
		{"serious penalty one day short", penalty("serious"), "2025-06-16", testNow, "2026-06-16"},
		{"serious penalty on the day", penalty("serious"), "2025-06-15", testNow, ""},
		{"serious dishonesty list one year on", dishonesty, "2025-08-20", testNow, "2026-08-20"},
		{"serious dishonesty list on the day", dishonesty, "2025-06-15", testNow, ""},
		{"abnormal operation list at once", abnormal, "2026-06-15", testNow, ""},
		// 23:30 on 14 June in Shanghai is 15:30 UTC; 00:30 on 15 June is 16:30 UTC on the 14th.
		{"Shanghai date before midnight", penalty("ordinary"), "2026-03-15", time.Date(2026, 6, 14, 15, 30, 0, 0, time.UTC), "2026-06-15"},
		{"Shanghai date after midnight", penalty("ordinary"), "2026-03-15", time.Date(2026, 6, 14, 16, 30, 0, 0, time.UTC), ""},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e.clock.t = tc.now
			defer func() { e.clock.t = testNow }()
			id := e.load(t, tc.rec.provider, tc.rec.item, e.a, fmt.Sprintf("MIN-%d", i), tc.occurred, "", tc.rec.data)
			a, err := e.svc.Apply(ctx, enterprise(e.a), id, letterText)
			if tc.earliest == "" {
				if err != nil {
					t.Fatalf("Apply: %v", err)
				}
				if a.Status != Pending || a.RecordID != id || a.USCC != e.a || a.Item != tc.rec.item || a.Provider != tc.rec.provider || a.Commitment != letterText {
					t.Fatalf("application = %+v", a)
				}
				if a.Reason != nil || a.DecidedAt != nil || a.CommitmentRecordID != nil {
					t.Fatalf("undecided application has decision fields: %+v", a)
				}
				return
			}
			ae := wantCode(t, err, apperr.BadInput, tc.earliest, tc.rec.item, "minimum disclosure period")
			if got := ae.Extensions["earliestDate"]; got != tc.earliest {
				t.Fatalf("earliestDate = %v, want %s", got, tc.earliest)
			}
			var n int
			if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM repair_applications WHERE record_id = $1`, id).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Fatalf("%d applications saved for a refused record", n)
			}
		})
	}
}

func TestApplyRefusals(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	own := e.penalty(t, e.a, "OWN", "ordinary", "2025-01-10")
	others := e.penalty(t, e.b, "OTHER", "ordinary", "2025-01-10")
	judgment := e.load(t, "COURT", "court.judgment", e.a, "J-1", "2025-01-10", "", `{"case_no":"(2025)浙01民初1号"}`)
	honourRec := e.load(t, "NDRC", "honour", e.a, "H-1", "2025-01-10", "", `{"title":"守合同重信用"}`)
	long := make([]rune, MaxCommitmentChars+1)
	for i := range long {
		long[i] = '诺'
	}
	tests := []struct {
		name       string
		viewer     string // "a", "b", "provider", "operator", "institution"
		record     string
		commitment string
		code       apperr.Code
		parts      []string
	}{
		{"another enterprise's record", "a", others, letterText, apperr.Forbidden, []string{msgNoRecord}},
		{"unknown record", "a", "0190a0c8-0000-7000-8000-000000000000", letterText, apperr.Forbidden, []string{msgNoRecord}},
		{"not a record id", "a", "record-1", letterText, apperr.Forbidden, []string{msgNoRecord}},
		{"provider applies", "provider", own, letterText, apperr.Forbidden, []string{"enterprise itself"}},
		{"operator applies", "operator", own, letterText, apperr.Forbidden, nil},
		{"institution applies", "institution", own, letterText, apperr.Forbidden, nil},
		{"unrepairable item", "a", judgment, letterText, apperr.BadInput, []string{"court.judgment", "not repairable"}},
		{"public but unrepairable item", "a", honourRec, letterText, apperr.BadInput, []string{"honour", "not repairable"}},
		{"missing commitment", "a", own, "   ", apperr.BadInput, []string{"commitment", "required"}},
		{"short commitment", "a", own, "我承诺", apperr.BadInput, []string{"commitment", "at least"}},
		{"long commitment", "a", own, string(long), apperr.BadInput, []string{"commitment", "at most"}},
		{"control characters", "a", own, letterText + "\x00", apperr.BadInput, []string{"commitment", "control"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := enterprise(e.a)
			switch tc.viewer {
			case "b":
				v = enterprise(e.b)
			case "provider":
				v = provider("NDRC")
			case "operator":
				v = operator
			case "institution":
				v = institution
			}
			_, err := e.svc.Apply(ctx, v, tc.record, tc.commitment)
			wantCode(t, err, tc.code, tc.parts...)
		})
	}
	var n int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM repair_applications`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d applications saved by refused calls", n)
	}

	t.Run("one pending application per record", func(t *testing.T) {
		if _, err := e.svc.Apply(ctx, enterprise(e.a), own, letterText); err != nil {
			t.Fatal(err)
		}
		_, err := e.svc.Apply(ctx, enterprise(e.a), own, letterText)
		wantCode(t, err, apperr.BadInput, "already pending")
	})
}

func TestApplyConcurrentlyKeepsOnePending(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := e.penalty(t, e.a, "P-1", "minor", "2026-06-01")
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.Apply(ctx, enterprise(e.a), rec, letterText)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		wantCode(t, err, apperr.BadInput, "already pending")
	}
	if ok != 1 {
		t.Fatalf("%d of %d concurrent applications accepted, want 1", ok, n)
	}
}

// storedRecord is a record as the database holds it.
type storedRecord struct {
	uscc, provider, item, sourceID, occurredOn string
	data                                       json.RawMessage
	hash                                       []byte
	version                                    int
	repairedAt                                 *time.Time
}

func readRecord(t *testing.T, e *env, id string) storedRecord {
	t.Helper()
	var r storedRecord
	if err := e.pool.QueryRow(context.Background(), `
		SELECT uscc, provider, item, source_id, occurred_on::text, data::text, content_hash, version, repaired_at
		FROM records WHERE id = $1`, id).
		Scan(&r.uscc, &r.provider, &r.item, &r.sourceID, &r.occurredOn, &r.data, &r.hash, &r.version, &r.repairedAt); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestDecideApprove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := e.penalty(t, e.a, "P-1", "serious", "2025-01-10")
	applied, err := e.svc.Apply(ctx, enterprise(e.a), rec, "  "+letterText+"\n")
	if err != nil {
		t.Fatal(err)
	}
	if applied.Commitment != letterText {
		t.Fatalf("commitment kept as %q, want it trimmed", applied.Commitment)
	}
	e.clock.t = testNow.Add(48 * time.Hour) // decided on 17 June
	decidedAt := e.clock.t.UTC()
	a, err := e.svc.Decide(ctx, provider("NDRC"), applied.ID, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != Approved || a.ID != applied.ID || a.Reason != nil || a.DecidedBy == nil || *a.DecidedBy != "NDRC" ||
		a.DecidedAt == nil || !a.DecidedAt.Equal(decidedAt) || a.CommitmentRecordID == nil || !a.CreatedAt.Equal(testNow) {
		t.Fatalf("approved application = %+v", a)
	}

	repaired := readRecord(t, e, rec)
	if repaired.repairedAt == nil || !repaired.repairedAt.Equal(decidedAt) {
		t.Fatalf("repaired_at = %v, want %v", repaired.repairedAt, decidedAt)
	}

	letter := readRecord(t, e, *a.CommitmentRecordID)
	if letter.uscc != e.a || letter.provider != "NDRC" || letter.item != CommitmentItem ||
		letter.sourceID != "repair-"+a.ID || letter.occurredOn != "2026-06-17" || letter.version != 1 || letter.repairedAt != nil {
		t.Fatalf("commitment record = %+v", letter)
	}
	var data map[string]string
	if err := json.Unmarshal(letter.data, &data); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"type": LetterType, "text": letterText, "repaired_item": "admin.penalty", "repaired_record": rec, "application": a.ID}
	if fmt.Sprint(data) != fmt.Sprint(want) {
		t.Fatalf("letter data = %v, want %v", data, want)
	}
	hash, err := ingest.ContentHash("2026-06-17", "", letter.data)
	if err != nil {
		t.Fatal(err)
	}
	if string(hash) != string(letter.hash) {
		t.Fatal("content_hash of the commitment record is not the loader's")
	}
	// The loader counts the same letter sent by its provider as a duplicate.
	res, err := e.loader.Submit(ctx, "NDRC", CommitmentItem, []ingest.Row{{SourceID: "repair-" + a.ID, USCC: e.a, OccurredOn: "2026-06-17", Data: letter.data}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Duplicates != 1 {
		t.Fatalf("reloading the letter: %+v, want one duplicate", res)
	}

	got, err := e.svc.Get(ctx, enterprise(e.a), a.ID)
	if err != nil || got.Status != Approved || *got.CommitmentRecordID != *a.CommitmentRecordID {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	_, err = e.svc.Decide(ctx, provider("NDRC"), a.ID, false, ptr("changed my mind"))
	wantCode(t, err, apperr.BadInput, "already APPROVED", "2026-06-17", "PENDING")
	_, err = e.svc.Apply(ctx, enterprise(e.a), rec, letterText)
	wantCode(t, err, apperr.BadInput, "already repaired on 2026-06-17")
}

func TestDecideReject(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	rec := e.penalty(t, e.a, "P-1", "ordinary", "2025-01-10")
	applied, err := e.svc.Apply(ctx, enterprise(e.a), rec, letterText)
	if err != nil {
		t.Fatal(err)
	}
	for _, reason := range []*string{nil, ptr(""), ptr(" \n ")} {
		_, err := e.svc.Decide(ctx, provider("NDRC"), applied.ID, false, reason)
		wantCode(t, err, apperr.BadInput, "reason", "required")
	}
	a, err := e.svc.Decide(ctx, provider("NDRC"), applied.ID, false, ptr("  整改材料不完整，未提供罚款缴纳凭证  "))
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != Rejected || a.Reason == nil || *a.Reason != "整改材料不完整，未提供罚款缴纳凭证" || a.CommitmentRecordID != nil || a.DecidedAt == nil {
		t.Fatalf("rejected application = %+v", a)
	}
	if r := readRecord(t, e, rec); r.repairedAt != nil {
		t.Fatalf("rejected repair marked the record repaired at %v", r.repairedAt)
	}
	var letters int
	if err := e.pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE item = $1`, CommitmentItem).Scan(&letters); err != nil {
		t.Fatal(err)
	}
	if letters != 0 {
		t.Fatalf("%d commitment records after a rejection", letters)
	}
	got, err := e.svc.Get(ctx, enterprise(e.a), a.ID)
	if err != nil || got.Reason == nil || *got.Reason != *a.Reason {
		t.Fatalf("Get after rejection = %+v, %v", got, err)
	}
	// A rejected application is no longer pending: the enterprise may apply again.
	again, err := e.svc.Apply(ctx, enterprise(e.a), rec, letterText)
	if err != nil {
		t.Fatal(err)
	}
	if again.ID == a.ID || again.Status != Pending {
		t.Fatalf("second application = %+v", again)
	}
}

func TestDecideOnlyByTheItemsProvider(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	penaltyRec := e.penalty(t, e.a, "P-1", "ordinary", "2025-01-10")
	abnormalRec := e.load(t, "SAMR", "list.abnormal_operation", e.a, "AB-1", "2026-06-01", "", `{"reason":"通过登记的住所无法联系"}`)
	penaltyApp, err := e.svc.Apply(ctx, enterprise(e.a), penaltyRec, letterText)
	if err != nil {
		t.Fatal(err)
	}
	abnormalApp, err := e.svc.Apply(ctx, enterprise(e.a), abnormalRec, letterText)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		app    string
		viewer string
	}{
		{"another provider", penaltyApp.ID, "SAMR"},
		{"the provider of another item", abnormalApp.ID, "NDRC"},
		{"the applicant", penaltyApp.ID, "a"},
		{"another enterprise", penaltyApp.ID, "b"},
		{"an operator", penaltyApp.ID, "operator"},
		{"an institution", penaltyApp.ID, "institution"},
		{"unknown id", "0190a0c8-0000-7000-8000-000000000000", "NDRC"},
		{"not an id", "app-1", "NDRC"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := provider(tc.viewer)
			switch tc.viewer {
			case "a":
				v = enterprise(e.a)
			case "b":
				v = enterprise(e.b)
			case "operator":
				v = operator
			case "institution":
				v = institution
			}
			_, err := e.svc.Decide(ctx, v, tc.app, true, nil)
			wantCode(t, err, apperr.Forbidden, msgNoDecision)
		})
	}
	for _, id := range []string{penaltyApp.ID, abnormalApp.ID} {
		if a, err := e.svc.Get(ctx, operator, id); err != nil || a.Status != Pending {
			t.Fatalf("after refused decisions: %+v, %v", a, err)
		}
	}
	if r := readRecord(t, e, penaltyRec); r.repairedAt != nil {
		t.Fatal("a refused decision repaired the record")
	}
	a, err := e.svc.Decide(ctx, provider("SAMR"), abnormalApp.ID, true, ptr("已补报年报并完成整改"))
	if err != nil {
		t.Fatal(err)
	}
	if a.Status != Approved || a.Reason == nil || *a.Reason != "已补报年报并完成整改" {
		t.Fatalf("approved by SAMR: %+v", a)
	}
	// The letter is published under the commitment item's provider, whoever approved.
	if letter := readRecord(t, e, *a.CommitmentRecordID); letter.provider != "NDRC" || letter.item != CommitmentItem {
		t.Fatalf("letter published as %s/%s", letter.provider, letter.item)
	}
}

func TestGetAndList(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var aApps []Application
	for i, sev := range []string{"minor", "ordinary", "serious"} {
		rec := e.penalty(t, e.a, fmt.Sprintf("P-%d", i), sev, "2025-01-10")
		app, err := e.svc.Apply(ctx, enterprise(e.a), rec, letterText)
		if err != nil {
			t.Fatal(err)
		}
		aApps = append(aApps, app)
	}
	abnormal := e.load(t, "SAMR", "list.abnormal_operation", e.b, "AB-1", "2026-06-01", "", `{"reason":"未按期公示年报"}`)
	bApp, err := e.svc.Apply(ctx, enterprise(e.b), abnormal, letterText)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("get", func(t *testing.T) {
		tests := []struct {
			name string
			v    string
			id   string
			ok   bool
		}{
			{"applicant", "a", aApps[0].ID, true},
			{"item's provider", "NDRC", aApps[0].ID, true},
			{"operator", "operator", aApps[0].ID, true},
			{"another enterprise", "b", aApps[0].ID, false},
			{"another provider", "SAMR", aApps[0].ID, false},
			{"institution", "institution", aApps[0].ID, false},
			{"unknown id", "operator", "0190a0c8-0000-7000-8000-000000000000", false},
			{"SAMR reads its item's application", "SAMR", bApp.ID, true},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				v := provider(tc.v)
				switch tc.v {
				case "a":
					v = enterprise(e.a)
				case "b":
					v = enterprise(e.b)
				case "operator":
					v = operator
				case "institution":
					v = institution
				}
				a, err := e.svc.Get(ctx, v, tc.id)
				if !tc.ok {
					wantCode(t, err, apperr.NotFound, msgNoRead)
					return
				}
				if err != nil || a.ID != tc.id {
					t.Fatalf("Get = %+v, %v", a, err)
				}
			})
		}
	})

	ids := func(p Page) []string {
		var out []string
		for _, a := range p.Applications {
			out = append(out, a.ID)
		}
		return out
	}
	t.Run("list pages newest first", func(t *testing.T) {
		p1, err := e.svc.List(ctx, enterprise(e.a), 2, "")
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids(p1)) != fmt.Sprint([]string{aApps[2].ID, aApps[1].ID}) || !p1.HasNext || p1.EndCursor == "" {
			t.Fatalf("page 1 = %v (next %v)", ids(p1), p1.HasNext)
		}
		p2, err := e.svc.List(ctx, enterprise(e.a), 2, p1.EndCursor)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(ids(p2)) != fmt.Sprint([]string{aApps[0].ID}) || p2.HasNext {
			t.Fatalf("page 2 = %v (next %v)", ids(p2), p2.HasNext)
		}
	})
	t.Run("list by viewer", func(t *testing.T) {
		tests := []struct {
			name string
			v    string
			want []string
		}{
			{"enterprise b", "b", []string{bApp.ID}},
			{"provider NDRC", "NDRC", []string{aApps[2].ID, aApps[1].ID, aApps[0].ID}},
			{"provider SAMR", "SAMR", []string{bApp.ID}},
			{"provider with no items", "TAX", nil},
			{"operator", "operator", []string{bApp.ID, aApps[2].ID, aApps[1].ID, aApps[0].ID}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				v := provider(tc.v)
				switch tc.v {
				case "b":
					v = enterprise(e.b)
				case "operator":
					v = operator
				}
				p, err := e.svc.List(ctx, v, 10, "")
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(ids(p)) != fmt.Sprint(tc.want) || p.HasNext {
					t.Fatalf("list = %v, want %v", ids(p), tc.want)
				}
			})
		}
	})
	t.Run("list refusals", func(t *testing.T) {
		_, err := e.svc.List(ctx, institution, 10, "")
		wantCode(t, err, apperr.Forbidden)
		_, err = e.svc.List(ctx, operator, 0, "")
		wantCode(t, err, apperr.BadInput, "first")
		_, err = e.svc.List(ctx, operator, MaxPageSize+1, "")
		wantCode(t, err, apperr.BadInput, "first")
		_, err = e.svc.List(ctx, operator, 10, "not-a-cursor")
		wantCode(t, err, apperr.BadInput, "after")
	})
}

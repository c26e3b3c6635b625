package objections

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
	"creditd/internal/ingest"
	"creditd/internal/policy"
)

// The provider's three answers, each walked from filing to closing across National Day 2026
// (10-01..10-07 off, Saturday 10-10 a make-up working day).
func TestProviderPaths(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		outcome   Outcome
		corrected json.RawMessage
		check     func(t *testing.T, id string, before storedRecord)
	}{
		{Corrected, json.RawMessage(`{"severity":"minor","decision_no":"罚字〔2025〕更正号","amount":500}`),
			func(t *testing.T, id string, before storedRecord) {
				r := e.record(id)
				if r.version != 2 || r.data["severity"] != "minor" || r.data["amount"] != float64(500) {
					t.Errorf("corrected record = v%d %v, want v2 with the corrected data", r.version, r.data)
				}
				if v := e.versions(id); len(v) != 1 || v[0]["amount"] != float64(5000) || v[0]["severity"] != "ordinary" {
					t.Errorf("kept versions = %v, want the original data", v)
				}
				if r.deletedAt != nil {
					t.Error("corrected record is deleted")
				}
			}},
		{Upheld, nil, func(t *testing.T, id string, before storedRecord) {
			r := e.record(id)
			if r.version != 1 || r.data["amount"] != before.data["amount"] || r.deletedAt != nil {
				t.Errorf("upheld record changed: v%d %v deleted %v", r.version, r.data, r.deletedAt)
			}
			if v := e.versions(id); len(v) != 0 {
				t.Errorf("upheld record has versions %v", v)
			}
		}},
		{DeletedUnverifiable, nil, func(t *testing.T, id string, before storedRecord) {
			r := e.record(id)
			if r.deletedAt == nil || !r.deletedAt.Equal(at("2026-10-16", 15, 0)) {
				t.Errorf("deleted_at = %v, want the time of the answer", r.deletedAt)
			}
			if r.deletionReason == nil || *r.deletionReason != "无法核实: 原始文书缺失" {
				t.Errorf("deletion_reason = %v", r.deletionReason)
			}
			if r.version != 1 || r.data["amount"] != before.data["amount"] {
				t.Errorf("deleted record's data changed: v%d %v", r.version, r.data)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(string(tt.outcome), func(t *testing.T) {
			ok := mustOf(t)
			rec := e.penalty(e.a, "P-"+string(tt.outcome))
			before := e.record(rec)

			e.set(at("2026-09-30", 10, 0))
			o := ok(e.svc.File(e.ctx, e.entA, rec, "处罚金额与决定书不符"))
			wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-10-10")), false)
			if o.RecordID != rec || o.USCC != e.a || o.Applicant != e.a || o.Item != "admin.penalty" || o.Provider != "NDRC" {
				t.Errorf("filed objection = %+v", o)
			}
			if !e.record(rec).underObjection {
				t.Fatal("record not annotated UNDER_OBJECTION when the objection was filed")
			}

			e.set(at("2026-10-10", 9, 0)) // the make-up Saturday
			o = ok(e.svc.Review(e.ctx, e.operator, o.ID, false, "数据来源于提供单位", nil))
			wantState(t, o, WithProvider, "", false, ptr(endOf("2026-10-16")), false)

			note := "核实结果"
			var data json.RawMessage
			switch tt.outcome {
			case Corrected:
				data = tt.corrected
			case DeletedUnverifiable:
				note = "无法核实: 原始文书缺失"
			}
			e.set(at("2026-10-16", 15, 0))
			o = ok(e.svc.Answer(e.ctx, e.ndrc, o.ID, tt.outcome, note, data))
			wantState(t, o, Notifying, tt.outcome, false, ptr(endOf("2026-10-20")), false)
			if !e.record(rec).underObjection {
				t.Error("annotation cleared before the applicant was told")
			}
			tt.check(t, rec, before)

			e.set(at("2026-10-19", 11, 0))
			o = ok(e.svc.Notify(e.ctx, e.operator, o.ID))
			wantState(t, o, Closed, tt.outcome, false, nil, false)
			if e.record(rec).underObjection {
				t.Error("annotation not cleared on closing")
			}
			tt.check(t, rec, before)

			got := ok(e.svc.Get(e.ctx, e.entA, o.ID))
			wantState(t, got, Closed, tt.outcome, false, nil, false)

			steps, err := e.svc.History(e.ctx, e.entA, o.ID)
			if err != nil {
				t.Fatal(err)
			}
			want := []struct {
				action string
				role   policy.Role
				actor  string
				status Status
				due    *time.Time
			}{
				{"FILED", policy.Enterprise, e.a, PlatformReview, ptr(endOf("2026-10-10"))},
				{"REVIEWED", policy.Operator, "PLATFORM", WithProvider, ptr(endOf("2026-10-16"))},
				{"ANSWERED", policy.Provider, "NDRC", Notifying, ptr(endOf("2026-10-20"))},
				{"NOTIFIED", policy.Operator, "PLATFORM", Closed, nil},
			}
			if len(steps) != len(want) {
				t.Fatalf("history has %d steps, want %d: %+v", len(steps), len(want), steps)
			}
			for j, w := range want {
				s := steps[j]
				if s.Seq != j+1 || s.Action != w.action || s.ActorRole != w.role || s.Actor != w.actor || s.Status != w.status ||
					(s.DueBy == nil) != (w.due == nil) || (w.due != nil && !s.DueBy.Equal(*w.due)) {
					t.Errorf("step %d = %+v, want %+v", j+1, s, w)
				}
			}
			if steps[2].Outcome != tt.outcome || !strings.Contains(steps[2].Note, note) {
				t.Errorf("answer step = %+v", steps[2])
			}
		})
	}
}

// The platform's own error: corrected at review, the applicant told within 2 working days.
func TestPlatformError(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	rec := e.penalty(e.a, "P-PLATFORM")

	// Spring Festival 2026: 02-15..02-23 off, Saturday 02-14 a make-up working day.
	e.set(at("2026-02-12", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, rec, "决定书编号录入错误"))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-02-24")), false)

	e.set(at("2026-02-24", 9, 0))
	bad := []struct {
		name string
		data json.RawMessage
		want string
	}{
		{"missing", nil, "correctedData: required"},
		{"null", json.RawMessage(`null`), "correctedData: required"},
		{"not an object", json.RawMessage(`[1,2]`), "JSON object"},
		{"not JSON", json.RawMessage(`{"severity":`), "not valid JSON"},
		{"penalty without severity", json.RawMessage(`{"decision_no":"x"}`), "correctedData.severity"},
	}
	for _, b := range bad {
		_, err := e.svc.Review(e.ctx, e.operator, o.ID, true, "平台录入错误", b.data)
		wantCode(t, err, apperr.BadInput, b.want)
	}
	if got := ok(e.svc.Get(e.ctx, e.operator, o.ID)); got.Status != PlatformReview || len(e.versions(rec)) != 0 {
		t.Fatalf("a refused review changed the objection (%s) or the record", got.Status)
	}

	corrected := json.RawMessage(`{"severity":"ordinary","decision_no":"罚字〔2025〕8号","amount":5000}`)
	o = ok(e.svc.Review(e.ctx, e.operator, o.ID, true, "平台录入错误, 已更正", corrected))
	wantState(t, o, Notifying, Corrected, false, ptr(endOf("2026-02-26")), false)
	r := e.record(rec)
	if r.version != 2 || r.data["decision_no"] != "罚字〔2025〕8号" || !r.underObjection {
		t.Errorf("record after correction = %+v", r)
	}
	if v := e.versions(rec); len(v) != 1 || v[0]["decision_no"] != "罚字〔2025〕P-PLATFORM号" {
		t.Errorf("kept versions = %v", v)
	}
	hash, err := ingest.ContentHash("2025-11-20", "", corrected)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.hash, hash) {
		t.Error("content_hash does not match the corrected data")
	}
	// The provider sending the corrected content again is a duplicate, not a new change.
	cat, _ := catalog.Default()
	l := ingest.NewLoader(e.pool, cat, ingest.Options{Now: func() time.Time { return at("2026-02-25", 9, 0) }, Logger: slog.New(slog.DiscardHandler)})
	res, err := l.Submit(e.ctx, "NDRC", "admin.penalty", []ingest.Row{{SourceID: "P-PLATFORM", USCC: e.a, OccurredOn: "2025-11-20", Data: corrected}})
	if err != nil || res.Duplicates != 1 {
		t.Errorf("resubmitting the corrected record: %+v, %v; want a duplicate", res, err)
	}

	e.set(at("2026-02-26", 16, 0))
	o = ok(e.svc.Notify(e.ctx, e.operator, o.ID))
	wantState(t, o, Closed, Corrected, false, nil, false)
	if e.record(rec).underObjection {
		t.Error("annotation not cleared")
	}
	steps, err := e.svc.History(e.ctx, e.operator, o.ID)
	if err != nil || len(steps) != 3 || steps[1].Action != "REVIEWED" || steps[1].Outcome != Corrected {
		t.Errorf("history = %+v, %v", steps, err)
	}
}

// Correcting a registration record refreshes the enterprise it registers.
func TestRegistrationCorrection(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	rec := e.recordID("REG-A")
	e.set(at("2026-03-02", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, rec, "企业名称有误"))
	if o.Provider != "SAMR" {
		t.Fatalf("provider = %s", o.Provider)
	}
	ok(e.svc.Get(e.ctx, e.samr, o.ID))
	_, err := e.svc.Review(e.ctx, e.operator, o.ID, true, "名称录入错误", json.RawMessage(`{"size":"small"}`))
	wantCode(t, err, apperr.BadInput, "correctedData.name")
	o = ok(e.svc.Review(e.ctx, e.operator, o.ID, true, "名称录入错误", json.RawMessage(`{"name":"甲测试股份有限公司","size":"small"}`)))
	wantState(t, o, Notifying, Corrected, false, ptr(endOf("2026-03-04")), false)
	var name string
	if err := e.pool.QueryRow(e.ctx, `SELECT name FROM enterprises WHERE uscc = $1`, e.a).Scan(&name); err != nil {
		t.Fatal(err)
	}
	if name != "甲测试股份有限公司" {
		t.Errorf("enterprise name = %q after the correction", name)
	}
}

func TestPauseResume(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	rec := e.penalty(e.a, "P-PAUSE")

	e.set(at("2026-09-28", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, rec, "金额有误"))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-10-08")), false)

	e.set(at("2026-09-29", 14, 0))
	o = ok(e.svc.Pause(e.ctx, e.operator, o.ID, "送检: 文书鉴定"))
	wantState(t, o, PlatformReview, "", true, nil, false)
	if got := ok(e.svc.Get(e.ctx, e.entA, o.ID)); got.DueBy != nil || !got.Paused {
		t.Errorf("paused objection read back with dueBy %v paused %v", got.DueBy, got.Paused)
	}
	var left int
	if err := e.pool.QueryRow(e.ctx, `SELECT remaining_days FROM objections WHERE id = $1`, o.ID).Scan(&left); err != nil || left != 2 {
		t.Errorf("working days kept = %d, %v; want 2 (09-30 and 10-08)", left, err)
	}
	_, err := e.svc.Pause(e.ctx, e.operator, o.ID, "再次暂停")
	wantCode(t, err, apperr.BadInput, "already paused")

	// A paused step is never overdue, even past its old deadline.
	e.set(at("2026-10-09", 8, 0))
	if list, err := e.svc.Overdue(e.ctx, e.operator); err != nil || len(list) != 0 {
		t.Errorf("overdue while paused = %v, %v", ids(list), err)
	}

	// Resumed on Friday 10-09: the two days left are Saturday 10-10 (make-up) and Monday 10-12.
	e.set(at("2026-10-09", 9, 0))
	o = ok(e.svc.Resume(e.ctx, e.operator, o.ID))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-10-12")), false)
	_, err = e.svc.Resume(e.ctx, e.operator, o.ID)
	wantCode(t, err, apperr.BadInput, "not paused")

	e.set(at("2026-10-12", 10, 0))
	o = ok(e.svc.Review(e.ctx, e.operator, o.ID, false, "转提供单位核实", nil))
	wantState(t, o, WithProvider, "", false, ptr(endOf("2026-10-19")), false)

	// Paused with the provider, which answers during the pause: the next step starts running.
	e.set(at("2026-10-14", 10, 0))
	o = ok(e.svc.Pause(e.ctx, e.operator, o.ID, "专家评审"))
	wantState(t, o, WithProvider, "", true, nil, false)
	e.set(at("2026-10-20", 10, 0))
	o = ok(e.svc.Answer(e.ctx, e.ndrc, o.ID, Upheld, "经核实无误", nil))
	wantState(t, o, Notifying, Upheld, false, ptr(endOf("2026-10-22")), false)

	e.set(at("2026-10-21", 10, 0))
	o = ok(e.svc.Notify(e.ctx, e.operator, o.ID))
	_, err = e.svc.Pause(e.ctx, e.operator, o.ID, "暂停")
	wantCode(t, err, apperr.BadInput, "CLOSED")
	_, err = e.svc.Resume(e.ctx, e.operator, o.ID)
	wantCode(t, err, apperr.BadInput, "CLOSED")

	steps, err := e.svc.History(e.ctx, e.operator, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, s := range steps {
		actions = append(actions, s.Action)
	}
	if got := strings.Join(actions, " "); got != "FILED PAUSED RESUMED REVIEWED PAUSED ANSWERED NOTIFIED" {
		t.Errorf("history = %s", got)
	}
	if !strings.Contains(steps[1].Note, "送检") || !strings.Contains(steps[1].Note, "2 working days left") {
		t.Errorf("pause note = %q", steps[1].Note)
	}
}

// Pausing on the last day and after the deadline.
func TestPauseAtAndAfterDeadline(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)

	// Filed Monday 03-02, due Thursday 03-05; paused on 03-05 with no working day left: the
	// step is due at the end of the resume day.
	onDue := ok(func() (Objection, error) {
		e.set(at("2026-03-02", 10, 0))
		return e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-ONDUE"), "异议")
	}())
	wantState(t, onDue, PlatformReview, "", false, ptr(endOf("2026-03-05")), false)
	overdue := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-OVERDUE"), "异议"))

	e.set(at("2026-03-05", 10, 0))
	ok(e.svc.Pause(e.ctx, e.operator, onDue.ID, "检测"))
	e.set(at("2026-03-10", 10, 0))
	o := ok(e.svc.Resume(e.ctx, e.operator, onDue.ID))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-03-10")), false)

	// Paused when already overdue: resuming does not make it timely again.
	e.set(at("2026-03-09", 10, 0))
	ok(e.svc.Pause(e.ctx, e.operator, overdue.ID, "检测"))
	e.set(at("2026-03-20", 10, 0))
	o = ok(e.svc.Resume(e.ctx, e.operator, overdue.ID))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2026-03-05")), false)
	list, err := e.svc.Overdue(e.ctx, e.operator)
	if err != nil || fmtIDs(ids(list)) != fmtIDs([]string{overdue.ID, onDue.ID}) {
		t.Errorf("overdue = %v, %v; want both, the older deadline first", ids(list), err)
	}
}

// Deadlines that reach into the provisional 2027 calendar, and a year with no data at all.
func TestProvisionalAndMissingYear(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	e.set(at("2026-12-30", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-2027"), "异议"))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2027-01-05")), true)

	e.set(at("2026-12-31", 10, 0))
	o = ok(e.svc.Pause(e.ctx, e.operator, o.ID, "鉴定"))
	wantState(t, o, PlatformReview, "", true, nil, false)
	e.set(at("2027-01-04", 9, 0))
	o = ok(e.svc.Resume(e.ctx, e.operator, o.ID))
	wantState(t, o, PlatformReview, "", false, ptr(endOf("2027-01-06")), true)

	// Only 2026 counted: official.
	e.set(at("2026-12-28", 10, 0))
	o2 := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-2026"), "异议"))
	wantState(t, o2, PlatformReview, "", false, ptr(endOf("2026-12-31")), false)

	// 2027-12-29 + 3 working days reaches 2028, which has no calendar data: refused, nothing stored.
	rec := e.penalty(e.a, "P-2028")
	e.set(at("2027-12-29", 10, 0))
	_, err := e.svc.File(e.ctx, e.entA, rec, "异议")
	wantCode(t, err, apperr.Internal, "2028")
	if e.record(rec).underObjection {
		t.Error("record annotated by a refused filing")
	}
	var n int
	if err := e.pool.QueryRow(e.ctx, `SELECT count(*) FROM objections WHERE record_id = $1`, rec).Scan(&n); err != nil || n != 0 {
		t.Errorf("objections stored for a refused filing: %d, %v", n, err)
	}
}

func TestOverdue(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	e.set(at("2026-09-30", 10, 0))
	o1 := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-O1"), "异议一"))
	o2 := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-O2"), "异议二"))
	o3 := ok(e.svc.File(e.ctx, e.entB, e.penalty(e.b, "P-O3"), "异议三"))

	overdue := func(want ...string) {
		t.Helper()
		list, err := e.svc.Overdue(e.ctx, e.operator)
		if err != nil {
			t.Fatal(err)
		}
		if fmtIDs(ids(list)) != fmtIDs(want) {
			t.Errorf("at %s overdue = %v, want %v", e.clock.t.Format(time.RFC3339), ids(list), want)
		}
	}
	e.set(endOf("2026-10-10"))
	overdue()
	e.set(at("2026-10-11", 10, 0))
	overdue(o1.ID, o2.ID, o3.ID)

	ok(e.svc.Review(e.ctx, e.operator, o1.ID, false, "转提供单位", nil)) // due 10-16
	ok(e.svc.Pause(e.ctx, e.operator, o2.ID, "鉴定"))
	overdue(o3.ID)

	e.set(at("2026-10-17", 10, 0))
	overdue(o3.ID, o1.ID)

	for _, v := range []policy.Viewer{e.entA, e.ndrc, e.bank} {
		_, err := e.svc.Overdue(e.ctx, v)
		wantCode(t, err, apperr.Forbidden)
	}
}

func TestTransfer(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	rec := e.penalty(e.a, "P-T")
	e.set(at("2026-09-30", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, rec, "处罚认定错误"))
	e.set(at("2026-10-09", 10, 0))
	ok(e.svc.Review(e.ctx, e.operator, o.ID, false, "转提供单位", nil))
	ok(e.svc.Answer(e.ctx, e.ndrc, o.ID, Upheld, "经核实无误", nil))

	_, err := e.svc.Dispute(e.ctx, e.entA, o.ID, "仍有异议")
	wantCode(t, err, apperr.BadInput, "NOTIFYING")

	e.set(at("2026-10-12", 10, 0))
	ok(e.svc.Notify(e.ctx, e.operator, o.ID))

	for _, v := range []policy.Viewer{e.operator, e.ndrc, e.entB, e.bank} {
		_, err := e.svc.Dispute(e.ctx, v, o.ID, "仍有异议")
		wantCode(t, err, apperr.Forbidden)
	}
	_, err = e.svc.Dispute(e.ctx, e.entA, o.ID, " ")
	wantCode(t, err, apperr.BadInput, "reason")

	e.set(at("2026-10-13", 10, 0))
	o = ok(e.svc.Dispute(e.ctx, e.entA, o.ID, "不服核实结果, 申请转主管部门"))
	wantState(t, o, Transferred, Upheld, false, nil, false)

	_, err = e.svc.Dispute(e.ctx, e.entA, o.ID, "再次")
	wantCode(t, err, apperr.BadInput, "TRANSFERRED")
	_, err = e.svc.Pause(e.ctx, e.operator, o.ID, "暂停")
	wantCode(t, err, apperr.BadInput, "TRANSFERRED")
	_, err = e.svc.Notify(e.ctx, e.operator, o.ID)
	wantCode(t, err, apperr.BadInput, "TRANSFERRED")
	if e.record(rec).underObjection {
		t.Error("record annotated after the objection closed")
	}
	steps, err := e.svc.History(e.ctx, e.entA, o.ID)
	if err != nil || len(steps) != 5 || steps[4].Action != "DISPUTED" || steps[4].Actor != e.a || !strings.Contains(steps[4].Note, "主管部门") {
		t.Errorf("history = %+v, %v", steps, err)
	}

	// A closed objection no longer blocks a new one on the same record.
	o2 := ok(e.svc.File(e.ctx, e.entA, rec, "新的异议"))
	if o2.Status != PlatformReview || !e.record(rec).underObjection {
		t.Errorf("new objection = %+v", o2)
	}
}

func TestFileRefusals(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	recA := e.penalty(e.a, "P-A")
	recB := e.penalty(e.b, "P-B")
	e.set(at("2026-06-01", 10, 0))

	// Another enterprise's record and an unknown record are refused alike.
	_, errOther := e.svc.File(e.ctx, e.entA, recB, "异议")
	wantCode(t, errOther, apperr.Forbidden)
	unknown := uuid.Must(uuid.NewV7()).String()
	_, errUnknown := e.svc.File(e.ctx, e.entA, unknown, "异议")
	wantCode(t, errUnknown, apperr.Forbidden)
	if strings.ReplaceAll(errOther.Error(), recB, "ID") != strings.ReplaceAll(errUnknown.Error(), unknown, "ID") {
		t.Errorf("refusals differ: %q vs %q", errOther, errUnknown)
	}
	if e.record(recB).underObjection {
		t.Error("another enterprise's record was annotated")
	}

	for _, v := range []policy.Viewer{e.operator, e.ndrc, e.bank} {
		_, err := e.svc.File(e.ctx, v, recA, "异议")
		wantCode(t, err, apperr.Forbidden)
		_, err = e.svc.File(e.ctx, v, unknown, "异议")
		wantCode(t, err, apperr.Forbidden)
	}

	_, err := e.svc.File(e.ctx, e.entA, recA, "  ")
	wantCode(t, err, apperr.BadInput, "reason")
	_, err = e.svc.File(e.ctx, e.entA, "not-an-id", "异议")
	wantCode(t, err, apperr.BadInput, "recordId")
	_, err = e.svc.File(e.ctx, e.entA, recA, strings.Repeat("长", MaxTextLength+1))
	wantCode(t, err, apperr.BadInput, "reason")

	o := ok(e.svc.FileWithEvidence(e.ctx, e.entA, recA, "异议", "证据: 决定书扫描件 sha256:ab12"))
	if o.Evidence != "证据: 决定书扫描件 sha256:ab12" {
		t.Errorf("evidence = %q", o.Evidence)
	}
	if got := ok(e.svc.Get(e.ctx, e.ndrc, o.ID)); got.Evidence != o.Evidence || got.Reason != "异议" {
		t.Errorf("read back = %+v", got)
	}
	_, err = e.svc.File(e.ctx, e.entA, recA, "再次异议")
	wantCode(t, err, apperr.BadInput, "open objection")

	// A deleted record and a self-report cannot be objected to.
	recDel := e.penalty(e.a, "P-DEL")
	if _, err := e.pool.Exec(e.ctx, `UPDATE records SET deleted_at = now(), deletion_reason = 'x' WHERE id = $1`, recDel); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.File(e.ctx, e.entA, recDel, "异议")
	wantCode(t, err, apperr.BadInput, "deleted")
	self := uuid.Must(uuid.NewV7()).String()
	if _, err := e.pool.Exec(e.ctx, `INSERT INTO records (uscc, id, provider, item, source_id, occurred_on, data, content_hash)
		VALUES ($1, $2, 'SELF', 'self.reported', 'S1', '2026-01-05', '{"text":"自报"}', '\x00')`, e.a, self); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.File(e.ctx, e.entA, self, "异议")
	wantCode(t, err, apperr.BadInput, "self-reported")
}

// Two filings on one record at once: exactly one objection.
func TestConcurrentFiling(t *testing.T) {
	e := newEnv(t)
	rec := e.penalty(e.a, "P-RACE")
	e.set(at("2026-06-01", 10, 0))
	const n = 6
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = e.svc.File(e.ctx, e.entA, rec, "异议")
		}()
	}
	wg.Wait()
	filed := 0
	for _, err := range errs {
		switch {
		case err == nil:
			filed++
		case apperr.CodeOf(err) != apperr.BadInput:
			t.Errorf("unexpected error: %v", err)
		}
	}
	if filed != 1 {
		t.Errorf("%d filings succeeded, want 1", filed)
	}
}

// Each step only for the role it names, only in its status; refused steps change nothing.
func TestWrongRoleAndStatus(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	e.set(at("2026-06-01", 10, 0))
	o := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-W"), "异议"))
	unknown := uuid.Must(uuid.NewV7()).String()
	data := json.RawMessage(`{"severity":"minor"}`)

	tests := []struct {
		name string
		call func() (Objection, error)
		code apperr.Code
		want string
	}{
		{"review by the applicant", func() (Objection, error) { return e.svc.Review(e.ctx, e.entA, o.ID, false, "n", nil) }, apperr.Forbidden, "operators"},
		{"review by the provider", func() (Objection, error) { return e.svc.Review(e.ctx, e.ndrc, o.ID, false, "n", nil) }, apperr.Forbidden, "operators"},
		{"review by another enterprise", func() (Objection, error) { return e.svc.Review(e.ctx, e.entB, o.ID, false, "n", nil) }, apperr.Forbidden, "may see"},
		{"review by an institution", func() (Objection, error) { return e.svc.Review(e.ctx, e.bank, o.ID, false, "n", nil) }, apperr.Forbidden, ""},
		{"review of an unknown objection", func() (Objection, error) { return e.svc.Review(e.ctx, e.operator, unknown, false, "n", nil) }, apperr.NotFound, unknown},
		{"review with a bad id", func() (Objection, error) { return e.svc.Review(e.ctx, e.operator, "x", false, "n", nil) }, apperr.BadInput, "id"},
		{"review without a note", func() (Objection, error) { return e.svc.Review(e.ctx, e.operator, o.ID, false, "", nil) }, apperr.BadInput, "note"},
		{"review forwarding with data", func() (Objection, error) { return e.svc.Review(e.ctx, e.operator, o.ID, false, "n", data) }, apperr.BadInput, "correctedData"},
		{"answer before review", func() (Objection, error) { return e.svc.Answer(e.ctx, e.ndrc, o.ID, Upheld, "n", nil) }, apperr.BadInput, "PLATFORM_REVIEW"},
		{"answer by an operator", func() (Objection, error) { return e.svc.Answer(e.ctx, e.operator, o.ID, Upheld, "n", nil) }, apperr.Forbidden, "provider"},
		{"answer by another provider", func() (Objection, error) { return e.svc.Answer(e.ctx, e.tax, o.ID, Upheld, "n", nil) }, apperr.Forbidden, "may see"},
		{"answer by the applicant", func() (Objection, error) { return e.svc.Answer(e.ctx, e.entA, o.ID, Upheld, "n", nil) }, apperr.Forbidden, "provider"},
		{"answer with an unknown outcome", func() (Objection, error) { return e.svc.Answer(e.ctx, e.ndrc, o.ID, "MAYBE", "n", nil) }, apperr.BadInput, "outcome"},
		{"answer upheld with data", func() (Objection, error) { return e.svc.Answer(e.ctx, e.ndrc, o.ID, Upheld, "n", data) }, apperr.BadInput, "correctedData"},
		{"answer corrected without data", func() (Objection, error) { return e.svc.Answer(e.ctx, e.ndrc, o.ID, Corrected, "n", nil) }, apperr.BadInput, "correctedData"},
		{"notify in review", func() (Objection, error) { return e.svc.Notify(e.ctx, e.operator, o.ID) }, apperr.BadInput, "PLATFORM_REVIEW"},
		{"notify by the applicant", func() (Objection, error) { return e.svc.Notify(e.ctx, e.entA, o.ID) }, apperr.Forbidden, "operators"},
		{"dispute in review", func() (Objection, error) { return e.svc.Dispute(e.ctx, e.entA, o.ID, "r") }, apperr.BadInput, "PLATFORM_REVIEW"},
		{"pause by the applicant", func() (Objection, error) { return e.svc.Pause(e.ctx, e.entA, o.ID, "r") }, apperr.Forbidden, "operators"},
		{"pause by the provider", func() (Objection, error) { return e.svc.Pause(e.ctx, e.ndrc, o.ID, "r") }, apperr.Forbidden, "operators"},
		{"pause without a reason", func() (Objection, error) { return e.svc.Pause(e.ctx, e.operator, o.ID, "") }, apperr.BadInput, "reason"},
		{"resume by the provider", func() (Objection, error) { return e.svc.Resume(e.ctx, e.ndrc, o.ID) }, apperr.Forbidden, "operators"},
		{"resume a running objection", func() (Objection, error) { return e.svc.Resume(e.ctx, e.operator, o.ID) }, apperr.BadInput, "not paused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.call()
			wantCode(t, err, tt.code, tt.want)
		})
	}
	got := ok(e.svc.Get(e.ctx, e.operator, o.ID))
	wantState(t, got, PlatformReview, "", false, ptr(endOf("2026-06-04")), false)
	if steps, err := e.svc.History(e.ctx, e.operator, o.ID); err != nil || len(steps) != 1 {
		t.Errorf("history after refused steps = %+v, %v", steps, err)
	}

	// In WITH_PROVIDER, the review is the wrong step.
	ok(e.svc.Review(e.ctx, e.operator, o.ID, false, "转提供单位", nil))
	_, err := e.svc.Review(e.ctx, e.operator, o.ID, false, "again", nil)
	wantCode(t, err, apperr.BadInput, "WITH_PROVIDER")
	_, err = e.svc.Notify(e.ctx, e.operator, o.ID)
	wantCode(t, err, apperr.BadInput, "WITH_PROVIDER")
}

func TestGetAndList(t *testing.T) {
	ok := mustOf(t)
	e := newEnv(t)
	e.set(at("2026-06-01", 10, 0))
	oA1 := ok(e.svc.File(e.ctx, e.entA, e.penalty(e.a, "P-L1"), "异议一"))
	oA2 := ok(e.svc.File(e.ctx, e.entA, e.recordID("REG-A"), "异议二"))
	oB := ok(e.svc.File(e.ctx, e.entB, e.penalty(e.b, "P-L3"), "异议三"))

	for _, v := range []policy.Viewer{e.entA, e.ndrc, e.operator} {
		got, err := e.svc.Get(e.ctx, v, oA1.ID)
		if err != nil || got.ID != oA1.ID || got.Status != PlatformReview || got.DueBy == nil || !got.DueBy.Equal(endOf("2026-06-04")) {
			t.Errorf("Get by %v = %+v, %v", v, got, err)
		}
	}
	unknown := uuid.Must(uuid.NewV7()).String()
	for _, v := range []policy.Viewer{e.entB, e.samr, e.tax, e.bank} {
		_, errOther := e.svc.Get(e.ctx, v, oA1.ID)
		wantCode(t, errOther, apperr.Forbidden)
		_, errUnknown := e.svc.Get(e.ctx, v, unknown)
		wantCode(t, errUnknown, apperr.Forbidden)
		if strings.ReplaceAll(errOther.Error(), oA1.ID, "ID") != strings.ReplaceAll(errUnknown.Error(), unknown, "ID") {
			t.Errorf("%v: refusals differ: %q vs %q", v, errOther, errUnknown)
		}
	}
	_, err := e.svc.Get(e.ctx, e.operator, unknown)
	wantCode(t, err, apperr.NotFound)

	list := func(t *testing.T, v policy.Viewer, first int, after string) Page {
		t.Helper()
		p, err := e.svc.List(e.ctx, v, first, after)
		if err != nil {
			t.Fatalf("List by %v: %v", v, err)
		}
		return p
	}
	tests := []struct {
		name string
		v    policy.Viewer
		want []string
	}{
		{"enterprise A", e.entA, []string{oA2.ID, oA1.ID}},
		{"enterprise B", e.entB, []string{oB.ID}},
		{"provider NDRC", e.ndrc, []string{oB.ID, oA1.ID}},
		{"provider SAMR", e.samr, []string{oA2.ID}},
		{"provider TAX", e.tax, []string{}},
		{"operator", e.operator, []string{oB.ID, oA2.ID, oA1.ID}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := list(t, tt.v, 0, "")
			if fmtIDs(ids(p.Objections)) != fmtIDs(tt.want) || p.HasNext {
				t.Errorf("List = %v (next %v), want %v", ids(p.Objections), p.HasNext, tt.want)
			}
		})
	}

	p1 := list(t, e.operator, 2, "")
	if fmtIDs(ids(p1.Objections)) != fmtIDs([]string{oB.ID, oA2.ID}) || !p1.HasNext || p1.EndCursor != Cursor(oA2.ID) {
		t.Errorf("page 1 = %v next %v cursor %q", ids(p1.Objections), p1.HasNext, p1.EndCursor)
	}
	p2 := list(t, e.operator, 2, p1.EndCursor)
	if fmtIDs(ids(p2.Objections)) != fmtIDs([]string{oA1.ID}) || p2.HasNext {
		t.Errorf("page 2 = %v next %v", ids(p2.Objections), p2.HasNext)
	}
	p3 := list(t, e.operator, 2, p2.EndCursor)
	if len(p3.Objections) != 0 || p3.HasNext || p3.EndCursor != "" {
		t.Errorf("page 3 = %+v", p3)
	}

	_, err = e.svc.List(e.ctx, e.operator, MaxPageSize+1, "")
	wantCode(t, err, apperr.BadInput, "first")
	_, err = e.svc.List(e.ctx, e.operator, -1, "")
	wantCode(t, err, apperr.BadInput, "first")
	_, err = e.svc.List(e.ctx, e.operator, 10, "!!")
	wantCode(t, err, apperr.BadInput, "after")
	_, err = e.svc.List(e.ctx, e.bank, 10, "")
	wantCode(t, err, apperr.Forbidden)
}

package app_test

import (
	"testing"
	"time"
)

const objectionFields = `id recordId status outcome paused dueBy provisional item reason`

type objectionData struct {
	ID, RecordID, Status, Item, Reason string
	Outcome                            *string
	Paused, Provisional                bool
	DueBy                              *time.Time
}

// shanghai returns 23:59:59 Asia/Shanghai of a date.
func dueOn(date string) time.Time {
	d, err := time.ParseInLocation("2006-01-02 15:04:05", date+" 23:59:59", time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	return d
}

func at(date string) time.Time {
	d, err := time.ParseInLocation("2006-01-02 15:04", date, time.FixedZone("CST", 8*3600))
	if err != nil {
		panic(err)
	}
	return d
}

func (e *env) objectionStep(tok, mutation string, vars map[string]any) objectionData {
	e.t.Helper()
	var d map[string]objectionData
	e.ok(e.do(tok, mutation, vars), &d)
	for _, v := range d {
		return v
	}
	e.t.Fatal("no objection in the answer")
	return objectionData{}
}

func wantDue(t *testing.T, step string, o objectionData, status, due string) {
	t.Helper()
	if o.Status != status {
		t.Fatalf("%s: status %s, want %s", step, o.Status, status)
	}
	if due == "" {
		if o.DueBy != nil {
			t.Fatalf("%s: dueBy %s, want none", step, o.DueBy)
		}
		return
	}
	if o.DueBy == nil || !o.DueBy.Equal(dueOn(due)) {
		t.Fatalf("%s: dueBy %v, want %s 23:59:59 +08:00", step, o.DueBy, due)
	}
}

// An objection forwarded to the provider, across National Day 2026 (10-01..07 off, 10-10 a
// make-up working day), with a pause for expert review, corrected by the provider, then
// disputed and transferred.
func TestObjectionAcrossNationalDay(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	e.setNow(at("2026-09-30 10:00"))
	me := e.enterprise(f.company)
	penalty := e.recordID(f.company, "admin.penalty", "pen-serious")

	// Another enterprise cannot object to this record.
	e.wantCode(e.do(e.enterprise(f.shop), `mutation($id: ID!) { fileObjection(recordId: $id, reason: "不是我们的") { id } }`, map[string]any{"id": penalty}), "FORBIDDEN")

	o := e.objectionStep(me, `mutation($id: ID!) { fileObjection(recordId: $id, reason: "处罚金额登记错误，应为2万元", evidence: "sha256:ab12") { `+objectionFields+` } }`, map[string]any{"id": penalty})
	wantDue(t, "filed 09-30", o, "PLATFORM_REVIEW", "2026-10-10") // 09-30 not counted; 10-08, 10-09, 10-10
	// The record is annotated at once, for the bank too.
	if s := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "admin.penalty"); len(s.Records) != 1 || !containsStr(s.Records[0].Annotations, "UNDER_OBJECTION") {
		t.Fatalf("bank's view of the contested penalty: %+v", s.Records)
	}
	// Steps are limited to their role.
	e.wantCode(e.do(e.provider("NDRC"), `mutation($id: ID!) { reviewObjection(id: $id, platformError: false, note: "x") { id } }`, map[string]any{"id": o.ID}), "FORBIDDEN")
	e.wantCode(e.do(e.operator(), `mutation($id: ID!) { answerObjection(id: $id, outcome: UPHELD, note: "x") { id } }`, map[string]any{"id": o.ID}), "FORBIDDEN")

	e.setNow(at("2026-10-10 09:00")) // the make-up working day
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { reviewObjection(id: $id, platformError: false, note: "非平台归集错误，转数据提供单位核实") { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	wantDue(t, "forwarded 10-10", o, "WITH_PROVIDER", "2026-10-16") // 10-12..16

	e.setNow(at("2026-10-12 15:00"))
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { pauseObjection(id: $id, reason: "专家评审") { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	if !o.Paused || o.DueBy != nil {
		t.Fatalf("paused objection %+v", o)
	}
	e.setNow(at("2026-10-20 09:00"))
	// Overdue list: a paused objection is never overdue.
	var od struct{ OverdueObjections []objectionData }
	e.ok(e.do(e.operator(), `{ overdueObjections { id } }`, nil), &od)
	if len(od.OverdueObjections) != 0 {
		t.Fatalf("paused objection listed overdue: %+v", od)
	}
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { resumeObjection(id: $id) { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	// Paused on 10-12 with 10-13..16 (4 working days) left: they count again from 10-21
	// (10-21, 22, 23, then Monday 10-26).
	wantDue(t, "resumed 10-20", o, "WITH_PROVIDER", "2026-10-26")

	e.setNow(at("2026-10-27 09:00")) // the provider is late
	e.ok(e.do(e.operator(), `{ overdueObjections { id } }`, nil), &od)
	if len(od.OverdueObjections) != 1 || od.OverdueObjections[0].ID != o.ID {
		t.Fatalf("overdue list %+v", od)
	}
	e.wantCode(e.do(e.enterprise(f.company), `{ overdueObjections { id } }`, nil), "FORBIDDEN")

	o = e.objectionStep(e.provider("NDRC"), `mutation($id: ID!, $d: JSON) { answerObjection(id: $id, outcome: CORRECTED, note: "金额更正", correctedData: $d) { `+objectionFields+` } }`,
		map[string]any{"id": o.ID, "d": map[string]any{"severity": "serious", "decision_no": "沈市监罚〔2025〕18号", "amount": 20000}})
	wantDue(t, "answered 10-27", o, "NOTIFYING", "2026-10-29")
	if o.Outcome == nil || *o.Outcome != "CORRECTED" {
		t.Fatalf("outcome %v", o.Outcome)
	}
	e.setNow(at("2026-10-28 09:00"))
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { notifyObjection(id: $id) { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	wantDue(t, "notified", o, "CLOSED", "")
	// The correction is what everyone sees now, version 2, no longer annotated.
	s := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "admin.penalty")
	if len(s.Records) != 1 || s.Records[0].Data["amount"] != float64(20000) || s.Records[0].Version != 2 || containsStr(s.Records[0].Annotations, "UNDER_OBJECTION") {
		t.Fatalf("corrected record: %+v", s.Records)
	}
	o = e.objectionStep(e.enterprise(f.company), `mutation($id: ID!) { disputeObjection(id: $id, reason: "仍有异议") { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	wantDue(t, "disputed", o, "TRANSFERRED", "")
	// Every role sees only what it should.
	var list struct {
		Objections struct {
			Edges []struct{ Node objectionData }
		}
	}
	e.ok(e.do(e.provider("COURT"), `{ objections { edges { node { id } } } }`, nil), &list)
	if len(list.Objections.Edges) != 0 {
		t.Fatal("another provider sees the objection")
	}
	e.ok(e.do(e.enterprise(f.company), `{ objections { edges { node { id status } } } }`, nil), &list)
	if len(list.Objections.Edges) != 1 {
		t.Fatalf("applicant's objections %+v", list)
	}
	var hist struct {
		Objection struct{ History []struct{ Action string } }
	}
	e.ok(e.do(e.provider("NDRC"), `query($id: ID!) { objection(id: $id) { history { at action actorRole status outcome dueBy note } } }`, map[string]any{"id": o.ID}), &hist)
	if len(hist.Objection.History) != 7 {
		t.Fatalf("history %+v", hist)
	}
	e.wantCode(e.do(e.bank(), `query($id: ID!) { objection(id: $id) { id } }`, map[string]any{"id": o.ID}), "FORBIDDEN")
}

// The platform's own error, across the Spring Festival 2026 (02-15..23 off, 02-14 a make-up
// working day), and a record deleted as unverifiable.
func TestObjectionPlatformErrorAndDeletion(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	licence := e.recordID(f.company, "admin.licence", "lic-1")
	listing := e.recordID(f.shop, "court.dishonest_debtor", "dd-1")

	e.setNow(at("2026-02-12 10:00"))
	o := e.objectionStep(e.enterprise(f.company), `mutation($id: ID!) { fileObjection(recordId: $id, reason: "许可证号录入错误") { `+objectionFields+` } }`, map[string]any{"id": licence})
	wantDue(t, "filed 02-12", o, "PLATFORM_REVIEW", "2026-02-24") // 02-13, 02-14 (make-up), 02-24
	e.setNow(at("2026-02-13 10:00"))
	e.wantCode(e.do(e.operator(), `mutation($id: ID!) { reviewObjection(id: $id, platformError: true, note: "平台归集错误") { id } }`, map[string]any{"id": o.ID}), "BAD_INPUT")
	o = e.objectionStep(e.operator(), `mutation($id: ID!, $d: JSON) { reviewObjection(id: $id, platformError: true, note: "平台归集错误，已更正", correctedData: $d) { `+objectionFields+` } }`,
		map[string]any{"id": o.ID, "d": map[string]any{"licence_no": "辽B-2024-011"}})
	wantDue(t, "corrected 02-13", o, "NOTIFYING", "2026-02-24") // 02-14, 02-24
	if o.Outcome == nil || *o.Outcome != "CORRECTED" {
		t.Fatalf("outcome %v", o.Outcome)
	}
	// Notifying twice is refused by status.
	e.setNow(at("2026-02-24 09:00"))
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { notifyObjection(id: $id) { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	wantDue(t, "notified", o, "CLOSED", "")
	e.wantCode(e.do(e.operator(), `mutation($id: ID!) { notifyObjection(id: $id) { id } }`, map[string]any{"id": o.ID}), "BAD_INPUT")

	// Deleted as unverifiable: gone for institutions, kept and annotated for the subject.
	e.setNow(at("2026-11-27 12:00"))
	o = e.objectionStep(e.enterprise(f.shop), `mutation($id: ID!) { fileObjection(recordId: $id, reason: "无此案件") { `+objectionFields+` } }`, map[string]any{"id": listing})
	o = e.objectionStep(e.operator(), `mutation($id: ID!) { reviewObjection(id: $id, platformError: false, note: "转法院") { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	e.wantCode(e.do(e.provider("NDRC"), `mutation($id: ID!) { answerObjection(id: $id, outcome: UPHELD, note: "x") { id } }`, map[string]any{"id": o.ID}), "FORBIDDEN")
	o = e.objectionStep(e.provider("COURT"), `mutation($id: ID!) { answerObjection(id: $id, outcome: DELETED_UNVERIFIABLE, note: "原始卷宗缺失，无法核实") { `+objectionFields+` } }`, map[string]any{"id": o.ID})
	wantDue(t, "deleted 11-27", o, "NOTIFYING", "2026-12-01") // 11-30, 12-01
	var mine section
	for _, r := range e.decision(e.enterprise(f.shop), f.shop, "", "court.dishonest_debtor").Records {
		if r.SourceID == "dd-1" {
			mine.Records = append(mine.Records, r)
		}
	}
	if len(mine.Records) != 1 || !containsStr(mine.Records[0].Annotations, "DELETED") {
		t.Fatalf("subject's view of the deleted record: %+v", mine.Records)
	}
	e.setNow(at("2026-12-20 12:00"))
	if s := e.decision(e.bank(), f.shop, "LOAN_APPLICATION", "court.dishonest_debtor"); containsStr(sourceIDs(s), "dd-1") {
		t.Fatal("a deleted record is disclosed")
	}
}

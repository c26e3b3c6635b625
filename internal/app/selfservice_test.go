package app_test

import (
	"strings"
	"testing"
)

// recordID finds the id of a record by its source id, as the subject sees it.
func (e *env) recordID(code, item, sourceID string) string {
	e.t.Helper()
	var d enterpriseData
	e.ok(e.do(e.enterprise(code), sectionsQuery, map[string]any{"u": code, "items": []string{item}}), &d)
	for _, r := range bySection(e.t, d)[item].Records {
		if r.SourceID == sourceID {
			return r.ID
		}
	}
	e.t.Fatalf("no record %s/%s", item, sourceID)
	return ""
}

const applyRepair = `mutation($id: ID!, $c: String!) { applyCreditRepair(recordId: $id, commitment: $c) { id recordId status reason item } }`
const decideRepair = `mutation($id: ID!, $ok: Boolean!, $r: String) { decideCreditRepair(id: $id, approve: $ok, reason: $r) { id status reason commitmentRecordId } }`

const letter = "本企业已按要求完成整改，缴清全部罚款，承诺今后严格遵守相关法律法规。"

func TestCreditRepair(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	e.submit("NDRC", "admin.penalty", []map[string]any{rec("pen-recent-serious", f.company, "2026-06-01", map[string]any{"severity": "serious", "decision_no": "沈市监罚〔2026〕55号"})})
	me := e.enterprise(f.company)

	// Too early: a serious penalty needs one year of disclosure first.
	r := e.do(me, applyRepair, map[string]any{"id": e.recordID(f.company, "admin.penalty", "pen-recent-serious"), "c": letter})
	e.wantCode(r, "BAD_INPUT")
	if !strings.Contains(r.Errors[0].Message, "2027-06-01") {
		t.Fatalf("refusal does not give the earliest date: %q", r.Errors[0].Message)
	}
	// Another enterprise's record; an item that is not repairable.
	penalty := e.recordID(f.company, "admin.penalty", "pen-serious")
	e.wantCode(e.do(e.enterprise(f.shop), applyRepair, map[string]any{"id": penalty, "c": letter}), "FORBIDDEN")
	e.wantCode(e.do(me, applyRepair, map[string]any{"id": e.recordID(f.company, "admin.licence", "lic-1"), "c": letter}), "BAD_INPUT")

	var app struct {
		ApplyCreditRepair struct{ ID, RecordID, Status, Item string }
	}
	e.ok(e.do(me, applyRepair, map[string]any{"id": penalty, "c": letter}), &app)
	if app.ApplyCreditRepair.Status != "PENDING" || app.ApplyCreditRepair.RecordID != penalty {
		t.Fatalf("application %+v", app)
	}
	// Only the item's provider decides.
	e.wantCode(e.do(e.provider("SAMR"), decideRepair, map[string]any{"id": app.ApplyCreditRepair.ID, "ok": true}), "FORBIDDEN")
	e.wantCode(e.do(me, decideRepair, map[string]any{"id": app.ApplyCreditRepair.ID, "ok": true}), "FORBIDDEN")
	// Before the decision the bank still sees the penalty.
	if got := sourceIDs(e.decision(e.bank(), f.company, "LOAN_APPLICATION", "admin.penalty")); !containsStr(got, "pen-serious") {
		t.Fatalf("bank sees %v before the repair", got)
	}
	var dec struct {
		DecideCreditRepair struct {
			Status             string
			CommitmentRecordID *string
		}
	}
	e.ok(e.do(e.provider("NDRC"), decideRepair, map[string]any{"id": app.ApplyCreditRepair.ID, "ok": true}), &dec)
	if dec.DecideCreditRepair.Status != "APPROVED" || dec.DecideCreditRepair.CommitmentRecordID == nil {
		t.Fatalf("decision %+v", dec)
	}
	// Institutions no longer see it; the subject does, annotated REPAIRED.
	if s := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "admin.penalty"); containsStr(sourceIDs(s), "pen-serious") || s.Decision != "VISIBLE" {
		t.Fatalf("bank still sees a repaired penalty: %+v", s)
	}
	var mine section
	for _, rr := range e.decision(me, f.company, "", "admin.penalty").Records {
		if rr.SourceID == "pen-serious" {
			mine.Records = append(mine.Records, rr)
		}
	}
	if len(mine.Records) != 1 || !containsStr(mine.Records[0].Annotations, "REPAIRED") {
		t.Fatalf("subject's view of the repaired penalty: %+v", mine.Records)
	}
	// The commitment letter is public now.
	cs := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "commitment")
	if len(cs.Records) != 1 || !strings.Contains(cs.Records[0].Data["text"].(string), "整改") {
		t.Fatalf("public commitment records: %+v", cs.Records)
	}
	var list struct {
		RepairApplications struct {
			Edges []struct{ Node struct{ Status string } }
		}
	}
	e.ok(e.do(me, `{ repairApplications { edges { node { id status item createdAt decidedAt } } } }`, nil), &list)
	if len(list.RepairApplications.Edges) != 1 || list.RepairApplications.Edges[0].Node.Status != "APPROVED" {
		t.Fatalf("subject's applications %+v", list)
	}
	e.wantCode(e.do(e.bank(), `{ repairApplications { edges { cursor } } }`, nil), "FORBIDDEN")
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestSelfReports(t *testing.T) {
	e := newEnv(t, envOptions{})
	f := e.load(t)
	me := e.enterprise(f.company)
	var sub struct {
		SubmitSelfReport struct {
			ID, Source  string
			Annotations []string
			Data        map[string]any
		}
	}
	e.ok(e.do(me, `mutation($d: JSON!, $c: String!) { submitSelfReport(data: $d, commitment: $c) { id source annotations data } }`,
		map[string]any{"d": map[string]any{"topic": "研发投入", "rnd_spend": 1250000, "year": 2025}, "c": "本企业承诺所填报信息真实、准确、完整。"}), &sub)
	rep := sub.SubmitSelfReport
	if rep.Source != "SELF" || !containsStr(rep.Annotations, "SELF_REPORTED") || rep.Data["rnd_spend"] != float64(1250000) {
		t.Fatalf("self-report %+v", rep)
	}
	s := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "self.reported")
	if len(s.Records) != 1 || !containsStr(s.Records[0].Annotations, "SELF_REPORTED") {
		t.Fatalf("bank's view of the self-report: %+v", s.Records)
	}
	// Only its author may withdraw it.
	e.wantCode(e.do(e.enterprise(f.shop), `mutation($id: ID!) { withdrawSelfReport(recordId: $id) { id } }`, map[string]any{"id": rep.ID}), "FORBIDDEN")
	var wd struct {
		WithdrawSelfReport struct{ Annotations []string }
	}
	e.ok(e.do(me, `mutation($id: ID!) { withdrawSelfReport(recordId: $id) { id annotations } }`, map[string]any{"id": rep.ID}), &wd)
	if !containsStr(wd.WithdrawSelfReport.Annotations, "WITHDRAWN") {
		t.Fatalf("withdrawn record annotations %v", wd.WithdrawSelfReport.Annotations)
	}
	if s := e.decision(e.bank(), f.company, "LOAN_APPLICATION", "self.reported"); len(s.Records) != 0 {
		t.Fatalf("bank still sees a withdrawn self-report: %+v", s.Records)
	}
	if s := e.decision(me, f.company, "", "self.reported"); len(s.Records) != 1 {
		t.Fatalf("subject lost its withdrawn self-report: %+v", s.Records)
	}
	// Institutions cannot self-report for anyone.
	e.wantCode(e.do(e.bank(), `mutation { submitSelfReport(data: {a: 1}, commitment: "承诺承诺承诺承诺承诺承诺") { id } }`, nil), "FORBIDDEN")
}

package policy

import (
	"fmt"
	"testing"
	"time"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
)

const (
	subject = "91210102MA0XK5U00A" // any string works: the policy compares codes, it does not parse them
	other   = "91210202MA0YL6V11B"
)

// noon on 2026-11-27 in Shanghai.
var now = time.Date(2026, 11, 27, 4, 0, 0, 0, time.UTC)

func day(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func dayp(s string) *time.Time { t := day(s); return &t }

func item(access catalog.Access, mode catalog.Mode) *catalog.Item {
	p, _ := catalog.ParsePeriod("P3Y")
	return &catalog.Item{Code: "x." + string(access) + "." + string(mode), Provider: "TAX", Access: access, Mode: mode,
		Disclosure: catalog.Disclosure{Kind: catalog.DisclosePeriod, Period: p}}
}

func TestSectionDecisions(t *testing.T) {
	type combo struct {
		access catalog.Access
		mode   catalog.Mode
	}
	combos := []combo{
		{catalog.Public, catalog.Collected},
		{catalog.Authorized, catalog.Collected},
		{catalog.Authorized, catalog.ProviderAPI},
		{catalog.VerifyOnly, catalog.Collected},
		{catalog.VerifyOnly, catalog.ProviderVerify},
		{catalog.ModelOnly, catalog.Collected},
	}
	// expected decision per viewer, by combo index.
	tests := []struct {
		name    string
		viewer  Viewer
		subject string
		purpose string
		want    []Decision
		code    apperr.Code // request-level refusal, for every combo
	}{
		{"institution with purpose", Viewer{Institution, "DEMO-BANK"}, subject, "LOAN_APPLICATION",
			[]Decision{Visible, NeedsGrant, NeedsGrant, VerifyOnly, VerifyOnly, ModelOnly}, ""},
		{"institution without purpose", Viewer{Institution, "DEMO-BANK"}, subject, "", nil, apperr.PurposeRequired},
		{"institution with unknown purpose", Viewer{Institution, "DEMO-BANK"}, subject, "CURIOSITY", nil, apperr.BadInput},
		{"subject itself", Viewer{Enterprise, subject}, subject, "",
			[]Decision{Visible, Visible, Visible, Visible, Unavailable, Visible}, ""},
		{"subject itself with a purpose", Viewer{Enterprise, subject}, subject, "CREDIT_REVIEW",
			[]Decision{Visible, Visible, Visible, Visible, Unavailable, Visible}, ""},
		{"another enterprise", Viewer{Enterprise, other}, subject, "", nil, apperr.Forbidden},
		{"the item's provider", Viewer{Provider, "TAX"}, subject, "",
			[]Decision{Visible, Visible, Visible, Visible, Unavailable, Visible}, ""},
		{"another provider", Viewer{Provider, "COURT"}, subject, "",
			[]Decision{Denied, Denied, Denied, Denied, Denied, Denied}, ""},
		{"operator", Viewer{Operator, "PLATFORM"}, subject, "",
			[]Decision{Visible, Visible, Visible, Visible, Unavailable, Visible}, ""},
		{"unknown role", Viewer{"ADMIN", "X"}, subject, "", nil, apperr.Forbidden},
		{"no organization", Viewer{Provider, ""}, subject, "", nil, apperr.Forbidden},
	}
	for _, tt := range tests {
		for i, c := range combos {
			t.Run(fmt.Sprintf("%s/%s-%s", tt.name, c.access, c.mode), func(t *testing.T) {
				got := Decide(Request{Viewer: tt.viewer, Subject: tt.subject, Item: item(c.access, c.mode), Action: ViewSection, Purpose: tt.purpose, Now: now})
				if tt.code != "" {
					if got.Code != tt.code || got.Allowed {
						t.Fatalf("got %+v, want refusal %s", got, tt.code)
					}
					return
				}
				if got.Code != "" {
					t.Fatalf("unexpected refusal %+v", got)
				}
				if got.Decision != tt.want[i] {
					t.Fatalf("decision %s, want %s (%s)", got.Decision, tt.want[i], got.Reason)
				}
				if got.Allowed != (got.Decision == Visible) {
					t.Fatalf("Allowed %v disagrees with decision %s", got.Allowed, got.Decision)
				}
				if got.Reason == "" {
					t.Fatal("a decision needs a reason")
				}
			})
		}
	}
}

func TestRequestLevel(t *testing.T) {
	pub := item(catalog.Public, catalog.Collected)
	api := item(catalog.Authorized, catalog.ProviderAPI)
	tests := []struct {
		name string
		req  Request
		ok   bool
		code apperr.Code
	}{
		{"institution looks up with purpose", Request{Viewer: Viewer{Institution, "B"}, Subject: subject, Action: LookUp, Purpose: "CREDIT_REVIEW"}, true, ""},
		{"institution looks up without purpose", Request{Viewer: Viewer{Institution, "B"}, Subject: subject, Action: LookUp}, false, apperr.PurposeRequired},
		{"institution searches with purpose", Request{Viewer: Viewer{Institution, "B"}, Action: Search, Purpose: "GUARANTEE_SCREENING"}, true, ""},
		{"institution searches without purpose", Request{Viewer: Viewer{Institution, "B"}, Action: Search}, false, apperr.PurposeRequired},
		{"enterprise looks itself up", Request{Viewer: Viewer{Enterprise, subject}, Subject: subject, Action: LookUp}, true, ""},
		{"enterprise looks another up", Request{Viewer: Viewer{Enterprise, other}, Subject: subject, Action: LookUp}, false, apperr.Forbidden},
		{"enterprise searches", Request{Viewer: Viewer{Enterprise, subject}, Action: Search}, false, apperr.Forbidden},
		{"provider searches", Request{Viewer: Viewer{Provider, "TAX"}, Action: Search}, true, ""},
		{"operator searches", Request{Viewer: Viewer{Operator, "PLATFORM"}, Action: Search}, true, ""},
		{"provider submits own collected item", Request{Viewer: Viewer{Provider, "TAX"}, Item: pub, Action: Submit}, true, ""},
		{"provider submits another's item", Request{Viewer: Viewer{Provider, "COURT"}, Item: pub, Action: Submit}, false, apperr.Forbidden},
		{"provider submits a live item", Request{Viewer: Viewer{Provider, "TAX"}, Item: api, Action: Submit}, false, apperr.BadInput},
		{"institution submits", Request{Viewer: Viewer{Institution, "B"}, Item: pub, Action: Submit, Purpose: "CREDIT_REVIEW"}, false, apperr.Forbidden},
		{"enterprise submits", Request{Viewer: Viewer{Enterprise, subject}, Subject: subject, Item: pub, Action: Submit}, false, apperr.Forbidden},
		{"operator submits", Request{Viewer: Viewer{Operator, "PLATFORM"}, Item: pub, Action: Submit}, false, apperr.Forbidden},
		{"section without item", Request{Viewer: Viewer{Operator, "PLATFORM"}, Subject: subject, Action: ViewSection}, false, apperr.BadInput},
		{"record without record", Request{Viewer: Viewer{Operator, "PLATFORM"}, Subject: subject, Item: pub, Action: ViewRecord}, false, apperr.BadInput},
		{"unknown action", Request{Viewer: Viewer{Operator, "PLATFORM"}, Subject: subject, Action: Action(99)}, false, apperr.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Now = now
			got := Decide(tt.req)
			if got.Allowed != tt.ok || got.Code != tt.code {
				t.Fatalf("got allowed=%v code=%q (%s), want allowed=%v code=%q", got.Allowed, got.Code, got.Reason, tt.ok, tt.code)
			}
		})
	}
}

func mustCatalog(t *testing.T) *catalog.Catalog {
	t.Helper()
	c, err := catalog.Default()
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestRecordWindows(t *testing.T) {
	cat := mustCatalog(t)
	get := func(code string) *catalog.Item {
		it, ok := cat.Item(code)
		if !ok {
			t.Fatalf("no item %s", code)
		}
		return it
	}
	// today is 2026-11-27 in Shanghai.
	tests := []struct {
		name string
		item string
		rec  Record
		in   bool
	}{
		{"always, long ago", "registration.basic", Record{OccurredOn: day("1999-01-01")}, true},
		{"always, today", "registration.basic", Record{OccurredOn: day("2026-11-27")}, true},
		{"always, in the future", "registration.basic", Record{OccurredOn: day("2026-11-28")}, false},
		{"P3Y, last day", "admin.licence", Record{OccurredOn: day("2023-11-28")}, true},
		{"P3Y, first day after", "admin.licence", Record{OccurredOn: day("2023-11-27")}, false},
		{"minor penalty, today (P0D)", "admin.penalty", Record{OccurredOn: day("2026-11-27"), Severity: "minor"}, false},
		{"ordinary penalty, 11 months", "admin.penalty", Record{OccurredOn: day("2025-12-27"), Severity: "ordinary"}, true},
		{"ordinary penalty, exactly 1 year", "admin.penalty", Record{OccurredOn: day("2025-11-27"), Severity: "ordinary"}, false},
		{"ordinary penalty, 14 months", "admin.penalty", Record{OccurredOn: day("2025-09-27"), Severity: "ordinary"}, false},
		{"serious penalty, 2 years", "admin.penalty", Record{OccurredOn: day("2024-11-27"), Severity: "serious"}, true},
		{"serious penalty, 3 years", "admin.penalty", Record{OccurredOn: day("2023-11-27"), Severity: "serious"}, false},
		{"penalty without severity", "admin.penalty", Record{OccurredOn: day("2026-11-01")}, false},
		{"listed, no end", "court.dishonest_debtor", Record{OccurredOn: day("2020-01-01")}, true},
		{"listed, ends tomorrow", "court.dishonest_debtor", Record{OccurredOn: day("2020-01-01"), EndsOn: dayp("2026-11-28")}, true},
		{"listed, ends today", "court.dishonest_debtor", Record{OccurredOn: day("2020-01-01"), EndsOn: dayp("2026-11-27")}, false},
		{"listed, ended", "court.dishonest_debtor", Record{OccurredOn: day("2020-01-01"), EndsOn: dayp("2025-01-01")}, false},
		{"listed from tomorrow", "list.abnormal_operation", Record{OccurredOn: day("2026-11-28")}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := tt.rec
			if got := InWindow(get(tt.item), &rec, Today(now)); got != tt.in {
				t.Fatalf("InWindow = %v, want %v", got, tt.in)
			}
			inst := Decide(Request{Viewer: Viewer{Institution, "B"}, Subject: subject, Item: get(tt.item), Action: ViewRecord, Purpose: "LOAN_APPLICATION", Record: &rec, Now: now})
			if inst.Allowed != tt.in {
				t.Fatalf("institution sees record = %v, want %v", inst.Allowed, tt.in)
			}
			if !tt.in && (len(inst.Annotations) > 0 || inst.Reason != "") {
				t.Fatalf("a hidden record must leave no trace, got %+v", inst)
			}
			self := Decide(Request{Viewer: Viewer{Enterprise, subject}, Subject: subject, Item: get(tt.item), Action: ViewRecord, Record: &rec, Now: now})
			if !self.Allowed {
				t.Fatal("the subject must see every record of its own")
			}
			if hasAnn(self.Annotations, OutsideDisclosure) == tt.in {
				t.Fatalf("subject annotations %v, in window %v", self.Annotations, tt.in)
			}
		})
	}
}

func TestShanghaiDate(t *testing.T) {
	// 2026-11-27 16:30 UTC is already 2026-11-28 in Shanghai.
	late := time.Date(2026, 11, 27, 16, 30, 0, 0, time.UTC)
	if got := Today(late); !got.Equal(day("2026-11-28")) {
		t.Fatalf("Today = %s", got)
	}
	it, _ := mustCatalog(t).Item("court.dishonest_debtor")
	rec := Record{OccurredOn: day("2020-01-01"), EndsOn: dayp("2026-11-28")}
	if InWindow(it, &rec, Today(late)) {
		t.Fatal("a listing ending on the Shanghai date must be over")
	}
}

func TestRecordAnnotations(t *testing.T) {
	it, _ := mustCatalog(t).Item("admin.licence")
	base := Record{OccurredOn: day("2026-01-01")}
	tests := []struct {
		name     string
		mod      func(*Record)
		viewer   Viewer
		shown    bool
		wantAnns []string
	}{
		{"institution, plain", func(*Record) {}, Viewer{Institution, "B"}, true, []string{}},
		{"institution, under objection", func(r *Record) { r.UnderObjection = true }, Viewer{Institution, "B"}, true, []string{UnderObjection}},
		{"institution, self-reported", func(r *Record) { r.SelfReported = true }, Viewer{Institution, "B"}, true, []string{SelfReported}},
		{"institution, repaired", func(r *Record) { r.Repaired = true }, Viewer{Institution, "B"}, false, nil},
		{"institution, deleted", func(r *Record) { r.Deleted = true }, Viewer{Institution, "B"}, false, nil},
		{"institution, withdrawn", func(r *Record) { r.Withdrawn = true; r.SelfReported = true }, Viewer{Institution, "B"}, false, nil},
		{"subject, repaired", func(r *Record) { r.Repaired = true }, Viewer{Enterprise, subject}, true, []string{Repaired}},
		{"subject, deleted under objection", func(r *Record) { r.Deleted = true; r.UnderObjection = true }, Viewer{Enterprise, subject}, true, []string{UnderObjection, Deleted}},
		{"provider, withdrawn", func(r *Record) { r.Withdrawn = true }, Viewer{Provider, "NDRC"}, true, []string{Withdrawn}},
		{"operator, repaired outside", func(r *Record) { r.Repaired = true; r.OccurredOn = day("2020-01-01") }, Viewer{Operator, "PLATFORM"}, true, []string{Repaired, OutsideDisclosure}},
		{"other provider", func(*Record) {}, Viewer{Provider, "COURT"}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := base
			tt.mod(&rec)
			purpose := ""
			if tt.viewer.Role == Institution {
				purpose = "CREDIT_REVIEW"
			}
			got := Decide(Request{Viewer: tt.viewer, Subject: subject, Item: it, Action: ViewRecord, Purpose: purpose, Record: &rec, Now: now})
			if got.Allowed != tt.shown {
				t.Fatalf("shown = %v, want %v", got.Allowed, tt.shown)
			}
			if !tt.shown {
				return
			}
			if fmt.Sprint(got.Annotations) != fmt.Sprint(tt.wantAnns) {
				t.Fatalf("annotations %v, want %v", got.Annotations, tt.wantAnns)
			}
		})
	}
}

func hasAnn(anns []string, a string) bool {
	for _, x := range anns {
		if x == a {
			return true
		}
	}
	return false
}

func TestGrantStates(t *testing.T) {
	authz := item(catalog.Authorized, catalog.Collected)
	vonly := item(catalog.VerifyOnly, catalog.Collected)
	monly := item(catalog.ModelOnly, catalog.Collected)
	pub := item(catalog.Public, catalog.Collected)
	active := func(mod func(*Grant)) []Grant {
		g := Grant{ID: "g1", Institution: "DEMO-BANK", Items: []string{authz.Code, vonly.Code, monly.Code}, Actions: []string{GrantView, GrantVerify},
			Purposes: []string{"LOAN_APPLICATION"}, ValidFrom: now.Add(-time.Hour), ValidUntil: now.Add(time.Hour)}
		if mod != nil {
			mod(&g)
		}
		return []Grant{g}
	}
	type want struct {
		view   Decision // section decision
		verify bool
	}
	states := []struct {
		name   string
		grants []Grant
		authz  want
		vonly  want
	}{
		{"no grant", nil, want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"active", active(nil), want{Visible, true}, want{VerifyOnly, true}},
		{"not yet valid", active(func(g *Grant) { g.ValidFrom = now.Add(time.Minute) }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"starts now", active(func(g *Grant) { g.ValidFrom = now }), want{Visible, true}, want{VerifyOnly, true}},
		{"expired", active(func(g *Grant) { g.ValidUntil = now.Add(-time.Second) }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"ends now", active(func(g *Grant) { g.ValidUntil = now }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"revoked", active(func(g *Grant) { g.Revoked = true }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"other institution", active(func(g *Grant) { g.Institution = "DEMO-GUARANTOR" }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"other purpose", active(func(g *Grant) { g.Purposes = []string{"CREDIT_REVIEW"} }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"other item", active(func(g *Grant) { g.Items = []string{"x.else"} }), want{NeedsGrant, false}, want{VerifyOnly, false}},
		{"VIEW only", active(func(g *Grant) { g.Actions = []string{GrantView} }), want{Visible, false}, want{VerifyOnly, false}},
		{"VERIFY only", active(func(g *Grant) { g.Actions = []string{GrantVerify} }), want{NeedsGrant, true}, want{VerifyOnly, true}},
		{"one good grant among bad ones", append(active(func(g *Grant) { g.Revoked = true }), active(nil)...), want{Visible, true}, want{VerifyOnly, true}},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			req := func(it *catalog.Item, a Action) Result {
				return Decide(Request{Viewer: Viewer{Institution, "DEMO-BANK"}, Subject: subject, Item: it, Action: a, Purpose: "LOAN_APPLICATION", Grants: st.grants, Now: now})
			}
			if got := req(authz, ViewSection); got.Decision != st.authz.view || (got.Decision == Visible) != (got.GrantID != "") {
				t.Errorf("authorized view: %+v, want %s", got, st.authz.view)
			}
			if got := req(authz, Verify); got.Allowed != st.authz.verify {
				t.Errorf("authorized verify: %+v, want %v", got, st.authz.verify)
			}
			if got := req(vonly, ViewSection); got.Decision != st.vonly.view {
				t.Errorf("verify-only view: %+v", got)
			}
			if got := req(vonly, Verify); got.Allowed != st.vonly.verify || (!got.Allowed && (got.Code != apperr.Forbidden || got.Decision != NeedsGrant)) {
				t.Errorf("verify-only verify: %+v, want %v", got, st.vonly.verify)
			}
			if got := req(monly, ViewSection); got.Decision != ModelOnly {
				t.Errorf("model-only view: %+v", got)
			}
			if got := req(monly, Verify); got.Allowed || got.Decision != ModelOnly {
				t.Errorf("model-only verify: %+v", got)
			}
			if got := req(pub, Verify); !got.Allowed || got.GrantID != "" {
				t.Errorf("public verify: %+v", got)
			}
			// The subject and the item's provider are never affected by grants.
			self := Decide(Request{Viewer: Viewer{Enterprise, subject}, Subject: subject, Item: vonly, Action: ViewSection, Grants: st.grants, Now: now})
			if self.Decision != Visible {
				t.Errorf("subject: %+v", self)
			}
		})
	}
	// Only institutions verify; only the subject authorizes.
	for _, v := range []Viewer{{Enterprise, subject}, {Provider, "TAX"}, {Operator, "PLATFORM"}} {
		if got := Decide(Request{Viewer: v, Subject: subject, Item: pub, Action: Verify, Now: now}); got.Allowed || got.Code != apperr.Forbidden {
			t.Errorf("%s verify: %+v", v.Role, got)
		}
	}
	for _, v := range []Viewer{{Institution, "DEMO-BANK"}, {Provider, "TAX"}, {Operator, "PLATFORM"}} {
		if got := Decide(Request{Viewer: v, Subject: subject, Action: Authorize, Purpose: "LOAN_APPLICATION", Now: now}); got.Allowed {
			t.Errorf("%s authorize: %+v", v.Role, got)
		}
	}
	if got := Decide(Request{Viewer: Viewer{Enterprise, other}, Subject: subject, Action: Authorize, Now: now}); got.Allowed {
		t.Errorf("another enterprise authorizes: %+v", got)
	}
}

func TestWorkflowRoles(t *testing.T) {
	penalty, _ := mustCatalog(t).Item("admin.penalty")
	licence, _ := mustCatalog(t).Item("admin.licence")
	self := Viewer{Enterprise, subject}
	tests := []struct {
		name    string
		action  Action
		viewer  Viewer
		subject string
		item    *catalog.Item
		ok      bool
		code    apperr.Code
	}{
		{"subject files an objection", FileObjection, self, subject, penalty, true, ""},
		{"another enterprise files one", FileObjection, Viewer{Enterprise, other}, subject, penalty, false, apperr.Forbidden},
		{"an institution files one", FileObjection, Viewer{Institution, "DEMO-BANK"}, subject, penalty, false, apperr.Forbidden},
		{"operator files one", FileObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, false, apperr.Forbidden},
		{"subject disputes", DisputeObjection, self, subject, penalty, true, ""},
		{"subject self-reports", SelfReport, self, subject, nil, true, ""},
		{"subject applies for repair", ApplyRepair, self, subject, penalty, true, ""},
		{"repair of an unrepairable item", ApplyRepair, self, subject, licence, false, apperr.BadInput},
		{"operator reviews", ReviewObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, true, ""},
		{"provider reviews", ReviewObjection, Viewer{Provider, "NDRC"}, subject, penalty, false, apperr.Forbidden},
		{"operator notifies", NotifyObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, true, ""},
		{"subject notifies", NotifyObjection, self, subject, penalty, false, apperr.Forbidden},
		{"operator pauses", PauseObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, true, ""},
		{"item's provider answers", AnswerObjection, Viewer{Provider, "NDRC"}, subject, penalty, true, ""},
		{"another provider answers", AnswerObjection, Viewer{Provider, "SAMR"}, subject, penalty, false, apperr.Forbidden},
		{"operator answers", AnswerObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, false, apperr.Forbidden},
		{"item's provider decides repair", DecideRepair, Viewer{Provider, "NDRC"}, subject, penalty, true, ""},
		{"another provider decides repair", DecideRepair, Viewer{Provider, "COURT"}, subject, penalty, false, apperr.Forbidden},
		{"applicant reads", ReadObjection, self, subject, penalty, true, ""},
		{"another enterprise reads", ReadObjection, Viewer{Enterprise, other}, subject, penalty, false, apperr.Forbidden},
		{"item's provider reads", ReadObjection, Viewer{Provider, "NDRC"}, subject, penalty, true, ""},
		{"another provider reads", ReadObjection, Viewer{Provider, "TAX"}, subject, penalty, false, apperr.Forbidden},
		{"operator reads", ReadObjection, Viewer{Operator, "PLATFORM"}, subject, penalty, true, ""},
		{"institution reads", ReadObjection, Viewer{Institution, "DEMO-BANK"}, subject, penalty, false, apperr.Forbidden},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Decide(Request{Viewer: tt.viewer, Subject: tt.subject, Item: tt.item, Action: tt.action, Now: now})
			if got.Allowed != tt.ok || got.Code != tt.code {
				t.Fatalf("got allowed=%v code=%q (%s), want %v %q", got.Allowed, got.Code, got.Reason, tt.ok, tt.code)
			}
		})
	}
}

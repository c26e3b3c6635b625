package policy

import (
	"math/rand/v2"
	"testing"
	"time"

	"creditd/internal/catalog"
)

// The access table of DESIGN.md, written out plainly and independently of Decide: the oracle
// for the randomized test below.
//
//	access       VIEW raw records                                   VERIFY a claim
//	public       yes (records inside their window, not repaired,    yes, no grant needed
//	             deleted or withdrawn)
//	authorized   only with an active grant covering item + purpose  only with a VERIFY grant
//	verify_only  never                                              only with a VERIFY grant
//	model_only   never                                              never
//
// An institution must always state a purpose; without one it sees nothing.
func oracleInstitution(action Action, access catalog.Access, org, item, purpose string, grants []Grant, rec *Record, now time.Time) bool {
	if purpose == "" {
		return false
	}
	granted := func(what string) bool {
		for _, g := range grants {
			if g.Institution != org || g.Revoked {
				continue
			}
			if now.Before(g.ValidFrom) || !now.Before(g.ValidUntil) {
				continue
			}
			if contains(g.Items, item) && contains(g.Actions, what) && contains(g.Purposes, purpose) {
				return true
			}
		}
		return false
	}
	recordShown := func() bool {
		if rec == nil {
			return true
		}
		if rec.Repaired || rec.Deleted || rec.Withdrawn {
			return false
		}
		// the test item's window is P3Y, on Shanghai calendar dates
		y, m, d := now.Add(8 * time.Hour).UTC().Date()
		today := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
		return !today.Before(rec.OccurredOn) && today.Before(rec.OccurredOn.AddDate(3, 0, 0))
	}
	switch action {
	case ViewSection, ViewRecord:
		switch access {
		case catalog.Public:
			return recordShown()
		case catalog.Authorized:
			return granted("VIEW") && recordShown()
		}
		return false
	case Verify:
		switch access {
		case catalog.Public:
			return recordShown()
		case catalog.Authorized, catalog.VerifyOnly:
			return granted("VERIFY") && recordShown()
		}
		return false
	}
	return false
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func TestPolicyAgainstAccessTable(t *testing.T) {
	const cases = 200_000
	rng := rand.New(rand.NewPCG(20261127, 1))
	p3y, _ := catalog.ParsePeriod("P3Y")
	combos := []struct {
		access catalog.Access
		mode   catalog.Mode
	}{
		{catalog.Public, catalog.Collected},
		{catalog.Authorized, catalog.Collected},
		{catalog.Authorized, catalog.ProviderAPI},
		{catalog.VerifyOnly, catalog.Collected},
		{catalog.VerifyOnly, catalog.ProviderVerify},
		{catalog.ModelOnly, catalog.Collected},
	}
	items := []string{"x.item", "x.other"}
	orgs := []string{"BANK-A", "BANK-B"}
	purposeList := []string{"LOAN_APPLICATION", "CREDIT_REVIEW", "POST_LOAN_MONITORING", "GUARANTEE_SCREENING", "INSURANCE_UNDERWRITING"}
	pick := func(list []string) []string {
		var out []string
		for _, v := range list {
			if rng.IntN(2) == 0 {
				out = append(out, v)
			}
		}
		return out
	}
	base := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)
	at := func(days int) time.Time {
		return base.Add(time.Duration(days)*24*time.Hour + time.Duration(rng.IntN(86400))*time.Second)
	}
	grantedViews := 0
	counts := map[bool]int{}
	for i := 0; i < cases; i++ {
		c := combos[rng.IntN(len(combos))]
		it := &catalog.Item{Code: "x.item", Provider: "TAX", Access: c.access, Mode: c.mode,
			Disclosure: catalog.Disclosure{Kind: catalog.DisclosePeriod, Period: p3y}}
		now := at(rng.IntN(5) - 2)
		org := orgs[rng.IntN(2)]
		purpose := ""
		if rng.IntN(10) > 0 {
			purpose = purposeList[rng.IntN(len(purposeList))]
		}
		var gs []Grant
		for n := rng.IntN(4); n > 0; n-- {
			from := at(rng.IntN(7) - 4)
			gs = append(gs, Grant{
				ID: "g", Institution: orgs[rng.IntN(2)], Items: pick(items), Actions: pick([]string{"VIEW", "VERIFY"}),
				Purposes: pick(purposeList), ValidFrom: from, ValidUntil: from.Add(time.Duration(rng.IntN(5*24)) * time.Hour),
				Revoked: rng.IntN(4) == 0,
			})
		}
		action := []Action{ViewSection, ViewRecord, Verify}[rng.IntN(3)]
		var rec *Record
		if action == ViewRecord || (action == Verify && rng.IntN(2) == 0) {
			rec = &Record{OccurredOn: time.Date(2022+rng.IntN(6), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC),
				Repaired: rng.IntN(8) == 0, Deleted: rng.IntN(8) == 0, Withdrawn: rng.IntN(8) == 0}
		}
		req := Request{Viewer: Viewer{Institution, org}, Subject: "S", Item: it, Action: action, Purpose: purpose, Grants: gs, Record: rec, Now: now}
		got := Decide(req)
		shown := got.Allowed
		if action == ViewSection {
			shown = got.Decision == Visible
		}
		want := oracleInstitution(action, c.access, org, it.Code, purpose, gs, rec, now)
		counts[want]++
		if shown != want {
			t.Fatalf("case %d: Decide says %v (%+v), the access table says %v\nrequest: %+v", i, shown, got, want, req)
		}
		if c.access != catalog.Public && (action == ViewSection || action == ViewRecord) && shown {
			if !oracleInstitution(action, catalog.Authorized, org, it.Code, purpose, gs, nil, now) || c.access != catalog.Authorized {
				t.Fatalf("case %d: %s data VISIBLE without a matching active VIEW grant: %+v", i, c.access, req)
			}
			grantedViews++
		}
		if shown && c.access != catalog.Public && got.GrantID == "" {
			t.Fatalf("case %d: access to %s data names no grant", i, c.access)
		}
	}
	// The generator must reach both answers often, or the test proves little.
	if counts[true] < cases/20 || counts[false] < cases/20 {
		t.Fatalf("unbalanced cases: %v", counts)
	}
	if grantedViews == 0 {
		t.Fatal("no granted view was generated")
	}
}

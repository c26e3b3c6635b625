// Package policy is the one place where access is decided (DESIGN.md principle 2).
//
// Decide is pure: it sees the viewer, the subject, the catalog item, the action, the purpose,
// the grants, the record's state and the time, and returns a decision with its reason. It does
// no I/O; resolvers, services and loaders never decide access themselves.
package policy

import (
	"time"

	"creditd/internal/apperr"
	"creditd/internal/catalog"
)

// Role is the caller's role, from the verified token.
type Role string

const (
	Institution Role = "INSTITUTION"
	Enterprise  Role = "ENTERPRISE"
	Provider    Role = "PROVIDER"
	Operator    Role = "OPERATOR"
)

// Viewer is the authenticated caller.
type Viewer struct {
	Role Role
	Org  string // institution code, the enterprise's USCC, or provider code
}

// Action is what the viewer wants to do.
type Action int

const (
	// LookUp finds one enterprise by its code (Subject set).
	LookUp Action = iota
	// Search lists enterprises by name, region or industry (no Subject).
	Search
	// ViewSection reads one catalog item's section about Subject.
	ViewSection
	// ViewRecord reads one record of a section (Record set).
	ViewRecord
	// Submit loads records of Item (providers, collected items).
	Submit
	// Verify answers a claim about Item's data (institutions).
	Verify
	// Authorize gives or revokes a grant on Subject's data (the subject itself).
	Authorize
	// ListGrants lists the grants an enterprise gave or an institution holds.
	ListGrants
	// ReadAccessLog reads the uses of the subject's own information (the enterprise itself).
	ReadAccessLog
	// ReadUsage reads how a provider's items were used, and manages its usage webhook.
	ReadUsage

	// The subject's rights (R12, R20, R21, R3): each only for the enterprise itself, about its
	// own records (Subject is the record's enterprise).
	FileObjection
	DisputeObjection
	ApplyRepair
	SelfReport

	// Steps for the platform's operators.
	ReviewObjection
	NotifyObjection
	PauseObjection

	// Steps for the provider of the record's item (Item set).
	AnswerObjection
	DecideRepair

	// ReadObjection reads one objection or repair application: the applicant enterprise, the
	// item's provider and operators (Subject and Item set).
	ReadObjection
)

// workflowRoles says which role takes each workflow action.
var workflowRoles = map[Action]Role{
	FileObjection: Enterprise, DisputeObjection: Enterprise, ApplyRepair: Enterprise, SelfReport: Enterprise,
	ReviewObjection: Operator, NotifyObjection: Operator, PauseObjection: Operator,
	AnswerObjection: Provider, DecideRepair: Provider,
}

// Grant actions.
const (
	GrantView   = "VIEW"
	GrantVerify = "VERIFY"
)

// Grant is an authorization the subject gave one institution (R15).
type Grant struct {
	ID          string
	Institution string
	Items       []string
	Actions     []string // VIEW, VERIFY
	Purposes    []string
	ValidFrom   time.Time // inclusive
	ValidUntil  time.Time // exclusive
	Revoked     bool
}

// Active reports whether g is in force at now.
func (g Grant) Active(now time.Time) bool {
	return !g.Revoked && !now.Before(g.ValidFrom) && now.Before(g.ValidUntil)
}

// covers reports whether g lets institution take action on item for purpose at now.
func (g Grant) covers(institution, item, action, purpose string, now time.Time) bool {
	return g.Institution == institution && g.Active(now) &&
		has(g.Items, item) && has(g.Actions, action) && has(g.Purposes, purpose)
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Decision is a section-level answer, as in the API's Decision enum.
type Decision string

const (
	Visible     Decision = "VISIBLE"
	NeedsGrant  Decision = "NEEDS_GRANT"
	VerifyOnly  Decision = "VERIFY_ONLY"
	ModelOnly   Decision = "MODEL_ONLY"
	Unavailable Decision = "UNAVAILABLE"
	Denied      Decision = "DENIED"
)

// Record annotations.
const (
	UnderObjection    = "UNDER_OBJECTION"
	SelfReported      = "SELF_REPORTED"
	Repaired          = "REPAIRED"
	OutsideDisclosure = "OUTSIDE_DISCLOSURE"
	Deleted           = "DELETED"
	Withdrawn         = "WITHDRAWN"
)

// Purposes an institution may state (R14).
var purposes = map[string]bool{
	"LOAN_APPLICATION": true, "CREDIT_REVIEW": true, "POST_LOAN_MONITORING": true,
	"GUARANTEE_SCREENING": true, "INSURANCE_UNDERWRITING": true,
}

// Record is the state of one record that access depends on.
type Record struct {
	OccurredOn     time.Time  // calendar date (UTC midnight)
	EndsOn         *time.Time // calendar date (UTC midnight), nil if none
	Severity       string     // admin.penalty: minor | ordinary | serious
	Repaired       bool
	Deleted        bool
	Withdrawn      bool
	UnderObjection bool
	SelfReported   bool
}

// Request is everything a decision depends on.
type Request struct {
	Viewer  Viewer
	Subject string        // the subject enterprise's USCC; "" for Search
	Item    *catalog.Item // for ViewSection, ViewRecord and Submit
	Action  Action
	Purpose string  // "" when none was given
	Record  *Record // for ViewRecord
	// Grants are the subject's grants to the viewing institution (others are ignored).
	Grants []Grant
	Now    time.Time
}

// Result is a decision.
//
// For LookUp, Search and Submit, Allowed says whether to proceed; when it is false, Code and
// Reason form the caller's error. For ViewSection, Decision and Reason describe the section
// (Code is set only when the whole request is refused). For ViewRecord, Allowed says whether
// the record is shown and Annotations are the ones this viewer sees.
type Result struct {
	Allowed     bool
	Decision    Decision
	Code        apperr.Code
	Reason      string
	Annotations []string
	// GrantID is the grant that allowed an institution's access, if one did.
	GrantID string
}

func refuse(code apperr.Code, reason string) Result {
	return Result{Code: code, Reason: reason, Decision: Denied}
}

func allow() Result { return Result{Allowed: true} }

// Decide returns the decision for r. It is pure and total: an unknown role or action is refused.
func Decide(r Request) Result {
	if res, ok := gate(r); !ok {
		return res
	}
	switch r.Action {
	case LookUp, Search:
		return allow()
	case Submit:
		return decideSubmit(r)
	case ViewSection:
		return decideSection(r)
	case ViewRecord:
		return decideRecord(r)
	case Verify:
		return decideVerify(r)
	case Authorize, ListGrants, ReadAccessLog, ReadUsage:
		return allow()
	case FileObjection, DisputeObjection, ApplyRepair, SelfReport, ReviewObjection, NotifyObjection,
		PauseObjection, AnswerObjection, DecideRepair, ReadObjection:
		return decideWorkflow(r)
	}
	return refuse(apperr.Forbidden, "unknown action")
}

// gate applies the request-level rules: roles, purpose, the subject's own data.
func gate(r Request) (Result, bool) {
	if r.Action == Authorize && r.Viewer.Role != Enterprise {
		return refuse(apperr.Forbidden, "only the enterprise itself may authorize access to its information"), false
	}
	if r.Action == Verify && r.Viewer.Role != Institution {
		return refuse(apperr.Forbidden, "only institutions verify claims"), false
	}
	if r.Action == ListGrants && r.Viewer.Role != Enterprise && r.Viewer.Role != Institution {
		return refuse(apperr.Forbidden, "grants are listed for the enterprise that gave them and the institution that holds them"), false
	}
	if r.Action == ReadAccessLog && r.Viewer.Role != Enterprise {
		return refuse(apperr.Forbidden, "an access log is read only by the enterprise it is about"), false
	}
	if r.Action == ReadUsage && r.Viewer.Role != Provider {
		return refuse(apperr.Forbidden, "usage feedback is read only by data providers, about their own items"), false
	}
	switch r.Viewer.Role {
	case Institution:
		if r.Action == Submit {
			return refuse(apperr.Forbidden, "only a data provider may submit records"), false
		}
		if r.Action == ListGrants || workflowRoles[r.Action] != "" || r.Action == ReadObjection {
			break
		}
		if r.Purpose == "" {
			return refuse(apperr.PurposeRequired, "institutions must state a purpose"), false
		}
		if !purposes[r.Purpose] {
			return refuse(apperr.BadInput, "purpose is not one of the allowed purposes"), false
		}
	case Enterprise:
		if r.Action == Submit {
			return refuse(apperr.Forbidden, "only a data provider may submit records"), false
		}
		if r.Action == Search {
			return refuse(apperr.Forbidden, "an enterprise may read only its own information"), false
		}
		if r.Action == ListGrants {
			break
		}
		if r.Subject != r.Viewer.Org {
			return refuse(apperr.Forbidden, "an enterprise may read only its own information"), false
		}
	case Provider:
	case Operator:
		if r.Action == Submit {
			return refuse(apperr.Forbidden, "only a data provider may submit records"), false
		}
	default:
		return refuse(apperr.Forbidden, "unknown role"), false
	}
	if r.Viewer.Org == "" {
		return refuse(apperr.Forbidden, "the token names no organization"), false
	}
	if (r.Action == ViewSection || r.Action == ViewRecord || r.Action == Submit || r.Action == Verify) && r.Item == nil {
		return refuse(apperr.BadInput, "no catalog item"), false
	}
	if r.Action == ViewRecord && r.Record == nil {
		return refuse(apperr.BadInput, "no record"), false
	}
	return Result{}, true
}

func decideSubmit(r Request) Result {
	if r.Viewer.Role != Provider || r.Item.Provider != r.Viewer.Org {
		return refuse(apperr.Forbidden, "item "+r.Item.Code+" is supplied by another provider")
	}
	if r.Item.Mode != catalog.Collected {
		return refuse(apperr.BadInput, "item "+r.Item.Code+" is not collected: the platform reads it from the provider live")
	}
	return allow()
}

func section(d Decision, reason string) Result {
	return Result{Allowed: d == Visible, Decision: d, Reason: reason}
}

func decideSection(r Request) Result {
	it := r.Item
	switch r.Viewer.Role {
	case Operator:
		if it.Mode == catalog.ProviderVerify {
			return section(Unavailable, "held only by the provider, which answers verifications")
		}
		return section(Visible, "operator access for objection handling and audit; this read is recorded")
	case Enterprise:
		if it.Mode == catalog.ProviderVerify {
			return section(Unavailable, "held only by the provider, which answers verifications; the platform stores no copy")
		}
		return section(Visible, "your own information, free of charge")
	case Provider:
		if it.Provider != r.Viewer.Org {
			return section(Denied, "supplied by another provider")
		}
		if it.Mode == catalog.ProviderVerify {
			return section(Unavailable, "held by you; the platform stores no copy")
		}
		return section(Visible, "records you supplied")
	case Institution:
		switch it.Access {
		case catalog.Public:
			return section(Visible, "public credit information, inside its disclosure period")
		case catalog.Authorized:
			if g, ok := findGrant(r, GrantView); ok {
				res := section(Visible, "authorized by the enterprise for this purpose")
				res.GrantID = g.ID
				return res
			}
			return section(NeedsGrant, "needs the enterprise's authorization for this item and purpose")
		case catalog.VerifyOnly:
			return section(VerifyOnly, "usable but not visible: only verification of a claim, under the enterprise's authorization")
		case catalog.ModelOnly:
			return section(ModelOnly, "usable but not visible: used only inside platform models")
		}
	}
	return section(Denied, "no access")
}

// decideWorkflow decides the subject's rights and the workflow steps of objections, credit
// repair and self-reports.
func decideWorkflow(r Request) Result {
	v := r.Viewer
	if r.Action == ReadObjection {
		switch {
		case v.Role == Operator:
		case v.Role == Enterprise && r.Subject == v.Org:
		case v.Role == Provider && r.Item != nil && r.Item.Provider == v.Org:
		default:
			return refuse(apperr.Forbidden, "only the applicant, the provider of the item and the platform see this")
		}
		return allow()
	}
	want := workflowRoles[r.Action]
	if v.Role != want {
		return refuse(apperr.Forbidden, "this step is taken by "+roleName(want))
	}
	if want == Provider && (r.Item == nil || r.Item.Provider != v.Org) {
		return refuse(apperr.Forbidden, "this step is taken by the provider of the record's item")
	}
	if (r.Action == ApplyRepair || r.Action == DecideRepair) && r.Item != nil && !r.Item.Repairable {
		return refuse(apperr.BadInput, "records of "+r.Item.Code+" are not repairable")
	}
	return allow()
}

func roleName(r Role) string {
	switch r {
	case Enterprise:
		return "the enterprise itself, about its own records"
	case Operator:
		return "the platform's operators"
	case Provider:
		return "the provider of the record's item"
	}
	return string(r)
}

// findGrant returns an active grant covering the institution's action on the item for the
// stated purpose.
func findGrant(r Request, action string) (Grant, bool) {
	for _, g := range r.Grants {
		if g.covers(r.Viewer.Org, r.Item.Code, action, r.Purpose, r.Now) {
			return g, true
		}
	}
	return Grant{}, false
}

// decideVerify decides whether an institution may have a claim about the item checked.
// Allowed results carry the grant used, if any; refusals carry the section decision. With a
// Record, it also decides whether that record may be the one tested: inside its disclosure
// window, not repaired, deleted or withdrawn.
func decideVerify(r Request) Result {
	res := decideVerifyItem(r)
	if !res.Allowed || r.Record == nil {
		return res
	}
	rec := r.Record
	if !InWindow(r.Item, rec, Today(r.Now)) || rec.Repaired || rec.Deleted || rec.Withdrawn {
		return Result{Decision: res.Decision}
	}
	return res
}

func decideVerifyItem(r Request) Result {
	it := r.Item
	switch it.Access {
	case catalog.Public:
		return Result{Allowed: true, Decision: Visible, Reason: "public information needs no grant to verify"}
	case catalog.Authorized, catalog.VerifyOnly:
		if g, ok := findGrant(r, GrantVerify); ok {
			return Result{Allowed: true, Decision: Visible, Reason: "verification authorized by the enterprise", GrantID: g.ID}
		}
		return Result{Code: apperr.Forbidden, Decision: NeedsGrant, Reason: "verifying " + it.Code + " needs the enterprise's VERIFY authorization for this item and purpose"}
	case catalog.ModelOnly:
		return Result{Code: apperr.Forbidden, Decision: ModelOnly, Reason: it.Code + " is used only inside platform models and is never verifiable"}
	}
	return refuse(apperr.Forbidden, "no access")
}

func decideRecord(r Request) Result {
	sec := decideSection(r)
	if sec.Decision != Visible {
		return Result{Decision: sec.Decision, Reason: sec.Reason}
	}
	rec := r.Record
	inWindow := InWindow(r.Item, rec, Today(r.Now))
	var all []string
	if rec.UnderObjection {
		all = append(all, UnderObjection)
	}
	if rec.SelfReported {
		all = append(all, SelfReported)
	}
	if rec.Repaired {
		all = append(all, Repaired)
	}
	if !inWindow {
		all = append(all, OutsideDisclosure)
	}
	if rec.Deleted {
		all = append(all, Deleted)
	}
	if rec.Withdrawn {
		all = append(all, Withdrawn)
	}
	if r.Viewer.Role != Institution {
		// The subject, the item's provider and operators see every record, fully annotated.
		return Result{Allowed: true, Decision: Visible, Annotations: nonNil(all)}
	}
	if !inWindow || rec.Repaired || rec.Deleted || rec.Withdrawn {
		// Absent without a trace: no reason that could hint at the record.
		return Result{Decision: Visible}
	}
	var shown []string
	for _, a := range all {
		if a == UnderObjection || a == SelfReported {
			shown = append(shown, a)
		}
	}
	return Result{Allowed: true, Decision: Visible, Annotations: nonNil(shown), GrantID: sec.GrantID}
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// shanghai is China Standard Time; the country keeps no daylight saving time.
var shanghai = time.FixedZone("Asia/Shanghai", 8*60*60)

// Today returns the calendar date of now in Asia/Shanghai, as UTC midnight.
func Today(now time.Time) time.Time {
	y, m, d := now.In(shanghai).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// InWindow reports whether a record of item is inside its disclosure window on today
// (a calendar date at UTC midnight): occurredOn <= today < occurredOn + period, or, for
// while_listed items, occurredOn <= today < endsOn (no endsOn: still listed).
func InWindow(item *catalog.Item, rec *Record, today time.Time) bool {
	if today.Before(rec.OccurredOn) {
		return false
	}
	d := item.Disclosure
	switch d.Kind {
	case catalog.DiscloseAlways:
		return true
	case catalog.DiscloseWhileListed:
		return rec.EndsOn == nil || today.Before(*rec.EndsOn)
	case catalog.DiscloseBySeverity:
		p, ok := d.BySeverity[rec.Severity]
		if !ok {
			return false // unknown severity: never disclosed (safe side)
		}
		return today.Before(p.AddTo(rec.OccurredOn))
	default:
		return today.Before(d.Period.AddTo(rec.OccurredOn))
	}
}

package seed

import (
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/uscc"
)

// Records of the random enterprises. Each generator draws only from the enterprise's own
// stream, in a fixed order, and places dates relative to the catalog's disclosure and
// retention rules: most records inside their window, some outside it but still retained.

// person is a principal of registration.personnel.
type person struct{ Name, Position string }

func (g *generator) randomRecords(rng *rand.Rand, em *emitter, pr *profile) {
	g.registration(em, randomPeople(rng, em.e))
	g.changes(rng, em, pr)
	g.licences(rng, em, pr)
	g.penalties(rng, em, pr)
	g.courts(rng, em, pr)
	g.lists(rng, em, pr)
	g.publicGood(rng, em, pr)
	g.intellectualProperty(rng, em, pr)
	g.certifications(rng, em, pr)
	g.tax(rng, em, pr)
	g.socialInsurance(rng, em, pr)
	g.customsTrade(rng, em, pr)
	g.utilities(rng, em, pr)
	g.otherItems(rng, em)
}

// knownItem reports whether the generator has its own vocabulary for an item.
func knownItem(code string) bool {
	switch code {
	case "registration.basic", "registration.change", "registration.personnel", "admin.licence",
		"admin.penalty", "court.judgment", "court.enforcement", "court.dishonest_debtor",
		"list.serious_dishonesty", "list.abnormal_operation", "honour", "policy.support",
		"commitment", "ip.patent", "ip.trademark", "rnd.certification", "customs.credit_rating",
		"tax.credit_rating", "social_insurance.payment", "customs.trade", "utility.water",
		"utility.gas", "tax.revenue", "social_insurance.headcount", "tax.invoice_detail":
		return true
	}
	return false
}

// --- dates -----------------------------------------------------------------------------------

// firstDay returns the earliest day d in [from, to] for which inside(d) holds, inside being
// monotonic (false then true); to+1 when there is none.
func firstDay(from, to time.Time, inside func(time.Time) bool) time.Time {
	lo, hi := 0, int(to.Sub(from).Hours()/24)+1
	for lo < hi {
		mid := (lo + hi) / 2
		if inside(from.AddDate(0, 0, mid)) {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	return from.AddDate(0, 0, lo)
}

// periodOf is the disclosure period of item (of the severity, for severity-based items).
func (g *generator) periodOf(item, severity string) (catalog.Period, bool) {
	it, ok := g.cat.Item(item)
	if !ok {
		return catalog.Period{}, false
	}
	switch it.Disclosure.Kind {
	case catalog.DisclosePeriod:
		return it.Disclosure.Period, true
	case catalog.DiscloseBySeverity:
		p, ok := it.Disclosure.BySeverity[severity]
		return p, ok
	}
	return catalog.Period{}, false
}

// windowStart is the earliest occurredOn of a record of item still inside its disclosure
// window on the as-of date (asOf+1 for a P0D period); ok is false when the item is not
// disclosed for a period.
func (g *generator) windowStart(item, severity string) (time.Time, bool) {
	p, ok := g.periodOf(item, severity)
	if !ok {
		return time.Time{}, false
	}
	from := g.asOf.AddDate(-p.Years-1, -p.Months, -p.Days)
	return firstDay(from, g.asOf, func(d time.Time) bool { return p.AddTo(d).After(g.asOf) }), true
}

// retentionStart is the earliest date (occurredOn, or endsOn for while_listed items) of a
// record of item still retained on the as-of date; the zero time when kept for ever.
func (g *generator) retentionStart(item string) time.Time {
	it, ok := g.cat.Item(item)
	if !ok || it.Retention.Always {
		return time.Time{}
	}
	p := it.Retention.Period
	from := g.asOf.AddDate(-p.Years-1, -p.Months, -p.Days)
	return firstDay(from, g.asOf, func(d time.Time) bool { return p.AddTo(d).After(g.asOf) })
}

// eventDate picks the occurredOn of a record of item: with probability pIn inside its
// disclosure window, otherwise outside it but still retained; never before from. Items
// disclosed always or while listed get any retained date.
func (g *generator) eventDate(rng *rand.Rand, item, severity string, from time.Time, pIn float64) time.Time {
	lo := later(from, g.retentionStart(item))
	ws, ok := g.windowStart(item, severity)
	if !ok {
		return between(rng, lo, g.asOf)
	}
	inside := chance(rng, pIn)
	if inside && !ws.After(g.asOf) {
		return between(rng, later(lo, ws), g.asOf)
	}
	if outEnd := ws.AddDate(0, 0, -1); !lo.After(outEnd) {
		return between(rng, lo, outEnd)
	}
	return between(rng, later(lo, ws), g.asOf) // too young for a record outside the window
}

// listedSince picks the start of a listing still in force: within the last years years, not
// before from.
func (g *generator) listedSince(rng *rand.Rand, from time.Time, years int) time.Time {
	return between(rng, later(from, g.asOf.AddDate(-years, 0, 0)), g.asOf)
}

// endedListing picks a listing that lasted minDays to maxDays and ended before the as-of date,
// recently enough to be retained; ok is false when from is too recent for one.
func (g *generator) endedListing(rng *rand.Rand, item string, from time.Time, minDays, maxDays int) (occurred, ends time.Time, ok bool) {
	lo := later(from.AddDate(0, 0, minDays), g.retentionStart(item))
	hi := g.asOf.AddDate(0, 0, -1)
	if lo.After(hi) {
		return time.Time{}, time.Time{}, false
	}
	ends = between(rng, lo, hi)
	occurred = between(rng, later(from, ends.AddDate(0, 0, -maxDays)), ends.AddDate(0, 0, -minDays))
	return occurred, ends, true
}

// period is a reporting period of yearly or year-to-date figures.
type period struct {
	Year   int
	Label  string    // 2025, or 2026-01/2026-04 for the current year to date
	End    time.Time // last day
	Months int       // months of the period the entity existed
}

// annualPeriods are the last four calendar years and the current year to date (when a month
// of it has passed), limited to the months since establishment.
func (g *generator) annualPeriods(established time.Time, withCurrent bool) []period {
	var out []period
	last := g.asOf.Year()
	if !withCurrent || g.asOf.Month() == time.January {
		last--
	}
	for y := g.asOf.Year() - 4; y <= last; y++ {
		p := period{Year: y, Label: fmt.Sprint(y), End: time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC)}
		startMonth, endMonth := 1, 12
		if y == g.asOf.Year() {
			endMonth = int(g.asOf.Month()) - 1
			p.End = time.Date(y, g.asOf.Month(), 0, 0, 0, 0, 0, time.UTC)
			p.Label = fmt.Sprintf("%d-01/%d-%02d", y, y, endMonth)
		}
		if established.Year() > y {
			continue
		}
		if established.Year() == y {
			startMonth = int(established.Month())
		}
		if p.Months = endMonth - startMonth + 1; p.Months > 0 {
			out = append(out, p)
		}
	}
	return out
}

// quarters are the last n completed quarters that ended after establishment, oldest first.
func (g *generator) quarters(established time.Time, n int) []period {
	var out []period
	y, q := g.asOf.Year(), (int(g.asOf.Month())-1)/3+1
	for len(out) < n {
		end := time.Date(y, time.Month(3*q+1), 0, 0, 0, 0, 0, time.UTC)
		if end.Before(established) {
			break
		}
		if !end.After(g.asOf) {
			out = append(out, period{Year: y, Label: fmt.Sprintf("%dQ%d", y, q), End: end, Months: 3})
		}
		if q--; q == 0 {
			y, q = y-1, 4
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}

// --- registration ----------------------------------------------------------------------------

// registration emits an enterprise's registration.basic and registration.personnel records.
func (g *generator) registration(em *emitter, people []person) {
	e := em.e
	r := g.regions.byCode[e.RegionCode]
	em.add("registration.basic", e.EstablishedOn, time.Time{}, map[string]any{
		"name":                   e.Name,
		"legal_representative":   e.LegalRepresentative,
		"registered_capital":     e.RegisteredCapital,
		"established_on":         date(e.EstablishedOn),
		"region_code":            e.RegionCode,
		"industry_code":          e.IndustryCode,
		"size":                   e.Size,
		"subject_type":           e.SubjectType,
		"address":                e.Address,
		"status":                 "存续",
		"registration_authority": r.local() + "市场监督管理局",
	})
	for _, p := range people {
		em.add("registration.personnel", e.EstablishedOn, time.Time{}, map[string]any{"name": p.Name, "position": p.Position})
	}
}

func randomPeople(rng *rand.Rand, e *Enterprise) []person {
	switch {
	case e.SubjectType == SubjectIndividual:
		return []person{{e.LegalRepresentative, "经营者"}}
	case e.SubjectType == SubjectCooperative:
		return []person{{e.LegalRepresentative, "理事长"}, {personName(rng), "执行监事"}}
	case e.Size == "medium" || e.Size == "large":
		return []person{{e.LegalRepresentative, "董事长"}, {personName(rng), "总经理"}, {personName(rng), "董事"}, {personName(rng), "监事"}}
	}
	people := []person{{e.LegalRepresentative, "执行董事兼总经理"}, {personName(rng), "监事"}}
	if chance(rng, 0.3) {
		people = append(people, person{personName(rng), "财务负责人"})
	}
	return people
}

func (g *generator) changes(rng *rand.Rand, em *emitter, pr *profile) {
	e := em.e
	kinds := changeItems
	if e.SubjectType == SubjectIndividual {
		kinds = []string{"住所变更", "经营范围变更"}
	}
	n := rng.IntN(4)
	for range n {
		occurred := between(rng, earlier(e.EstablishedOn.AddDate(0, 0, 30), g.asOf), g.asOf)
		kind := pick(rng, kinds)
		var before, after string
		switch kind {
		case "注册资本变更":
			before = fmt.Sprintf("%d万元人民币", max(1, e.RegisteredCapital/10000*intIn(rng, 2, 8)/10))
			after = fmt.Sprintf("%d万元人民币", e.RegisteredCapital/10000)
		case "法定代表人变更":
			before, after = personName(rng), e.LegalRepresentative
		case "住所变更":
			before, after = address(rng, pr.region, false), e.Address
		case "经营范围变更":
			before, after = pr.industry.Name, pr.industry.Name+"；"+pick(rng, []string{"技术进出口", "货物进出口", "技术咨询", "普通货物仓储服务"})
		default:
			before, after = personName(rng), personName(rng)
		}
		em.add("registration.change", occurred, time.Time{}, map[string]any{
			"change_item": kind, "before": before, "after": after, "changed_on": date(occurred),
		})
	}
}

// --- licences and penalties ------------------------------------------------------------------

func (g *generator) licences(rng *rand.Rand, em *emitter, pr *profile) {
	for _, name := range pr.industry.Licences {
		p := 0.55
		if strings.HasPrefix(name, "食品") || strings.HasPrefix(name, "药品") {
			p = 0.9
		}
		if !chance(rng, p) {
			continue
		}
		occurred := g.eventDate(rng, "admin.licence", "", em.e.EstablishedOn, 0.75)
		em.add("admin.licence", occurred, time.Time{}, licenceData(name, pr.region, em.e.USCC, occurred, rng.Int64N(10_000_000)))
	}
}

func licenceData(name string, r region, code uscc.Code, occurred time.Time, serial int64) map[string]any {
	return map[string]any{
		"licence_name": name,
		"licence_no":   licenceNo(name, r, code, occurred, serial),
		"authority":    licenceAuthority(name, r),
		"valid_from":   date(occurred),
		"valid_until":  date(occurred.AddDate(5, 0, -1)),
	}
}

func licenceNo(name string, r region, code uscc.Code, occurred time.Time, serial int64) string {
	switch name {
	case "食品经营许可证":
		return fmt.Sprintf("JY1%s%07d", r.Code, serial%10_000_000)
	case "食品生产许可证":
		return fmt.Sprintf("SC106%s%05d", r.Code, serial%100_000)
	case "排污许可证":
		return fmt.Sprintf("%s%03dV", code, 1+serial%3)
	case "药品经营许可证", "药品生产许可证":
		return fmt.Sprintf("辽%s%07d", either(name == "药品经营许可证", "CB", "20"), serial%10_000_000)
	}
	return docNo(r.Abbr+"许字", occurred.Year(), 1+serial%9999)
}

func licenceAuthority(name string, r region) string {
	switch name {
	case "食品经营许可证", "药品经营许可证":
		return r.local() + "市场监督管理局"
	case "食品生产许可证":
		return r.City + "市场监督管理局"
	case "公共场所卫生许可证":
		return r.local() + "卫生健康局"
	case "排污许可证":
		return r.City + "生态环境局"
	case "特种设备生产许可证", "工业产品生产许可证":
		return "辽宁省市场监督管理局"
	case "安全生产许可证":
		return "辽宁省应急管理厅"
	case "药品生产许可证":
		return "辽宁省药品监督管理局"
	case "建筑业企业资质证书", "工程设计资质证书":
		return "辽宁省住房和城乡建设厅"
	case "房地产开发企业资质证书":
		return r.City + "住房和城乡建设局"
	case "道路运输经营许可证":
		return r.local() + "交通运输局"
	case "增值电信业务经营许可证":
		return "辽宁省通信管理局"
	case "承装（修、试）电力设施许可证", "电力业务许可证":
		return "国家能源局东北监管局"
	case "动物防疫条件合格证":
		return r.local() + "农业农村局"
	}
	return r.City + "行政审批局"
}

func (g *generator) penalties(rng *rand.Rand, em *emitter, pr *profile) {
	if !chance(rng, either(pr.troubled, 0.6, 0.12)) {
		return
	}
	n := 1 + rng.IntN(either(pr.troubled, 3, 2))
	for range n {
		severity := weighted(rng, []string{"minor", "ordinary", "serious"}, either(pr.troubled, []int{25, 45, 30}, []int{35, 50, 15}))
		kinds := penaltyKinds(severity)
		k := kinds[rng.IntN(len(kinds))]
		occurred := g.eventDate(rng, "admin.penalty", severity, em.e.EstablishedOn, 0.5)
		amount := intIn(rng, k.Min/100, k.Max/100) * 100
		em.add("admin.penalty", occurred, time.Time{}, penaltyData(pr.region, severity, k, occurred, 1+rng.Int64N(800), amount))
	}
}

func penaltyData(r region, severity string, k penaltyKind, occurred time.Time, serial, amount int64) map[string]any {
	return map[string]any{
		"severity":     severity,
		"decision_no":  docNo(penaltyPrefix(r, k.Authority), occurred.Year(), serial),
		"authority":    authorityName(r, k.Authority),
		"reason":       k.Reason,
		"basis":        k.Basis,
		"penalty_type": k.Kind,
		"amount":       amount,
		"decided_on":   date(occurred),
	}
}

// authorityName names an enforcement authority of the region: market, tax, ecology,
// emergency or fire.
func authorityName(r region, kind string) string {
	switch kind {
	case "market":
		return r.local() + "市场监督管理局"
	case "tax":
		return "国家税务总局" + r.local() + "税务局"
	case "ecology":
		return r.City + "生态环境局"
	case "emergency":
		return r.City + "应急管理局"
	case "fire":
		return r.City + "消防救援支队"
	}
	return r.City + "人民政府"
}

func penaltyPrefix(r region, kind string) string {
	local := localPrefix(r)
	switch kind {
	case "market":
		return local + "市监罚"
	case "tax":
		return local + "税罚"
	case "ecology":
		return r.Abbr + "环罚"
	case "emergency":
		return r.Abbr + "应急罚"
	case "fire":
		return r.Abbr + "消行罚决字"
	}
	return r.Abbr + "罚"
}

// localPrefix abbreviates a region in document numbers: 沈和 for 沈阳市和平区, 新市 for
// 新民市, 法县 for 法库县.
func localPrefix(r region) string {
	name := []rune(r.Name)
	if r.county() {
		return string(name[0]) + string(name[len(name)-1])
	}
	return r.Abbr + string(name[0])
}

// --- courts and lists ------------------------------------------------------------------------

func (g *generator) courts(rng *rand.Rand, em *emitter, pr *profile) {
	e, r := em.e, pr.region
	if chance(rng, either(pr.troubled, 0.4, 0.08)) {
		for range 1 + rng.IntN(2) {
			occurred := g.eventDate(rng, "court.judgment", "", e.EstablishedOn, 0.9)
			em.add("court.judgment", occurred, time.Time{}, judgmentData(r, occurred, pick(rng, lawsuits),
				pick(rng, []string{"原告", "被告"}), pick(rng, judgmentResults), chance(rng, 0.2),
				1+rng.Int64N(9000), intIn(rng, 200, 50_000)*100))
		}
	}
	if chance(rng, either(pr.troubled, 0.35, 0.04)) {
		amount := intIn(rng, 200, 30_000) * 100
		serial := 1 + rng.Int64N(9000)
		if chance(rng, 0.5) {
			occurred := g.listedSince(rng, e.EstablishedOn, 3)
			em.add("court.enforcement", occurred, time.Time{}, enforcementData(r, occurred, serial, amount, "执行中"))
		} else if occurred, ends, ok := g.endedListing(rng, "court.enforcement", e.EstablishedOn, 60, 700); ok {
			em.add("court.enforcement", occurred, ends, enforcementData(r, occurred, serial, amount, "执行完毕"))
		}
	}
	if chance(rng, either(pr.troubled, 0.2, 0.015)) {
		serial, basis := 1+rng.Int64N(9000), 1+rng.Int64N(9000)
		amount := intIn(rng, 200, 30_000) * 100
		behaviour := pick(rng, []string{"有履行能力而拒不履行生效法律文书确定义务", "违反财产报告制度", "违反限制消费令"})
		if chance(rng, 0.5) {
			occurred := g.listedSince(rng, e.EstablishedOn, 2)
			var ends time.Time
			if term := occurred.AddDate(2, 0, 0); chance(rng, 0.3) && term.After(g.asOf) {
				ends = term // listed for a fixed term
			}
			em.add("court.dishonest_debtor", occurred, ends, dishonestData(r, occurred, serial, basis, amount, behaviour, ""))
		} else if occurred, ends, ok := g.endedListing(rng, "court.dishonest_debtor", e.EstablishedOn, 90, 900); ok {
			em.add("court.dishonest_debtor", occurred, ends, dishonestData(r, occurred, serial, basis, amount, behaviour, "已履行生效法律文书确定的义务"))
		}
	}
}

func judgmentData(r region, occurred time.Time, cause, role, result string, appeal bool, serial, amount int64) map[string]any {
	court, code, kind, procedure := r.court(), r.courtCode(), "民初", "一审"
	if appeal {
		court, code, kind, procedure = r.City+"中级人民法院", "辽"+r.Code[2:4], "民终", "二审"
	}
	return map[string]any{
		"case_no":    caseNo(occurred.Year(), code, kind, serial),
		"court":      court,
		"cause":      cause,
		"role":       role,
		"procedure":  procedure,
		"result":     result,
		"amount":     amount,
		"judged_on":  date(occurred),
		"litigation": "民事",
	}
}

func enforcementData(r region, occurred time.Time, serial, amount int64, status string) map[string]any {
	return map[string]any{
		"case_no":  caseNo(occurred.Year(), r.courtCode(), "执", serial),
		"court":    r.court(),
		"amount":   amount,
		"status":   status,
		"filed_on": date(occurred),
	}
}

func dishonestData(r region, occurred time.Time, serial, basis, amount int64, behaviour, removal string) map[string]any {
	d := map[string]any{
		"case_no":      caseNo(occurred.Year(), r.courtCode(), "执", serial),
		"court":        r.court(),
		"basis_no":     caseNo(occurred.Year()-1, r.courtCode(), "民初", basis),
		"obligation":   fmt.Sprintf("支付款项%d元及利息", amount),
		"performance":  "全部未履行",
		"behaviour":    behaviour,
		"published_on": date(occurred),
	}
	if removal != "" {
		d["removal_reason"] = removal
	}
	return d
}

// seriousFields are the fields of the serious-dishonesty list: field, authority kind, reason.
var seriousFields = [][3]string{
	{"市场监管领域", "market-city", "提交虚假材料骗取市场主体登记，情节严重"},
	{"安全生产领域", "emergency", "发生较大生产安全事故，负有主要责任"},
	{"税收领域", "tax-city", "重大税收违法失信案件：虚开增值税专用发票"},
	{"生态环境领域", "ecology", "篡改、伪造自动监测数据"},
	{"劳动保障领域", "hrss", "拒不支付劳动报酬，数额较大"},
}

func (g *generator) lists(rng *rand.Rand, em *emitter, pr *profile) {
	e, r := em.e, pr.region
	if chance(rng, either(pr.troubled, 0.12, 0.008)) {
		f := seriousFields[rng.IntN(len(seriousFields))]
		occurred := between(rng, later(e.EstablishedOn, g.asOf.AddDate(-5, 0, 0)), g.asOf)
		term := 1 + rng.IntN(3)
		ends := occurred.AddDate(term, 0, 0)
		em.add("list.serious_dishonesty", occurred, ends, seriousData(r, f, occurred, term, 1+rng.Int64N(300)))
	}
	if chance(rng, either(pr.troubled, 0.35, 0.06)) {
		reason := pick(rng, abnormalReasons)
		serial := 1 + rng.Int64N(5000)
		if chance(rng, 0.55) {
			occurred := g.listedSince(rng, e.EstablishedOn, 3)
			em.add("list.abnormal_operation", occurred, time.Time{}, abnormalData(r, occurred, serial, reason, ""))
		} else if occurred, ends, ok := g.endedListing(rng, "list.abnormal_operation", e.EstablishedOn, 30, 700); ok {
			em.add("list.abnormal_operation", occurred, ends, abnormalData(r, occurred, serial, reason, pick(rng, abnormalRemovals)))
		}
	}
}

func seriousData(r region, f [3]string, occurred time.Time, termYears int, serial int64) map[string]any {
	authority := map[string]string{
		"market-city": r.City + "市场监督管理局",
		"emergency":   r.City + "应急管理局",
		"tax-city":    "国家税务总局" + r.City + "税务局",
		"ecology":     r.City + "生态环境局",
		"hrss":        r.City + "人力资源和社会保障局",
	}[f[1]]
	return map[string]any{
		"list_name":   "严重失信主体名单",
		"field":       f[0],
		"authority":   authority,
		"reason":      f[2],
		"decision_no": docNo(r.Abbr+"信列", occurred.Year(), serial),
		"term":        fmt.Sprintf("%d年", termYears),
		"listed_on":   date(occurred),
	}
}

func abnormalData(r region, occurred time.Time, serial int64, reason, removal string) map[string]any {
	d := map[string]any{
		"reason":      reason,
		"authority":   r.local() + "市场监督管理局",
		"decision_no": docNo(localPrefix(r)+"市监异", occurred.Year(), serial),
		"listed_on":   date(occurred),
	}
	if removal != "" {
		d["removal_reason"] = removal
	}
	return d
}

// --- honours, support, commitments -----------------------------------------------------------

func (g *generator) publicGood(rng *rand.Rand, em *emitter, pr *profile) {
	e, r := em.e, pr.region
	if !pr.troubled && chance(rng, 0.06) {
		var h [3]string // title, authority, level
		switch e.SubjectType {
		case SubjectIndividual:
			h = pickTriple(rng, [][3]string{
				{"诚信经营示范店", r.local() + "市场监督管理局", "区县级"},
				{"放心消费示范店", r.local() + "市场监督管理局", "区县级"},
			})
		case SubjectCooperative:
			h = pickTriple(rng, [][3]string{
				{"农民合作社市级示范社", r.City + "农业农村局", "市级"},
				{"农民合作社省级示范社", "辽宁省农业农村厅", "省级"},
			})
		default:
			h = pickTriple(rng, [][3]string{
				{"守合同重信用企业", "辽宁省市场监督管理局", "省级"},
				{"劳动保障诚信示范单位", r.City + "人力资源和社会保障局", "市级"},
				{r.Short + "市优秀民营企业", r.City + "人民政府", "市级"},
				{"诚信示范企业", r.City + "发展和改革委员会", "市级"},
			})
		}
		occurred := g.eventDate(rng, "honour", "", e.EstablishedOn, 0.7)
		em.add("honour", occurred, time.Time{}, honourData(h, occurred))
	}
	if chance(rng, map[string]float64{SubjectEnterprise: 0.1, SubjectIndividual: 0.08, SubjectCooperative: 0.35}[e.SubjectType]) {
		var programmes []supportProgramme
		switch e.SubjectType {
		case SubjectIndividual:
			programmes = []supportProgramme{
				{"小微企业和个体工商户纾困补贴", r.local() + "商务局", 1000, 10000},
				{"创业担保贷款贴息", r.City + "人力资源和社会保障局", 5000, 30000},
			}
		case SubjectCooperative:
			programmes = []supportProgramme{
				{"农机购置与应用补贴", r.local() + "农业农村局", 10000, 200000},
				{"农业生产社会化服务项目补助", r.local() + "农业农村局", 20000, 300000},
				{"高标准农田建设补助", r.local() + "农业农村局", 50000, 500000},
			}
		default:
			programmes = []supportProgramme{
				{"失业保险稳岗返还", r.City + "人力资源和社会保障局", 1000, 80000},
				{"中小企业发展专项资金", "辽宁省工业和信息化厅", 100000, 1000000},
				{"研发费用后补助", r.City + "科学技术局", 50000, 500000},
				{"创业担保贷款贴息", r.City + "人力资源和社会保障局", 5000, 60000},
			}
		}
		for range 1 + rng.IntN(2) {
			p := programmes[rng.IntN(len(programmes))]
			occurred := g.eventDate(rng, "policy.support", "", e.EstablishedOn, 0.7)
			em.add("policy.support", occurred, time.Time{}, supportData(p, occurred, intIn(rng, p.Min/100, p.Max/100)*100))
		}
	}
	if chance(rng, 0.25) {
		c := pickTriple(rng, [][3]string{
			{"审批替代型", "行政许可告知承诺", "本单位承诺已经符合告知的条件、标准和要求，愿意承担不实承诺的法律责任。"},
			{"证明事项告知承诺", "证明事项告知承诺", "本单位承诺所提交的证明事项真实有效，如有虚假，自愿承担相应法律责任。"},
			{"主动型", "主动公开信用承诺", "本单位承诺诚信经营、依法纳税、保障职工合法权益，自愿接受社会监督。"},
			{"行业自律型", "行业协会自律承诺", "本单位承诺遵守行业规范，不从事不正当竞争行为。"},
		})
		occurred := g.eventDate(rng, "commitment", "", e.EstablishedOn, 0.75)
		status := "已履行"
		switch {
		case pr.troubled && chance(rng, 0.4):
			status = "未履行"
		case occurred.After(g.asOf.AddDate(-1, 0, 0)):
			status = "履行中"
		}
		em.add("commitment", occurred, time.Time{}, commitmentData(c, occurred, status))
	}
}

type supportProgramme struct {
	Name, Authority string
	Min, Max        int64
}

func pickTriple(rng *rand.Rand, values [][3]string) [3]string { return values[rng.IntN(len(values))] }

func honourData(h [3]string, occurred time.Time) map[string]any {
	return map[string]any{"title": h[0], "authority": h[1], "level": h[2], "awarded_on": date(occurred)}
}

func supportData(p supportProgramme, occurred time.Time, amount int64) map[string]any {
	return map[string]any{"programme": p.Name, "authority": p.Authority, "amount": amount, "granted_on": date(occurred)}
}

func commitmentData(c [3]string, occurred time.Time, status string) map[string]any {
	return map[string]any{"type": c[0], "matter": c[1], "content": c[2], "status": status, "signed_on": date(occurred)}
}

// --- intellectual property and certifications ------------------------------------------------

func (g *generator) intellectualProperty(rng *rand.Rand, em *emitter, pr *profile) {
	e := em.e
	if chance(rng, either(pr.tech, 0.6, 0.04)) {
		for range 1 + rng.IntN(either(pr.tech, 5, 1)) {
			kind := weighted(rng, []string{"invention", "utility_model", "design"}, []int{30, 55, 15})
			granted := g.eventDate(rng, "ip.patent", "", e.EstablishedOn.AddDate(0, 6, 0), 1)
			granted = earlier(granted, g.asOf)
			em.add("ip.patent", granted, time.Time{}, patentData(kind, patentTitle(rng, kind, pr.industry), granted, rng.Int64N(10_000_000)))
		}
	}
	if chance(rng, map[string]float64{SubjectEnterprise: 0.2, SubjectIndividual: 0.03, SubjectCooperative: 0.1}[e.SubjectType]) {
		for range 1 + rng.IntN(2) {
			occurred := g.eventDate(rng, "ip.trademark", "", e.EstablishedOn, 1)
			em.add("ip.trademark", occurred, time.Time{}, trademarkData(pr.trade, pr.industry.Class, occurred, 10_000_000+rng.Int64N(60_000_000)))
		}
	}
}

// patentNo formats a Chinese patent number: ZL + application year + type (1 invention,
// 2 utility model, 3 design) + 7-digit serial + "." + check digit.
func patentNo(year int, kind string, serial int64) string {
	t := map[string]int{"invention": 1, "utility_model": 2, "design": 3}[kind]
	digits := fmt.Sprintf("%04d%d%07d", year, t, serial%10_000_000)
	weights := [12]int{2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5}
	sum := 0
	for i := range 12 {
		sum += int(digits[i]-'0') * weights[i]
	}
	check := "X"
	if c := sum % 11; c < 10 {
		check = fmt.Sprint(c)
	}
	return "ZL" + digits + "." + check
}

// patentApplied is when a patent granted on granted was applied for.
func patentApplied(kind string, granted time.Time) time.Time {
	switch kind {
	case "invention":
		return granted.AddDate(0, -26, 0)
	case "design":
		return granted.AddDate(0, -5, 0)
	}
	return granted.AddDate(0, -9, 0)
}

func patentData(kind, title string, granted time.Time, serial int64) map[string]any {
	applied := patentApplied(kind, granted)
	return map[string]any{
		"patent_no":  patentNo(applied.Year(), kind, serial),
		"title":      title,
		"type":       kind,
		"applied_on": date(applied),
		"granted_on": date(granted),
		"status":     "有效",
	}
}

func patentTitle(rng *rand.Rand, kind string, ind *industry) string {
	product := goodsName(pick(rng, ind.Goods))
	switch kind {
	case "invention":
		return "一种" + product + pick(rng, []string{"的制备方法", "的检测方法", "的加工工艺", "的智能控制方法"})
	case "design":
		return product + pick(rng, []string{"（A型）", "（B型）", "（标准型）"})
	}
	return "一种用于" + product + "的" + pick(rng, []string{"冷却装置", "固定夹具", "检测装置", "防尘结构", "连接结构", "输送装置"})
}

// goodsName is the item of an invoice line, "*通用设备*数控车床" → 数控车床.
func goodsName(line string) string {
	if i := strings.LastIndex(line, "*"); i >= 0 {
		return line[i+1:]
	}
	return line
}

func trademarkData(mark string, class int, occurred time.Time, number int64) map[string]any {
	return map[string]any{
		"registration_no": fmt.Sprint(number),
		"mark":            mark,
		"nice_class":      class,
		"valid_from":      date(occurred),
		"valid_until":     date(occurred.AddDate(10, 0, -1)),
	}
}

func (g *generator) certifications(rng *rand.Rand, em *emitter, pr *profile) {
	e := em.e
	if pr.tech && chance(rng, 0.5) {
		switch {
		case e.Size != "micro" && chance(rng, 0.6):
			// High-tech certificates run three years and are often renewed.
			start := between(rng, later(e.EstablishedOn.AddDate(1, 0, 0), g.asOf.AddDate(-7, 0, 0)), g.asOf.AddDate(0, 0, -30))
			for !start.After(g.asOf) {
				ends := start.AddDate(3, 0, 0)
				if !ends.Before(g.retentionStart("rnd.certification")) {
					em.add("rnd.certification", start, ends, certificationData("高新技术企业", start, ends, rng.Int64N(1_000_000)))
				}
				if ends.After(g.asOf) || !chance(rng, 0.6) {
					break
				}
				start = ends
			}
		case e.Size == "micro" || e.Size == "small":
			// Technology-based SMEs are registered for one calendar year at a time.
			for y := g.asOf.Year() - 3; y <= g.asOf.Year(); y++ {
				occurred := time.Date(y, 5, 15, 0, 0, 0, 0, time.UTC).AddDate(0, 0, rng.IntN(60))
				if !chance(rng, 0.7) || occurred.After(g.asOf) || occurred.Before(e.EstablishedOn) {
					continue
				}
				ends := time.Date(y+1, 1, 1, 0, 0, 0, 0, time.UTC)
				em.add("rnd.certification", occurred, ends, certificationData("科技型中小企业", occurred, ends, rng.Int64N(1_000_000)))
			}
		default:
			occurred := between(rng, later(e.EstablishedOn, g.asOf.AddDate(-5, 0, 0)), g.asOf)
			ends := occurred.AddDate(3, 0, 0)
			em.add("rnd.certification", occurred, ends, certificationData("专精特新中小企业", occurred, ends, rng.Int64N(1_000_000)))
		}
	}
	if pr.trader {
		registered := between(rng, later(e.EstablishedOn, time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC)), g.asOf.AddDate(-1, 0, 0))
		code := fmt.Sprintf("%s96%04d", pr.region.Code[:4], rng.IntN(10000))
		current := weighted(rng, []string{"高级认证企业", "一般信用企业", "失信企业"}, either(pr.troubled, []int{5, 55, 40}, []int{15, 80, 5}))
		since := registered
		if changeFrom, changeTo := registered.AddDate(0, 6, 0), g.asOf.AddDate(0, 0, -30); chance(rng, 0.4) && changeFrom.Before(changeTo) {
			since = between(rng, changeFrom, changeTo)
			if !since.Before(g.retentionStart("customs.credit_rating")) {
				em.add("customs.credit_rating", registered, since, customsRatingData(pr.region, code, "一般信用企业", registered))
			}
		}
		em.add("customs.credit_rating", since, time.Time{}, customsRatingData(pr.region, code, current, since))
	}
}

func certificationData(kind string, occurred, ends time.Time, serial int64) map[string]any {
	var no, authority string
	switch kind {
	case "高新技术企业":
		no, authority = fmt.Sprintf("GR%d21%06d", occurred.Year(), serial), "辽宁省科学技术厅 辽宁省财政厅 国家税务总局辽宁省税务局"
	case "科技型中小企业":
		no, authority = fmt.Sprintf("%d2101%02dA%07d", occurred.Year(), serial%100, serial), "辽宁省科学技术厅"
	default:
		no, authority = fmt.Sprintf("LNZJTX%d%05d", occurred.Year(), serial%100_000), "辽宁省工业和信息化厅"
	}
	return map[string]any{
		"type":           kind,
		"certificate_no": no,
		"authority":      authority,
		"valid_from":     date(occurred),
		"valid_until":    date(ends.AddDate(0, 0, -1)),
	}
}

func customsRatingData(r region, code, level string, since time.Time) map[string]any {
	return map[string]any{
		"level":         map[string]string{"高级认证企业": "advanced_certified", "一般信用企业": "general", "失信企业": "dishonest"}[level],
		"level_name":    level,
		"customs_code":  code,
		"customs":       r.customsOffice(),
		"recognized_on": date(since),
	}
}

// --- tax, social insurance, trade, utilities ---------------------------------------------------

// growth returns yearly factors for the periods, the last one 1: revenue and headcount of
// earlier years relative to now.
func growth(rng *rand.Rand, n int, lo, hi float64) []float64 {
	f := make([]float64, n)
	x := 1.0
	for i := n - 1; i >= 0; i-- {
		f[i] = x
		x /= 1 + lo + rng.Float64()*(hi-lo)
	}
	return f
}

func (g *generator) tax(rng *rand.Rand, em *emitter, pr *profile) {
	e, r := em.e, pr.region
	base := weighted(rng, []string{"A", "B", "M", "C", "D"}, either(pr.troubled, []int{2, 28, 10, 40, 20}, []int{22, 58, 12, 6, 2}))
	for y := g.asOf.Year() - 5; y < g.asOf.Year(); y++ {
		published := time.Date(y+1, 4, 20, 0, 0, 0, 0, time.UTC)
		if published.After(g.asOf) || y < e.EstablishedOn.Year() || published.Before(g.retentionStart("tax.credit_rating")) {
			continue
		}
		level := base
		switch {
		case y == e.EstablishedOn.Year():
			level = "M" // new taxpayers are rated M
		case chance(rng, 0.25):
			level = weighted(rng, []string{"A", "B", "C"}, []int{25, 65, 10})
		}
		em.add("tax.credit_rating", published, time.Time{}, taxRatingData(r, y, level, rng.IntN(10)))
	}

	years := g.annualPeriods(e.EstablishedOn, false)
	factors := growth(rng, len(years), -0.08, 0.2)
	for i, p := range years {
		amount := int64(float64(pr.revenue) * factors[i] * float64(p.Months) / 12)
		em.add("tax.revenue", p.End, time.Time{}, map[string]any{"year": p.Year, "amount": amount, "basis": "增值税发票开具金额"})
	}

	n := map[string]int{SubjectEnterprise: 3 + rng.IntN(6), SubjectIndividual: 1 + rng.IntN(3), SubjectCooperative: 2 + rng.IntN(3)}[e.SubjectType]
	for range n {
		issued := g.eventDate(rng, "tax.invoice_detail", "", e.EstablishedOn, 0.9)
		j := rng.IntN(len(g.enterprises))
		if j == em.index {
			j = (j + 1) % len(g.enterprises)
		}
		other := &g.enterprises[j]
		seller, buyer := e, other
		if chance(rng, 0.4) {
			seller, buyer = other, e
		}
		goods := pick(rng, industryByCode(seller.IndustryCode, seller.SubjectType).Goods)
		cents := int64(float64(pr.revenue) * (0.001 + rng.Float64()*0.02) * 100)
		em.add("tax.invoice_detail", issued, time.Time{}, invoiceData(seller, buyer, goods, issued, cents, rng.Int64N(1e16)))
	}
}

func taxRatingData(r region, year int, level string, jitter int) map[string]any {
	d := map[string]any{"year": year, "level": level, "evaluated_by": "国家税务总局" + r.local() + "税务局"}
	if score, ok := map[string]int{"A": 90, "B": 75, "C": 50, "D": 20}[level]; ok {
		d["score"] = score + jitter
	}
	return d
}

// industryByCode finds the industry table entry of an enterprise.
func industryByCode(code, subject string) *industry {
	table := enterpriseIndustries
	switch subject {
	case SubjectIndividual:
		table = individualIndustries
	case SubjectCooperative:
		table = cooperativeIndustries
	}
	for i := range table {
		if table[i].Code == code {
			return &table[i]
		}
	}
	for _, t := range [][]industry{enterpriseIndustries, individualIndustries, cooperativeIndustries} {
		for i := range t {
			if t[i].Code == code {
				return &t[i]
			}
		}
	}
	return &enterpriseIndustries[0]
}

// vatRate is the rate the seller invoices at: 1% for small-scale taxpayers (micro entities),
// none on farmers' own produce, otherwise by sector.
func vatRate(seller *Enterprise) float64 {
	switch {
	case seller.SubjectType == SubjectCooperative:
		return 0
	case seller.Size == "micro":
		return 0.01
	}
	switch seller.IndustryCode[0] {
	case 'C', 'D', 'F':
		return 0.13
	case 'E', 'G', 'K':
		return 0.09
	}
	return 0.06
}

func invoiceData(seller, buyer *Enterprise, goods string, issued time.Time, cents, serial int64) map[string]any {
	cents = max(cents, 10_000)
	rate := vatRate(seller)
	return map[string]any{
		"invoice_no":   fmt.Sprintf("%02d21%016d", issued.Year()%100, serial),
		"issued_on":    date(issued),
		"seller_name":  seller.Name,
		"seller_uscc":  string(seller.USCC),
		"buyer_name":   buyer.Name,
		"buyer_uscc":   string(buyer.USCC),
		"goods":        goods,
		"amount":       yuan(cents),
		"tax_rate":     rate,
		"tax_amount":   yuan(int64(math.Round(float64(cents) * rate))),
		"invoice_type": "数电发票（增值税专用发票）",
	}
}

func (g *generator) socialInsurance(rng *rand.Rand, em *emitter, pr *profile) {
	e := em.e
	if e.SubjectType != SubjectEnterprise && !chance(rng, 0.5) {
		return
	}
	periods := g.annualPeriods(e.EstablishedOn, true)
	factors := growth(rng, len(periods), -0.1, 0.15)
	for i, p := range periods {
		insured := max(1, int(math.Round(float64(pr.headcount)*factors[i])))
		paid := p.Months
		if (pr.troubled && chance(rng, 0.5)) || chance(rng, 0.04) {
			paid = max(0, p.Months-1-rng.IntN(min(6, p.Months)))
		}
		arrears := int64(p.Months-paid) * int64(insured) * 1150
		em.add("social_insurance.payment", p.End, time.Time{}, socialInsuranceData(pr.region, p, paid, insured, arrears))
		em.add("social_insurance.headcount", p.End, time.Time{}, map[string]any{"as_of": date(p.End), "headcount": insured})
	}
}

func socialInsuranceData(r region, p period, paid, insured int, arrears int64) map[string]any {
	return map[string]any{
		"year":             p.Year,
		"period":           p.Label,
		"months_in_period": p.Months,
		"months_paid":      paid,
		"insured":          insured,
		"arrears_amount":   arrears,
		"agency":           r.City + "社会保险事业服务中心",
	}
}

func (g *generator) customsTrade(rng *rand.Rand, em *emitter, pr *profile) {
	if !pr.trader {
		return
	}
	years := g.annualPeriods(em.e.EstablishedOn, false)
	factors := growth(rng, len(years), -0.15, 0.25)
	share := 0.1 + rng.Float64()*0.5
	first := rng.IntN(len(markets))
	partners := []string{markets[first], markets[(first+1+rng.IntN(len(markets)-1))%len(markets)]}
	for i, p := range years {
		exports := int64(float64(pr.revenue) * share * factors[i] * float64(p.Months) / 12)
		imports := int64(float64(exports) * (0.05 + rng.Float64()*0.6))
		em.add("customs.trade", p.End, time.Time{}, tradeData(pr.region, p.Year, exports, imports, partners))
	}
}

func tradeData(r region, year int, exports, imports int64, partners []string) map[string]any {
	return map[string]any{
		"year":          year,
		"export_amount": exports,
		"import_amount": imports,
		"currency":      "CNY",
		"main_markets":  partners,
		"customs":       r.customsOffice(),
	}
}

func (g *generator) utilities(rng *rand.Rand, em *emitter, pr *profile) {
	e := em.e
	scaleOf := map[string]float64{"micro": 60, "small": 600, "medium": 6000, "large": 40000}[e.Size]
	section := e.IndustryCode[0]
	if chance(rng, map[string]float64{SubjectEnterprise: 0.55, SubjectIndividual: 0.3, SubjectCooperative: 0.5}[e.SubjectType]) {
		price := 3.9 + float64(rng.IntN(22))/10
		base := scaleOf * (1 + rng.Float64()*4)
		for _, q := range g.quarters(e.EstablishedOn, 10) {
			volume := math.Round(base * (0.8 + rng.Float64()*0.4))
			overdue := 0
			if pr.troubled && chance(rng, 0.3) {
				overdue = 15 + rng.IntN(100)
			}
			em.add("utility.water", q.End, time.Time{}, utilityData(q, volume, price, overdue))
		}
	}
	if chance(rng, either(section == 'C' || section == 'H', 0.6, 0.1)) {
		price := 3.2 + float64(rng.IntN(11))/10
		base := scaleOf * 0.5 * (1 + rng.Float64()*4)
		for _, q := range g.quarters(e.EstablishedOn, 10) {
			season := either(strings.HasSuffix(q.Label, "Q1") || strings.HasSuffix(q.Label, "Q4"), 1.5, 0.8)
			volume := math.Round(base * season * (0.85 + rng.Float64()*0.3))
			overdue := 0
			if pr.troubled && chance(rng, 0.3) {
				overdue = 15 + rng.IntN(100)
			}
			em.add("utility.gas", q.End, time.Time{}, utilityData(q, volume, price, overdue))
		}
	}
}

func utilityData(q period, volume, price float64, overdueDays int) map[string]any {
	return map[string]any{
		"period":       q.Label,
		"volume_m3":    volume,
		"unit_price":   price,
		"amount":       yuan(int64(math.Round(volume * price * 100))),
		"overdue_days": overdueDays,
	}
}

// otherItems gives generic records to collected items the generator has no vocabulary for
// (items a province added to its catalog), so that every collected item has data.
func (g *generator) otherItems(rng *rand.Rand, em *emitter) {
	for _, it := range g.cat.Items() {
		if knownItem(it.Code) {
			continue
		}
		if _, ok := g.collected(it.Code); !ok || !chance(rng, 0.3) {
			continue
		}
		data := map[string]any{"summary": it.Name + "（演示数据）"}
		var occurred, ends time.Time
		switch it.Disclosure.Kind {
		case catalog.DiscloseWhileListed:
			var ok bool
			if occurred, ends, ok = g.endedListing(rng, it.Code, em.e.EstablishedOn, 30, 700); !ok || chance(rng, 0.5) {
				occurred, ends = g.listedSince(rng, em.e.EstablishedOn, 3), time.Time{}
			}
		case catalog.DiscloseBySeverity:
			severity := pick(rng, catalog.Severities)
			data["severity"] = severity
			occurred = g.eventDate(rng, it.Code, severity, em.e.EstablishedOn, 0.6)
		default:
			occurred = g.eventDate(rng, it.Code, "", em.e.EstablishedOn, 0.7)
		}
		em.add(it.Code, occurred, ends, data)
	}
}

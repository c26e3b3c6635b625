package seed

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"creditd/internal/catalog"
	"creditd/internal/uscc"
)

// DefaultEnterprises is the number of enterprises of the demo data set, fixtures included.
const DefaultEnterprises = 1200

// RegistrationItem is the item every enterprise needs before any other record.
const RegistrationItem = "registration.basic"

// Subject types of registration.basic.
const (
	SubjectEnterprise  = "enterprise"
	SubjectIndividual  = "individual_business"
	SubjectCooperative = "cooperative"
)

// identityAnchor is the latest establishment date of random enterprises (see newEnterprise).
var identityAnchor = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// minAsOf is the earliest supported AsOf: before it, fixture records would fall before the
// fixtures' fixed establishment dates.
var minAsOf = time.Date(2022, 1, 1, 0, 0, 0, 0, time.UTC)

// Params chooses what Generate produces.
type Params struct {
	// Seed selects the random enterprises; the same Seed and AsOf give the same data. For
	// as-of dates from April 2026 on, the enterprises themselves depend on Seed alone.
	Seed int64
	// Enterprises is the total number of enterprises, fixtures included
	// (DefaultEnterprises when zero).
	Enterprises int
	// AsOf is the day the data describes: no record occurs after it, and disclosure windows are
	// placed relative to it. Today in Asia/Shanghai when zero.
	AsOf time.Time
}

// Enterprise is a generated market entity (市场主体), as registered in registration.basic.
type Enterprise struct {
	USCC                uscc.Code
	Name                string
	SubjectType         string // enterprise | individual_business | cooperative
	RegionCode          string // GB/T 2260
	IndustryCode        string // GB/T 4754-2017, section letter + class
	Size                string // micro | small | medium | large
	LegalRepresentative string
	RegisteredCapital   int64     // yuan
	EstablishedOn       time.Time // a calendar date (midnight UTC)
	Address             string
}

// Record is one generated credit record, ready to be submitted by its provider.
type Record struct {
	Provider   string
	Item       string
	SourceID   string
	USCC       uscc.Code
	OccurredOn time.Time // a calendar date (midnight UTC)
	EndsOn     time.Time // zero when the record has no end
	Data       json.RawMessage
}

// ItemRecords are the records of one catalog item.
type ItemRecords struct {
	Item     string
	Provider string
	Records  []Record
}

// Dataset is a complete demo data set.
type Dataset struct {
	AsOf        time.Time
	Enterprises []Enterprise // fixtures first, then the random enterprises
	// Items holds the records of every collected item, registration.basic first, then in
	// catalog order; items without records are left out.
	Items []ItemRecords
}

// Records returns the records of item (nil when it has none).
func (d *Dataset) Records(item string) []Record {
	for _, it := range d.Items {
		if it.Item == item {
			return it.Records
		}
	}
	return nil
}

// RecordCount is the number of records in the data set.
func (d *Dataset) RecordCount() int {
	n := 0
	for _, it := range d.Items {
		n += len(it.Records)
	}
	return n
}

// Day returns the calendar date of t in Asia/Shanghai, as midnight UTC.
func Day(t time.Time) time.Time {
	y, m, d := t.In(shanghai()).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// shanghai is Asia/Shanghai, which has kept UTC+8 without daylight saving since 1991; a fixed
// zone needs no time zone database.
func shanghai() *time.Location { return time.FixedZone("CST", 8*3600) }

// Generate builds the demo data set: the fixtures, then random enterprises up to
// p.Enterprises, and records for every collected item of cat except self-reported ones.
// Items the generator has no vocabulary for get generic records.
func Generate(cat *catalog.Catalog, p Params) (*Dataset, error) {
	if cat == nil {
		return nil, errors.New("seed: no catalog")
	}
	if _, ok := cat.Item(RegistrationItem); !ok {
		return nil, fmt.Errorf("seed: catalog has no %s item", RegistrationItem)
	}
	asOf := Day(p.AsOf)
	if p.AsOf.IsZero() {
		asOf = Day(time.Now())
	}
	if asOf.Before(minAsOf) {
		return nil, fmt.Errorf("seed: as-of date %s is before %s", asOf.Format(time.DateOnly), minAsOf.Format(time.DateOnly))
	}
	fixtures := fixtureSet(asOf)
	n := p.Enterprises
	if n == 0 {
		n = DefaultEnterprises
	}
	if n < len(fixtures) {
		return nil, fmt.Errorf("seed: %d enterprises requested, the fixtures alone are %d", n, len(fixtures))
	}

	g := newGenerator(cat, asOf)
	for _, f := range fixtures {
		g.register(f.Enterprise)
	}
	rng := rand.New(rand.NewPCG(uint64(p.Seed), 0x9e3779b97f4a7c15))
	profiles := make([]profile, 0, n-len(fixtures))
	for len(g.enterprises) < n {
		e, pr := g.newEnterprise(rng)
		g.register(e)
		profiles = append(profiles, pr)
	}

	for i, f := range fixtures {
		em := g.emitter(i)
		g.registration(em, f.personnel)
		f.records(&fixtureContext{emitter: em, r: g.regions.byCode[f.RegionCode], asOf: asOf})
	}
	for k := range profiles {
		i := len(fixtures) + k
		// Each enterprise has its own stream, so its records do not depend on how many
		// records the enterprises before it drew.
		r := rand.New(rand.NewPCG(uint64(p.Seed), uint64(i)+1))
		g.randomRecords(r, g.emitter(i), &profiles[k])
	}
	if g.err != nil {
		return nil, g.err
	}
	return g.dataset(), nil
}

// generator holds the state of one Generate call.
type generator struct {
	cat         *catalog.Catalog
	asOf        time.Time
	regions     regionTable
	enterprises []Enterprise
	usccs       map[uscc.Code]bool
	names       map[string]bool
	records     map[string][]Record // by item; read back in catalog order only
	err         error
}

func newGenerator(cat *catalog.Catalog, asOf time.Time) *generator {
	return &generator{
		cat: cat, asOf: asOf, regions: newRegionTable(),
		usccs: map[uscc.Code]bool{}, names: map[string]bool{}, records: map[string][]Record{},
	}
}

func (g *generator) register(e Enterprise) {
	g.enterprises = append(g.enterprises, e)
	g.usccs[e.USCC] = true
	g.names[e.Name] = true
}

// collected reports whether the catalog stores records of item that providers push
// (collected, and not self-reported).
func (g *generator) collected(item string) (*catalog.Item, bool) {
	it, ok := g.cat.Item(item)
	if !ok || it.Mode != catalog.Collected || it.Provider == catalog.SelfProvider {
		return nil, false
	}
	return it, true
}

func (g *generator) dataset() *Dataset {
	d := &Dataset{AsOf: g.asOf, Enterprises: g.enterprises}
	add := func(it *catalog.Item) {
		if recs := g.records[it.Code]; len(recs) > 0 {
			d.Items = append(d.Items, ItemRecords{Item: it.Code, Provider: it.Provider, Records: recs})
		}
	}
	reg, _ := g.cat.Item(RegistrationItem)
	add(reg)
	for _, it := range g.cat.Items() {
		if it.Code != RegistrationItem {
			add(it)
		}
	}
	return d
}

// emitter adds the records of one enterprise.
type emitter struct {
	g     *generator
	index int // of the enterprise in g.enterprises
	e     *Enterprise
	seq   map[string]int
}

func (g *generator) emitter(i int) *emitter {
	return &emitter{g: g, index: i, e: &g.enterprises[i], seq: map[string]int{}}
}

// add appends a record of item unless the catalog does not collect it. Source ids are
// DEMO-<uscc>-<item>-<n>, numbered per enterprise and item in the order of generation.
func (em *emitter) add(item string, occurred, ends time.Time, data map[string]any) {
	it, ok := em.g.collected(item)
	if !ok {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		if em.g.err == nil {
			em.g.err = fmt.Errorf("seed: encode %s record: %w", item, err)
		}
		return
	}
	em.seq[item]++
	em.g.records[item] = append(em.g.records[item], Record{
		Provider:   it.Provider,
		Item:       item,
		SourceID:   fmt.Sprintf("DEMO-%s-%s-%d", em.e.USCC, item, em.seq[item]),
		USCC:       em.e.USCC,
		OccurredOn: occurred,
		EndsOn:     ends,
		Data:       raw,
	})
}

// --- enterprises -----------------------------------------------------------------------------

// profile is what the record generators know about a random enterprise beyond its
// registration.
type profile struct {
	region    region
	industry  *industry
	trade     string // 字号
	headcount int    // employees now
	revenue   int64  // yearly revenue, yuan
	trader    bool   // imports and exports
	tech      bool   // candidate for science and technology certifications
	troubled  bool   // more likely to have negative records
}

func (g *generator) pickRegion(rng *rand.Rand) region {
	total := 0
	for _, c := range liaoning {
		total += weightOf(c.short)
	}
	x := rng.IntN(total)
	for _, c := range liaoning {
		if x -= weightOf(c.short); x < 0 {
			a := c.areas[rng.IntN(len(c.areas))]
			return g.regions.byCode[a[0]]
		}
	}
	return g.regions.all[0]
}

// weightOf skews enterprises towards the two large cities.
func weightOf(short string) int {
	switch short {
	case "沈阳":
		return 28
	case "大连":
		return 24
	case "鞍山":
		return 8
	}
	return 4
}

func (g *generator) newEnterprise(rng *rand.Rand) (Enterprise, profile) {
	var e Enterprise
	var pr profile
	switch x := rng.Float64(); {
	case x < 0.75:
		e.SubjectType = SubjectEnterprise
		pr.industry = &enterpriseIndustries[rng.IntN(len(enterpriseIndustries))]
		e.Size = weighted(rng, []string{"micro", "small", "medium", "large"}, []int{55, 30, 12, 3})
		pr.region = g.pickRegion(rng)
	case x < 0.92:
		e.SubjectType = SubjectIndividual
		pr.industry = &individualIndustries[rng.IntN(len(individualIndustries))]
		e.Size = "micro"
		pr.region = g.pickRegion(rng)
	default:
		e.SubjectType = SubjectCooperative
		pr.industry = &cooperativeIndustries[rng.IntN(len(cooperativeIndustries))]
		e.Size = weighted(rng, []string{"micro", "small"}, []int{80, 20})
		pr.region = g.regions.counties[rng.IntN(len(g.regions.counties))]
	}
	e.RegionCode = pr.region.Code
	e.IndustryCode = pr.industry.Code

	earliest := time.Date(1998, 1, 1, 0, 0, 0, 0, time.UTC)
	switch e.SubjectType {
	case SubjectIndividual:
		earliest = time.Date(2006, 1, 1, 0, 0, 0, 0, time.UTC)
	case SubjectCooperative:
		earliest = time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC) // the cooperatives law took effect mid-2007
	}
	// The later of two draws: young entities are more common than old ones. Establishment
	// dates stop at a fixed day, so that an enterprise's identity depends on the seed alone
	// and seeding again on a later day corrects records instead of adding enterprises.
	latest := earlier(g.asOf.AddDate(0, -3, 0), identityAnchor)
	a, b := between(rng, earliest, latest), between(rng, earliest, latest)
	if b.After(a) {
		a = b
	}
	e.EstablishedOn = a

	for {
		c := g.newUSCC(rng, e.SubjectType, e.RegionCode, e.EstablishedOn)
		if !g.usccs[c] {
			e.USCC = c
			break
		}
	}
	e.LegalRepresentative = personName(rng)
	for {
		name, trade := g.newName(rng, &e, &pr)
		if !g.names[name] {
			e.Name, pr.trade = name, trade
			break
		}
	}
	e.RegisteredCapital = capital(rng, e.SubjectType, e.Size)
	e.Address = address(rng, pr.region, e.SubjectType == SubjectCooperative)

	pr.headcount, pr.revenue = scale(rng, e.SubjectType, e.Size)
	section := pr.industry.Code[0]
	pr.trader = e.SubjectType == SubjectEnterprise && chance(rng, either(section == 'C' || section == 'F', 0.25, 0.03))
	pr.tech = e.SubjectType == SubjectEnterprise && chance(rng, either(section == 'C' || section == 'I' || section == 'M', 0.35, 0.03))
	pr.troubled = chance(rng, 0.08)
	return e, pr
}

// newUSCC draws a code: 9 (registered with market regulation) + category (1 enterprise,
// 2 individual business, 3 farmer cooperative) + region code + organization code (GB 11714,
// with its check character) + the GB 32100 check character. Entities registered after the
// reform of October 2015 have codes of the MA series; older ones kept their numeric
// organization codes.
func (g *generator) newUSCC(rng *rand.Rand, subject, regionCode string, established time.Time) uscc.Code {
	category := map[string]string{SubjectEnterprise: "1", SubjectIndividual: "2", SubjectCooperative: "3"}[subject]
	var body strings.Builder
	if established.After(time.Date(2015, 10, 1, 0, 0, 0, 0, time.UTC)) {
		body.WriteString("MA")
		for range 6 {
			body.WriteByte(codeAlphabet[rng.IntN(len(codeAlphabet))])
		}
	} else {
		body.WriteByte(byte('1' + rng.IntN(9)))
		for range 7 {
			body.WriteByte(byte('0' + rng.IntN(10)))
		}
	}
	org := body.String()
	c, err := uscc.Complete("9" + category + regionCode + org + string(OrgCodeCheck(org)))
	if err != nil {
		// Every character comes from the code alphabet and the lengths are fixed.
		panic(fmt.Sprintf("seed: built an impossible code body: %v", err))
	}
	return c
}

// codeAlphabet is the GB 32100 alphabet (no I, O, S, V, Z).
const codeAlphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// OrgCodeCheck returns the GB 11714 check character of an 8-character organization code body
// (digits and capital letters, A = 10 … Z = 35).
func OrgCodeCheck(body string) byte {
	weights := [8]int{3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 8 && i < len(body); i++ {
		c := body[i]
		v := int(c - '0')
		if c >= 'A' {
			v = int(c-'A') + 10
		}
		sum += v * weights[i]
	}
	switch r := 11 - sum%11; r {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + r)
	}
}

// newName makes a name in the style of the subject type and returns it with its trade name:
// 沈阳鑫盛轴承有限公司, 和平区张记餐馆, 新民市富民蔬菜种植专业合作社.
func (g *generator) newName(rng *rand.Rand, e *Enterprise, pr *profile) (name, trade string) {
	trade = tradeName(rng)
	word := pr.industry.Words[rng.IntN(len(pr.industry.Words))]
	r := pr.region
	switch e.SubjectType {
	case SubjectIndividual:
		if chance(rng, 0.4) {
			trade = surnames[rng.IntN(len(surnames))] + "记"
		}
		return r.Name + trade + word, trade
	case SubjectCooperative:
		return r.Name + trade + word + "专业合作社", trade
	}
	prefix := r.Short
	if (e.Size == "medium" || e.Size == "large") && chance(rng, 0.3) {
		prefix = "辽宁"
	}
	suffix := "有限公司"
	switch {
	case (e.Size == "medium" || e.Size == "large") && chance(rng, 0.4):
		suffix = "股份有限公司"
	case chance(rng, 0.1):
		suffix = "有限责任公司"
	}
	return prefix + trade + word + suffix, trade
}

func tradeName(rng *rand.Rand) string {
	for {
		a, b := tradeFirst[rng.IntN(len(tradeFirst))], tradeSecond[rng.IntN(len(tradeSecond))]
		if a != b {
			return a + b
		}
	}
}

func personName(rng *rand.Rand) string {
	return surnames[rng.IntN(len(surnames))] + givenNames[rng.IntN(len(givenNames))]
}

// capital is the registered capital in yuan, rounded to ten thousand.
func capital(rng *rand.Rand, subject, size string) int64 {
	lo, hi := int64(10), int64(100) // 万元
	switch {
	case subject == SubjectIndividual:
		lo, hi = 1, 50
	case subject == SubjectCooperative:
		lo, hi = 10, 500
	case size == "small":
		lo, hi = 100, 1000
	case size == "medium":
		lo, hi = 1000, 5000
	case size == "large":
		lo, hi = 5000, 50000
	}
	return (lo + rng.Int64N(hi-lo+1)) * 10000
}

// scale draws an entity's employees and yearly revenue (yuan).
func scale(rng *rand.Rand, subject, size string) (int, int64) {
	switch {
	case subject == SubjectIndividual:
		return 1 + rng.IntN(5), 100_000 + rng.Int64N(1_900_000)
	case subject == SubjectCooperative:
		return 2 + rng.IntN(12), 200_000 + rng.Int64N(4_800_000)
	case size == "small":
		return 10 + rng.IntN(90), 5_000_000 + rng.Int64N(45_000_000)
	case size == "medium":
		return 100 + rng.IntN(200), 50_000_000 + rng.Int64N(350_000_000)
	case size == "large":
		return 300 + rng.IntN(1700), 400_000_000 + rng.Int64N(2_600_000_000)
	}
	return 1 + rng.IntN(9), 500_000 + rng.Int64N(4_500_000)
}

func address(rng *rand.Rand, r region, rural bool) string {
	if rural || (r.county() && chance(rng, 0.5)) {
		return fmt.Sprintf("%s%s镇%s村", r.local(), towns[rng.IntN(len(towns))], villages[rng.IntN(len(villages))])
	}
	return fmt.Sprintf("%s%s%d号", r.local(), streets[rng.IntN(len(streets))], 1+rng.IntN(300))
}

// --- random helpers ----------------------------------------------------------------------------

func chance(rng *rand.Rand, p float64) bool { return rng.Float64() < p }

func either[T any](cond bool, a, b T) T {
	if cond {
		return a
	}
	return b
}

func weighted(rng *rand.Rand, values []string, weights []int) string {
	total := 0
	for _, w := range weights {
		total += w
	}
	x := rng.IntN(total)
	for i, w := range weights {
		if x -= w; x < 0 {
			return values[i]
		}
	}
	return values[len(values)-1]
}

func pick(rng *rand.Rand, values []string) string { return values[rng.IntN(len(values))] }

// between returns a date uniformly in [a, b]; a when b is before a.
func between(rng *rand.Rand, a, b time.Time) time.Time {
	days := int(b.Sub(a).Hours() / 24)
	if days <= 0 {
		return a
	}
	return a.AddDate(0, 0, rng.IntN(days+1))
}

// intIn returns an integer uniformly in [lo, hi].
func intIn(rng *rand.Rand, lo, hi int64) int64 {
	if hi <= lo {
		return lo
	}
	return lo + rng.Int64N(hi-lo+1)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func date(t time.Time) string { return t.Format(time.DateOnly) }

// docNo formats an official document number, e.g. 沈环罚〔2024〕37号.
func docNo(prefix string, year int, n int64) string {
	return fmt.Sprintf("%s〔%d〕%d号", prefix, year, n)
}

// caseNo formats a court case number, e.g. (2024)辽0102民初1234号.
func caseNo(year int, court, kind string, n int64) string {
	return fmt.Sprintf("(%d)%s%s%d号", year, court, kind, n)
}

// yuan rounds an amount to cents.
func yuan(cents int64) float64 { return float64(cents) / 100 }

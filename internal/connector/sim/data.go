package sim

import (
	"crypto/sha256"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strings"
	"time"
)

// Record is one record in the wire format of the provider protocol.
type Record struct {
	SourceID   string         `json:"sourceId"`
	OccurredOn string         `json:"occurredOn"`
	EndsOn     *string        `json:"endsOn"`
	Data       map[string]any `json:"data"`
}

// Mode is how the platform reaches an item's data.
type Mode string

const (
	// ProviderAPI items are fetched record by record (GET …/records).
	ProviderAPI Mode = "provider_api"
	// ProviderVerify items only answer claims (POST …/verify); their records are never sent.
	ProviderVerify Mode = "provider_verify"
)

// Item is a catalog item the simulator serves.
type Item struct {
	Code     string
	Provider string
	Mode     Mode
	Fields   []string // the payload fields of its records
	generate func(code string, asOf time.Time) []Record
}

// Items returns the served items, in a fixed order.
func Items() []Item {
	return []Item{
		{Code: "tax.payment", Provider: "TAX", Mode: ProviderAPI, Fields: []string{"period", "tax_type", "tax_name", "amount"}, generate: taxPayments},
		{Code: "housing_fund.payment", Provider: "HF", Mode: ProviderAPI, Fields: []string{"month", "employees", "amount", "months_paid"}, generate: housingFund},
		{Code: "utility.electricity", Provider: "GRID", Mode: ProviderAPI, Fields: []string{"month", "kwh", "amount"}, generate: electricity},
		{Code: "real_estate.ownership", Provider: "NRA", Mode: ProviderVerify, Fields: []string{"certificate_no", "area_m2", "usage", "city"}, generate: realEstate},
	}
}

func findItem(provider, code string) (Item, bool) {
	for _, it := range Items() {
		if it.Code == code && (provider == "" || it.Provider == provider) {
			return it, true
		}
	}
	return Item{}, false
}

// Records returns the simulated records of item for the enterprise code (a valid, normalized
// USCC) as of the calendar date asOf, sorted by occurredOn then sourceId. They are a pure
// function of (item, code, asOf): a record, once dated on or before asOf, keeps its content
// whatever later asOf is asked. ok is false for an item the simulator does not serve.
func Records(item, code string, asOf time.Time) (recs []Record, ok bool) {
	it, ok := findItem("", item)
	if !ok {
		return nil, false
	}
	recs = it.generate(code, dateOf(asOf))
	sort.Slice(recs, func(i, j int) bool {
		if recs[i].OccurredOn != recs[j].OccurredOn {
			return recs[i].OccurredOn < recs[j].OccurredOn
		}
		return recs[i].SourceID < recs[j].SourceID
	})
	if recs == nil {
		recs = []Record{}
	}
	return recs, true
}

// Latest returns the record with the latest occurredOn (the greatest sourceId among ties).
func Latest(recs []Record) (Record, bool) {
	if len(recs) == 0 {
		return Record{}, false
	}
	best := recs[0]
	for _, r := range recs[1:] {
		if r.OccurredOn > best.OccurredOn || r.OccurredOn == best.OccurredOn && r.SourceID > best.SourceID {
			best = r
		}
	}
	return best, true
}

// --- randomness -----------------------------------------------------------------------------

// rng returns a generator seeded by the SHA-256 of its labels: the same labels always give the
// same sequence.
func rng(labels ...string) *rand.Rand {
	h := sha256.New()
	h.Write([]byte("creditd provider-sim v1"))
	for _, l := range labels {
		h.Write([]byte{0})
		h.Write([]byte(l))
	}
	var seed [32]byte
	copy(seed[:], h.Sum(nil))
	return rand.New(rand.NewChaCha8(seed))
}

func between(r *rand.Rand, lo, hi float64) float64 { return lo + (hi-lo)*r.Float64() }

// logBetween draws from lo..hi with a log-uniform distribution (many small, few large).
func logBetween(r *rand.Rand, lo, hi float64) float64 { return lo * math.Pow(hi/lo, r.Float64()) }

func round2(x float64) float64 { return math.Round(x*100) / 100 }

func digits(r *rand.Rand, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.IntN(10))
	}
	return string(b)
}

// --- calendar -------------------------------------------------------------------------------

var shanghai = time.FixedZone("Asia/Shanghai", 8*3600)

// Today returns the current calendar date in Asia/Shanghai, as midnight UTC.
func Today(now time.Time) time.Time { return dateOf(now.In(shanghai)) }

// dateOf keeps the calendar date of t (in t's location), as midnight UTC.
func dateOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

func day(t time.Time) string { return t.Format(time.DateOnly) }

// month is a calendar month, counted from year 0.
type month int

func monthOf(t time.Time) month { return month(t.Year()*12 + int(t.Month()) - 1) }

func (m month) year() int              { return int(m) / 12 }
func (m month) mon() time.Month        { return time.Month(int(m)%12 + 1) }
func (m month) String() string         { return fmt.Sprintf("%04d-%02d", m.year(), int(m.mon())) }
func (m month) compact() string        { return fmt.Sprintf("%04d%02d", m.year(), int(m.mon())) }
func (m month) date(d int) time.Time   { return time.Date(m.year(), m.mon(), d, 0, 0, 0, 0, time.UTC) }
func (m month) quarterEnd() bool       { return m.mon()%3 == 0 }
func monthsBetween(from, to month) int { return int(to - from) }
func (m month) add(n int) month        { return m + month(n) }
func (m month) rngFor(labels ...string) *rand.Rand {
	return rng(append(labels, m.String())...)
}

// --- the enterprise behind a code -----------------------------------------------------------

// profile is what every provider's data about one enterprise agree on.
type profile struct {
	employees  int
	revenue    float64 // monthly, yuan
	industrial bool
}

func profileOf(code string) profile {
	r := rng("profile", code)
	emp := int(logBetween(r, 3, 400))
	return profile{
		employees:  emp,
		revenue:    float64(emp) * between(r, 15_000, 60_000),
		industrial: r.Float64() < 0.4,
	}
}

// region is where the enterprise is registered, read from its code (characters 3–8 are the
// registering authority's GB/T 2260 region).
type region struct {
	abbr string // the province's one-character abbreviation, e.g. 辽
	city string // the prefecture-level city, e.g. 沈阳市; "" when unknown
}

var liaoningCities = map[string]string{
	"01": "沈阳市", "02": "大连市", "03": "鞍山市", "04": "抚顺市", "05": "本溪市", "06": "丹东市", "07": "锦州市",
	"08": "营口市", "09": "阜新市", "10": "辽阳市", "11": "盘锦市", "12": "铁岭市", "13": "朝阳市", "14": "葫芦岛市",
}

var provinceAbbr = map[string]string{
	"11": "京", "12": "津", "13": "冀", "14": "晋", "15": "蒙", "21": "辽", "22": "吉", "23": "黑", "31": "沪",
	"32": "苏", "33": "浙", "34": "皖", "35": "闽", "36": "赣", "37": "鲁", "41": "豫", "42": "鄂", "43": "湘",
	"44": "粤", "45": "桂", "46": "琼", "50": "渝", "51": "川", "52": "黔", "53": "云", "54": "藏", "61": "陕",
	"62": "甘", "63": "青", "64": "宁", "65": "新",
}

func regionOf(code string) region {
	if len(code) < 8 {
		return region{abbr: "辽", city: "沈阳市"}
	}
	prov, city := code[2:4], code[4:6]
	if prov == "21" {
		if name, ok := liaoningCities[city]; ok {
			return region{abbr: "辽", city: name}
		}
		return region{abbr: "辽", city: "沈阳市"}
	}
	if abbr, ok := provinceAbbr[prov]; ok {
		return region{abbr: abbr}
	}
	return region{abbr: "辽", city: "沈阳市"}
}

// --- generators -----------------------------------------------------------------------------

// recentMonths calls f for months going back from asOf's month until f has produced records
// for n months (at most n+3 months are looked at, so that a month not yet due does not
// lengthen the window indefinitely).
func recentMonths(asOf time.Time, n int, f func(m month) []Record) []Record {
	var out []Record
	got := 0
	for m, i := monthOf(asOf), 0; got < n && i < n+3; m, i = m.add(-1), i+1 {
		recs := f(m)
		if len(recs) > 0 {
			got++
			out = append(out, recs...)
		}
	}
	return out
}

var taxNames = map[string]string{
	"vat":                        "增值税",
	"individual_income_withheld": "个人所得税(代扣代缴)",
	"corporate_income":           "企业所得税",
}

// taxPayments: for each tax period (a month), VAT and withheld individual income tax, and
// corporate income tax for the quarter's last month, paid together between the 10th and 15th of
// the following month; the last 12 periods paid on or before asOf.
func taxPayments(code string, asOf time.Time) []Record {
	p := profileOf(code)
	base := rng("tax.payment", code)
	vatBurden := between(base, 0.01, 0.05)
	margin := between(base, 0.02, 0.12)
	perHead := between(base, 40, 260)
	return recentMonths(asOf, 12, func(period month) []Record {
		r := period.rngFor("tax.payment", code)
		paid := period.add(1).date(10 + r.IntN(6))
		if paid.After(asOf) {
			return nil
		}
		season := between(r, 0.75, 1.25)
		amounts := []struct {
			kind   string
			amount float64
		}{
			{"vat", p.revenue * season * vatBurden},
			{"individual_income_withheld", float64(p.employees) * perHead * between(r, 0.9, 1.1)},
		}
		if period.quarterEnd() {
			// small low-profit enterprises pay an effective 5% on a quarter's profit
			amounts = append(amounts, struct {
				kind   string
				amount float64
			}{"corporate_income", 3 * p.revenue * margin * 0.05 * between(r, 0.8, 1.2)})
		}
		out := make([]Record, 0, len(amounts))
		for _, a := range amounts {
			out = append(out, Record{
				SourceID:   "3" + digits(r, 19), // electronic tax payment voucher number
				OccurredOn: day(paid),
				Data: map[string]any{
					"period":   period.String(),
					"tax_type": a.kind,
					"tax_name": taxNames[a.kind],
					"amount":   round2(a.amount),
				},
			})
		}
		return out
	})
}

// housingFund: a monthly deposit (汇缴) for the enterprise's covered employees from the month
// the account was opened; about one enterprise in six has no account.
func housingFund(code string, asOf time.Time) []Record {
	p := profileOf(code)
	base := rng("housing_fund.payment", code)
	if base.Float64() < 0.16 {
		return nil
	}
	account := digits(base, 12)
	opened := monthOf(time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)).add(base.IntN(18 * 12))
	covered := math.Max(1, math.Round(float64(p.employees)*between(base, 0.5, 1)))
	wageBase := logBetween(base, 2_500, 15_000)
	rate := float64(5+base.IntN(8)) / 100 // 5%–12% each from employer and employee
	return recentMonths(asOf, 12, func(m month) []Record {
		if m < opened {
			return nil
		}
		r := m.rngFor("housing_fund.payment", code)
		deposited := m.date(5 + r.IntN(21))
		if deposited.After(asOf) {
			return nil
		}
		employees := int(math.Max(1, math.Round(covered*between(r, 0.95, 1.05))))
		return []Record{{
			SourceID:   "HF" + account + m.compact(),
			OccurredOn: day(deposited),
			Data: map[string]any{
				"month":       m.String(),
				"employees":   employees,
				"amount":      round2(float64(employees) * wageBase * rate * 2),
				"months_paid": monthsBetween(opened, m) + 1,
			},
		}}
	})
}

var seasonal = [12]float64{1.2, 1.1, 1.0, 0.9, 0.9, 1.05, 1.25, 1.3, 1.05, 0.9, 1.0, 1.2}

// electricity: a monthly bill from the meter reading on the 1st–3rd of the following month.
func electricity(code string, asOf time.Time) []Record {
	p := profileOf(code)
	base := rng("utility.electricity", code)
	account := digits(base, 10)
	perHead, price := between(base, 150, 600), between(base, 0.75, 0.95)
	if p.industrial {
		perHead, price = between(base, 800, 4_000), between(base, 0.60, 0.75)
	}
	price = math.Round(price*10_000) / 10_000
	return recentMonths(asOf, 12, func(m month) []Record {
		r := m.rngFor("utility.electricity", code)
		read := m.add(1).date(1 + r.IntN(3))
		if read.After(asOf) {
			return nil
		}
		kwh := int(math.Round(float64(p.employees) * perHead * seasonal[m.mon()-1] * between(r, 0.9, 1.1)))
		return []Record{{
			SourceID:   "GRID" + account + m.compact(),
			OccurredOn: day(read),
			Data: map[string]any{
				"month":  m.String(),
				"kwh":    kwh,
				"amount": round2(float64(kwh) * price),
			},
		}}
	})
}

// realEstate: 0–3 registered properties; about three enterprises in ten own nothing. The
// certificate number follows the national format, e.g. 辽(2021)沈阳市不动产权第0123456号.
func realEstate(code string, asOf time.Time) []Record {
	p := profileOf(code)
	reg := regionOf(code)
	base := rng("real_estate.ownership", code)
	if base.Float64() < 0.3 {
		return nil
	}
	first := time.Date(2008, 1, 1, 0, 0, 0, 0, time.UTC)
	span := int(time.Date(2025, 12, 31, 0, 0, 0, 0, time.UTC).Sub(first).Hours() / 24)
	n := 1 + base.IntN(3)
	var out []Record
	for range n {
		registered := first.AddDate(0, 0, base.IntN(span+1))
		usage, area := "办公", logBetween(base, 60, 1_500)
		switch {
		case p.industrial:
			usage, area = "工业", logBetween(base, 800, 20_000)
		case base.Float64() < 0.4:
			usage, area = "商业", logBetween(base, 40, 800)
		}
		cert := fmt.Sprintf("%s(%d)%s不动产权第%s号", reg.abbr, registered.Year(), reg.city, digits(base, 7))
		id := "NRA" + digits(base, 12)
		if registered.After(asOf) {
			continue
		}
		data := map[string]any{"certificate_no": cert, "area_m2": round2(area), "usage": usage}
		if reg.city != "" {
			data["city"] = reg.city
		}
		out = append(out, Record{SourceID: id, OccurredOn: day(registered), Data: data})
	}
	return out
}

// numeric returns a payload value as a number, if it is one.
func numeric(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	}
	return 0, false
}

// text returns a payload value as the string an EQ claim is compared with.
func text(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case nil:
		return ""
	default:
		return strings.TrimSpace(fmt.Sprint(x))
	}
}

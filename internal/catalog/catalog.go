// Package catalog holds the catalog of credit information (信用信息目录): for every item its
// provider, access level, sharing mode, disclosure and retention periods (R17). Code asks the
// catalog; it never hard-codes what an item is.
package catalog

import (
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

//go:embed catalog.yaml
var defaultYAML []byte

// Access is who may use an item, and how.
type Access string

const (
	Public     Access = "public"
	Authorized Access = "authorized"
	VerifyOnly Access = "verify_only"
	ModelOnly  Access = "model_only"
)

// Mode is where an item's data lives (R4).
type Mode string

const (
	Collected      Mode = "collected"
	ProviderAPI    Mode = "provider_api"
	ProviderVerify Mode = "provider_verify"
)

// SelfProvider is the provider code of self-reported information.
const SelfProvider = "SELF"

// Period is an ISO-8601 calendar period (years, months, days; e.g. P3Y, P1Y6M, P0D).
type Period struct {
	Years, Months, Days int
	text                string
}

var periodRE = regexp.MustCompile(`^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$`)

// ParsePeriod parses an ISO-8601 date period.
func ParsePeriod(s string) (Period, error) {
	m := periodRE.FindStringSubmatch(s)
	if m == nil || s == "P" {
		return Period{}, fmt.Errorf("%q is not an ISO-8601 period such as P3Y, P6M or P0D", s)
	}
	atoi := func(x string) int {
		if x == "" {
			return 0
		}
		n, _ := strconv.Atoi(x) // the regexp guarantees digits
		return n
	}
	return Period{Years: atoi(m[1]), Months: atoi(m[2]), Days: atoi(m[3])*7 + atoi(m[4]), text: s}, nil
}

// AddTo returns the date d plus the period.
func (p Period) AddTo(d time.Time) time.Time { return d.AddDate(p.Years, p.Months, p.Days) }

// IsZero reports whether the period is empty (P0D).
func (p Period) IsZero() bool { return p.Years == 0 && p.Months == 0 && p.Days == 0 }

func (p Period) String() string { return p.text }

// DisclosureKind says how a disclosure rule is expressed.
type DisclosureKind int

const (
	// DisclosePeriod shows a record while occurredOn <= today < occurredOn + period.
	DisclosePeriod DisclosureKind = iota
	// DiscloseAlways shows a record from occurredOn on.
	DiscloseAlways
	// DiscloseWhileListed shows a record while occurredOn <= today < endsOn (no endsOn: listed).
	DiscloseWhileListed
	// DiscloseBySeverity takes the period from the record's severity field.
	DiscloseBySeverity
)

// Severities are the levels of an administrative penalty, mildest first.
var Severities = []string{"minor", "ordinary", "serious"}

// Disclosure is how long records of an item are shown to institutions.
type Disclosure struct {
	Kind       DisclosureKind
	Period     Period            // DisclosePeriod
	BySeverity map[string]Period // DiscloseBySeverity
}

func (d Disclosure) String() string {
	switch d.Kind {
	case DiscloseAlways:
		return "always"
	case DiscloseWhileListed:
		return "while_listed"
	case DiscloseBySeverity:
		parts := make([]string, 0, len(d.BySeverity))
		for _, s := range Severities {
			if p, ok := d.BySeverity[s]; ok {
				parts = append(parts, s+":"+p.String())
			}
		}
		return strings.Join(parts, " ")
	default:
		return d.Period.String()
	}
}

// Retention is how long records are kept at all; Always means forever.
type Retention struct {
	Always bool
	Period Period
}

func (r Retention) String() string {
	if r.Always {
		return "always"
	}
	return r.Period.String()
}

// Provider is a data provider (数据提供单位).
type Provider struct {
	Code string
	Name string
}

// Item is one catalog item.
type Item struct {
	Code       string
	Name       string
	Provider   string
	Access     Access
	Mode       Mode
	Disclosure Disclosure
	Retention  Retention
	Verifiable []string
	Repairable bool
	// MinDisclosure is how long a record must have been disclosed before repair may end it,
	// per severity for severity-based items (key "" otherwise).
	MinDisclosure map[string]Period
}

// IsVerifiable reports whether field may be the subject of a claim.
func (it *Item) IsVerifiable(field string) bool {
	for _, f := range it.Verifiable {
		if f == field {
			return true
		}
	}
	return false
}

// Catalog is a validated, immutable catalog.
type Catalog struct {
	Version   int
	providers []Provider
	items     []*Item
	byCode    map[string]*Item
	provByKey map[string]Provider
}

// Default returns the catalog embedded in the binary.
func Default() (*Catalog, error) { return Parse(defaultYAML) }

// Load reads and validates an operator's catalog file; an empty path gives the default.
func Load(path string) (*Catalog, error) {
	if path == "" {
		return Default()
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read catalog: %w", err)
	}
	c, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("catalog %s: %w", path, err)
	}
	return c, nil
}

// Items returns the items in catalog order.
func (c *Catalog) Items() []*Item { return c.items }

// Providers returns the providers in catalog order.
func (c *Catalog) Providers() []Provider { return c.providers }

// Item returns the item with the given code.
func (c *Catalog) Item(code string) (*Item, bool) {
	it, ok := c.byCode[code]
	return it, ok
}

// Provider returns the provider with the given code.
func (c *Catalog) Provider(code string) (Provider, bool) {
	p, ok := c.provByKey[code]
	return p, ok
}

// ItemsOf returns the codes of the items a provider supplies.
func (c *Catalog) ItemsOf(provider string) []string {
	var out []string
	for _, it := range c.items {
		if it.Provider == provider {
			out = append(out, it.Code)
		}
	}
	return out
}

type rawCatalog struct {
	Version   int           `yaml:"version"`
	Providers []rawProvider `yaml:"providers"`
	Items     []rawItem     `yaml:"items"`
}

type rawProvider struct {
	Code string `yaml:"code"`
	Name string `yaml:"name"`
}

type rawItem struct {
	Code          string    `yaml:"code"`
	Name          string    `yaml:"name"`
	Provider      string    `yaml:"provider"`
	Access        string    `yaml:"access"`
	Mode          string    `yaml:"mode"`
	Disclosure    yaml.Node `yaml:"disclosure"`
	MinDisclosure yaml.Node `yaml:"min_disclosure"`
	Retention     string    `yaml:"retention"`
	Verifiable    []string  `yaml:"verifiable"`
	Repairable    bool      `yaml:"repairable"`
}

var codeRE = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)

// Parse parses and validates a catalog; every error names the item and field at fault.
func Parse(b []byte) (*Catalog, error) {
	var raw rawCatalog
	dec := yaml.NewDecoder(strings.NewReader(string(b)))
	dec.KnownFields(true)
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("catalog is not valid YAML: %w", err)
	}
	c := &Catalog{Version: raw.Version, byCode: map[string]*Item{}, provByKey: map[string]Provider{}}
	var errs []error
	for i, p := range raw.Providers {
		switch {
		case p.Code == "":
			errs = append(errs, fmt.Errorf("provider #%d: code is empty", i+1))
			continue
		case p.Name == "":
			errs = append(errs, fmt.Errorf("provider %s: name is empty", p.Code))
		}
		if _, dup := c.provByKey[p.Code]; dup {
			errs = append(errs, fmt.Errorf("provider %s: listed twice", p.Code))
			continue
		}
		pr := Provider(p)
		c.providers = append(c.providers, pr)
		c.provByKey[p.Code] = pr
	}
	if len(raw.Items) == 0 {
		errs = append(errs, errors.New("catalog has no items"))
	}
	for i, r := range raw.Items {
		it, err := parseItem(r, c.provByKey)
		if err != nil {
			name := r.Code
			if name == "" {
				name = fmt.Sprintf("#%d", i+1)
			}
			errs = append(errs, fmt.Errorf("item %s: %w", name, err))
			continue
		}
		if _, dup := c.byCode[it.Code]; dup {
			errs = append(errs, fmt.Errorf("item %s: listed twice", it.Code))
			continue
		}
		c.items = append(c.items, it)
		c.byCode[it.Code] = it
	}
	if _, ok := c.byCode["registration.basic"]; !ok && len(errs) == 0 {
		errs = append(errs, errors.New("item registration.basic is required: enterprises are known by their registration"))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

func parseItem(r rawItem, providers map[string]Provider) (*Item, error) {
	if !codeRE.MatchString(r.Code) {
		return nil, fmt.Errorf("code %q must be dotted lower-case words", r.Code)
	}
	if r.Name == "" {
		return nil, errors.New("name is empty")
	}
	if _, ok := providers[r.Provider]; !ok {
		return nil, fmt.Errorf("unknown provider %q", r.Provider)
	}
	it := &Item{Code: r.Code, Name: r.Name, Provider: r.Provider, Verifiable: r.Verifiable, Repairable: r.Repairable}
	switch a := Access(r.Access); a {
	case Public, Authorized, VerifyOnly, ModelOnly:
		it.Access = a
	default:
		return nil, fmt.Errorf("unknown access level %q (public, authorized, verify_only or model_only)", r.Access)
	}
	switch m := Mode(r.Mode); m {
	case Collected, ProviderAPI, ProviderVerify:
		it.Mode = m
	default:
		return nil, fmt.Errorf("unknown mode %q (collected, provider_api or provider_verify)", r.Mode)
	}
	if it.Access == ModelOnly && len(it.Verifiable) > 0 {
		return nil, errors.New("a model_only item cannot have verifiable fields")
	}
	if it.Mode == ProviderVerify && it.Access != VerifyOnly {
		return nil, errors.New("mode provider_verify needs access verify_only")
	}
	if it.Provider == SelfProvider && it.Mode != Collected {
		return nil, errors.New("self-reported items must be collected")
	}
	d, err := parseDisclosure(&r.Disclosure)
	if err != nil {
		return nil, fmt.Errorf("disclosure: %w", err)
	}
	it.Disclosure = d
	switch r.Retention {
	case "always":
		it.Retention = Retention{Always: true}
	case "":
		return nil, errors.New("retention is missing")
	default:
		p, err := ParsePeriod(r.Retention)
		if err != nil {
			return nil, fmt.Errorf("retention: %w", err)
		}
		it.Retention = Retention{Period: p}
	}
	if r.MinDisclosure.Kind != 0 {
		md, err := parseMinDisclosure(&r.MinDisclosure, d)
		if err != nil {
			return nil, fmt.Errorf("min_disclosure: %w", err)
		}
		it.MinDisclosure = md
	}
	if it.Repairable && it.MinDisclosure == nil {
		it.MinDisclosure = map[string]Period{"": {text: "P0D"}}
	}
	return it, nil
}

func parseDisclosure(n *yaml.Node) (Disclosure, error) {
	switch n.Kind {
	case 0:
		return Disclosure{}, errors.New("is missing")
	case yaml.ScalarNode:
		switch n.Value {
		case "always":
			return Disclosure{Kind: DiscloseAlways}, nil
		case "while_listed":
			return Disclosure{Kind: DiscloseWhileListed}, nil
		}
		p, err := ParsePeriod(n.Value)
		if err != nil {
			return Disclosure{}, fmt.Errorf("%w, always or while_listed", err)
		}
		return Disclosure{Kind: DisclosePeriod, Period: p}, nil
	case yaml.MappingNode:
		m, err := parseSeverityMap(n)
		if err != nil {
			return Disclosure{}, err
		}
		return Disclosure{Kind: DiscloseBySeverity, BySeverity: m}, nil
	default:
		return Disclosure{}, errors.New("must be a period, always, while_listed or a map by severity")
	}
}

func parseSeverityMap(n *yaml.Node) (map[string]Period, error) {
	var m map[string]string
	if err := n.Decode(&m); err != nil {
		return nil, fmt.Errorf("severity map: %w", err)
	}
	out := map[string]Period{}
	for k, v := range m {
		if !isSeverity(k) {
			return nil, fmt.Errorf("unknown severity %q (minor, ordinary or serious)", k)
		}
		p, err := ParsePeriod(v)
		if err != nil {
			return nil, fmt.Errorf("severity %s: %w", k, err)
		}
		out[k] = p
	}
	for _, s := range Severities {
		if _, ok := out[s]; !ok {
			return nil, fmt.Errorf("severity %s has no period", s)
		}
	}
	return out, nil
}

func parseMinDisclosure(n *yaml.Node, d Disclosure) (map[string]Period, error) {
	if n.Kind == yaml.ScalarNode {
		p, err := ParsePeriod(n.Value)
		if err != nil {
			return nil, err
		}
		return map[string]Period{"": p}, nil
	}
	if d.Kind != DiscloseBySeverity {
		return nil, errors.New("a map by severity needs a disclosure by severity")
	}
	return parseSeverityMap(n)
}

func isSeverity(s string) bool {
	for _, v := range Severities {
		if v == s {
			return true
		}
	}
	return false
}

// SortedCodes returns the item codes sorted, for stable messages.
func (c *Catalog) SortedCodes() []string {
	out := make([]string, 0, len(c.items))
	for _, it := range c.items {
		out = append(out, it.Code)
	}
	sort.Strings(out)
	return out
}

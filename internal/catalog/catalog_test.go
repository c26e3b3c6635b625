package catalog

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestDefaultCatalog(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if got := len(c.Items()); got < 25 {
		t.Fatalf("default catalog has %d items", got)
	}
	pen, ok := c.Item("admin.penalty")
	if !ok {
		t.Fatal("admin.penalty missing")
	}
	if pen.Disclosure.Kind != DiscloseBySeverity || pen.Disclosure.BySeverity["serious"].Years != 3 || !pen.Disclosure.BySeverity["minor"].IsZero() {
		t.Fatalf("admin.penalty disclosure = %v", pen.Disclosure)
	}
	if pen.MinDisclosure["ordinary"].Months != 3 || !pen.Repairable {
		t.Fatalf("admin.penalty min disclosure = %v", pen.MinDisclosure)
	}
	hc, _ := c.Item("social_insurance.headcount")
	if hc.Access != VerifyOnly || !hc.IsVerifiable("headcount") || hc.IsVerifiable("amount") {
		t.Fatalf("headcount item = %+v", hc)
	}
	if _, ok := c.Provider("SAMR"); !ok {
		t.Fatal("provider SAMR missing")
	}
	if got := c.ItemsOf("COURT"); len(got) != 3 {
		t.Fatalf("COURT items = %v", got)
	}
}

const good = `
version: 1
providers:
  - {code: SAMR, name: market}
items:
  - {code: registration.basic, name: 登记, provider: SAMR, access: public, mode: collected, disclosure: always, retention: always}
`

func TestParseRefusesBadCatalogs(t *testing.T) {
	tests := []struct {
		name, item, want string
	}{
		{"unknown provider", `{code: x.y, name: X, provider: NOPE, access: public, mode: collected, disclosure: P1Y, retention: P5Y}`, `item x.y: unknown provider "NOPE"`},
		{"bad period", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, disclosure: P1X, retention: P5Y}`, `item x.y: disclosure: "P1X" is not an ISO-8601 period`},
		{"bad retention", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, disclosure: P1Y, retention: forever}`, `item x.y: retention: "forever"`},
		{"unknown access", `{code: x.y, name: X, provider: SAMR, access: secret, mode: collected, disclosure: P1Y, retention: P5Y}`, `item x.y: unknown access level "secret"`},
		{"unknown mode", `{code: x.y, name: X, provider: SAMR, access: public, mode: fax, disclosure: P1Y, retention: P5Y}`, `item x.y: unknown mode "fax"`},
		{"missing disclosure", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, retention: P5Y}`, `item x.y: disclosure: is missing`},
		{"unknown severity", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, disclosure: {minor: P0D, ordinary: P1Y, grave: P3Y}, retention: P5Y}`, `item x.y: disclosure: unknown severity "grave"`},
		{"missing severity", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, disclosure: {minor: P0D, ordinary: P1Y}, retention: P5Y}`, `item x.y: disclosure: severity serious has no period`},
		{"bad code", `{code: X Y, name: X, provider: SAMR, access: public, mode: collected, disclosure: P1Y, retention: P5Y}`, `must be dotted lower-case words`},
		{"model only verifiable", `{code: x.y, name: X, provider: SAMR, access: model_only, mode: collected, disclosure: P1Y, retention: P5Y, verifiable: [a]}`, `item x.y: a model_only item cannot have verifiable fields`},
		{"duplicate", `{code: registration.basic, name: X, provider: SAMR, access: public, mode: collected, disclosure: P1Y, retention: P5Y}`, `item registration.basic: listed twice`},
		{"unknown field", `{code: x.y, name: X, provider: SAMR, access: public, mode: collected, disclosure: P1Y, retention: P5Y, colour: red}`, `field colour not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(good + "  - " + tt.item + "\n"))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
		})
	}
	if _, err := Parse([]byte(good)); err != nil {
		t.Fatalf("good catalog refused: %v", err)
	}
}

func TestLoadOperatorFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "catalog.yaml")
	local := good + "  - {code: local.award, name: 省级荣誉, provider: SAMR, access: public, mode: collected, disclosure: P2Y, retention: P5Y}\n"
	if err := os.WriteFile(path, []byte(local), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.Item("local.award"); !ok {
		t.Fatal("local item missing")
	}
	if _, err := Load(filepath.Join(t.TempDir(), "missing.yaml")); err == nil {
		t.Fatal("a missing file must be an error")
	}
}

func TestPeriod(t *testing.T) {
	d := time.Date(2024, 2, 29, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want string
	}{
		{"P1Y", "2025-03-01"}, // Go normalizes Feb 29 + 1 year to Mar 1
		{"P3M", "2024-05-29"},
		{"P0D", "2024-02-29"},
		{"P2W", "2024-03-14"},
		{"P1Y2M3D", "2025-05-02"},
	}
	for _, tt := range tests {
		p, err := ParsePeriod(tt.in)
		if err != nil {
			t.Fatalf("%s: %v", tt.in, err)
		}
		if got := p.AddTo(d).Format("2006-01-02"); got != tt.want {
			t.Fatalf("%s + %s = %s, want %s", d.Format("2006-01-02"), tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "P", "3Y", "P-1Y", "PT1H", "P1.5Y"} {
		if _, err := ParsePeriod(bad); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

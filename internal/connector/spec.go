package connector

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
)

var providerCodeRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// ParseProviders parses a provider list such as the platform's CREDITD_PROVIDERS variable:
//
//	TAX=http://127.0.0.1:8091/TAX,HF=http://127.0.0.1:8091/HF
//
// Entries are CODE=BASEURL separated by commas (spaces around them are ignored); an empty spec
// gives an empty map. Secrets never appear in the spec: the secret of provider CODE is
// getenv("CREDITD_PROVIDER_SECRET_CODE"), or else getenv("CREDITD_PROVIDER_SECRET") (one secret
// for all, as with the development simulator); getenv may be nil (no secrets). Every error names
// the entry at fault.
func ParseProviders(spec string, getenv func(string) string) (map[string]Endpoint, error) {
	out := map[string]Endpoint{}
	if strings.TrimSpace(spec) == "" {
		return out, nil
	}
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	var errs []error
	for i, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		code, base, ok := strings.Cut(entry, "=")
		code, base = strings.TrimSpace(code), strings.TrimSpace(base)
		switch {
		case entry == "":
			errs = append(errs, fmt.Errorf("providers entry %d is empty", i+1))
			continue
		case !ok:
			errs = append(errs, fmt.Errorf("providers entry %d (%q) must be CODE=URL", i+1, entry))
			continue
		case !providerCodeRE.MatchString(code):
			errs = append(errs, fmt.Errorf("providers entry %d: code %q must be upper-case letters, digits and _", i+1, code))
			continue
		}
		if _, dup := out[code]; dup {
			errs = append(errs, fmt.Errorf("providers entry %d: provider %s is listed twice", i+1, code))
			continue
		}
		if _, err := checkBaseURL(base); err != nil {
			errs = append(errs, fmt.Errorf("providers entry %d (%s): %w", i+1, code, err))
			continue
		}
		secret := getenv("CREDITD_PROVIDER_SECRET_" + code)
		if secret == "" {
			secret = getenv("CREDITD_PROVIDER_SECRET")
		}
		out[code] = Endpoint{BaseURL: base, Secret: secret}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return out, nil
}

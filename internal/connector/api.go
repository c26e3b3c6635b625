package connector

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"creditd/internal/uscc"
)

// Record is one record of a provider_api item, as the provider returned it. It is meant to be
// shown and forgotten: the connector keeps no copy.
type Record struct {
	SourceID   string
	OccurredOn time.Time       // calendar date, midnight UTC
	EndsOn     *time.Time      // calendar date, midnight UTC; nil when the record has no end
	Data       json.RawMessage // a JSON object
}

// Op is a claim's comparison.
type Op string

const (
	OpEQ Op = "EQ" // the field's value equals Value
	OpGE Op = "GE" // the field's numeric value is >= Value
	OpLE Op = "LE" // the field's numeric value is <= Value
)

// Claim is what an institution asserts about a field of the enterprise's latest record. Value
// is the threshold actually to be tested (after any coarsening by the caller).
type Claim struct {
	Field string
	Op    Op
	Value string
}

// Outcome is a provider's answer to a claim.
type Outcome string

const (
	OutcomeMatch       Outcome = "MATCH"
	OutcomeNoMatch     Outcome = "NO_MATCH"
	OutcomeUnavailable Outcome = "UNAVAILABLE" // the provider has no record, or the field cannot be compared so
)

// wire formats

type wireRecord struct {
	SourceID   string          `json:"sourceId"`
	OccurredOn string          `json:"occurredOn"`
	EndsOn     *string         `json:"endsOn"`
	Data       json.RawMessage `json:"data"`
}

type recordsAnswer struct {
	Records *[]wireRecord `json:"records"`
}

type verifyRequest struct {
	USCC  string `json:"uscc"`
	Field string `json:"field"`
	Op    Op     `json:"op"`
	Value string `json:"value"`
}

type verifyAnswer struct {
	Result *Outcome `json:"result"`
}

// FetchRecords returns the provider's records of item for the enterprise uscc; an empty,
// non-nil slice when it holds none. Every error matches ErrUnavailable.
func (c *Client) FetchRecords(ctx context.Context, provider, item, uscc string) ([]Record, error) {
	const op = "records"
	p, norm, err := c.prepare(provider, item, op, uscc)
	if err != nil {
		return nil, err
	}
	var out []Record
	cl := &call{
		p: p, item: item, op: op, method: http.MethodGet, requestID: requestID(ctx),
		url: p.base + "/v1/items/" + url.PathEscape(item) + "/records?" + url.Values{"uscc": {norm}}.Encode(),
		decode: func(b []byte) error {
			recs, err := decodeRecords(b)
			out = recs
			return err
		},
	}
	if err := c.do(ctx, cl); err != nil {
		return nil, err
	}
	return out, nil
}

// Verify forwards the claim about the enterprise uscc to the provider, which tests it against
// its latest record of item. Every error matches ErrUnavailable; an answer of UNAVAILABLE from
// the provider is an Outcome, not an error.
func (c *Client) Verify(ctx context.Context, provider, item, uscc string, claim Claim) (Outcome, error) {
	const op = "verify"
	p, norm, err := c.prepare(provider, item, op, uscc)
	if err != nil {
		return "", err
	}
	switch {
	case claim.Field == "":
		return "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid, Err: errors.New("claim has no field")}
	case claim.Op != OpEQ && claim.Op != OpGE && claim.Op != OpLE:
		return "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid, Err: fmt.Errorf("claim operator %q is not EQ, GE or LE", claim.Op)}
	case claim.Value == "":
		return "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid, Err: errors.New("claim has no value")}
	}
	body, err := json.Marshal(verifyRequest{USCC: norm, Field: claim.Field, Op: claim.Op, Value: claim.Value})
	if err != nil {
		return "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid, Err: err}
	}
	var out Outcome
	cl := &call{
		p: p, item: item, op: op, method: http.MethodPost, requestID: requestID(ctx), body: body,
		url: p.base + "/v1/items/" + url.PathEscape(item) + "/verify",
		decode: func(b []byte) error {
			var a verifyAnswer
			if err := decodeStrict(b, &a); err != nil {
				return err
			}
			if a.Result == nil {
				return errors.New("answer has no result")
			}
			switch *a.Result {
			case OutcomeMatch, OutcomeNoMatch, OutcomeUnavailable:
				out = *a.Result
				return nil
			}
			return errors.New("answer's result is not MATCH, NO_MATCH or UNAVAILABLE")
		},
	}
	if err := c.do(ctx, cl); err != nil {
		return "", err
	}
	return out, nil
}

// prepare checks the arguments common to both calls and normalizes the USCC.
func (c *Client) prepare(provider, item, op, code string) (*provider, string, error) {
	p, ok := c.providers[provider]
	if !ok {
		return nil, "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonNotConfigured,
			Err: errors.New("no endpoint is configured for this provider")}
	}
	if item == "" {
		return nil, "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid, Err: errors.New("item is empty")}
	}
	norm, err := uscc.Parse(code)
	if err != nil {
		// The message would repeat the code; say only that it is not valid.
		return nil, "", &Error{Provider: provider, Item: item, Op: op, Reason: ReasonInvalid,
			Err: errors.New("not a valid unified social credit code")}
	}
	return p, string(norm), nil
}

func decodeRecords(b []byte) ([]Record, error) {
	var a recordsAnswer
	if err := decodeStrict(b, &a); err != nil {
		return nil, err
	}
	if a.Records == nil {
		return nil, errors.New("answer has no records list")
	}
	out := make([]Record, 0, len(*a.Records))
	for i, w := range *a.Records {
		r, err := w.record()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", i+1, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func (w wireRecord) record() (Record, error) {
	if w.SourceID == "" {
		return Record{}, errors.New("sourceId is empty")
	}
	occurred, err := parseDate(w.OccurredOn)
	if err != nil {
		return Record{}, fmt.Errorf("occurredOn: %w", err)
	}
	r := Record{SourceID: w.SourceID, OccurredOn: occurred}
	if w.EndsOn != nil {
		ends, err := parseDate(*w.EndsOn)
		if err != nil {
			return Record{}, fmt.Errorf("endsOn: %w", err)
		}
		r.EndsOn = &ends
	}
	data := bytes.TrimSpace(w.Data)
	if len(data) == 0 || data[0] != '{' {
		return Record{}, errors.New("data is not a JSON object")
	}
	r.Data = json.RawMessage(data)
	return r, nil
}

// parseDate accepts exactly YYYY-MM-DD.
func parseDate(s string) (time.Time, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || t.Format(time.DateOnly) != s {
		return time.Time{}, errors.New("not a date YYYY-MM-DD")
	}
	return t, nil
}

// Package connector calls data providers live, for the two sharing modes in which the data stay
// with the provider (R4): interface calls (接口调用, catalog mode provider_api), in which the
// platform fetches an enterprise's records of an item on demand and never stores them, and data
// verification (数据核验, mode provider_verify), in which the platform forwards a claim and the
// provider answers whether its own data match.
//
// The connector is plumbing only. It is used under a grant that the caller has already checked;
// it never decides access, never stores or caches what it receives, and never logs record data,
// enterprise codes or claim values.
//
// # Wire protocol
//
// Each provider exposes a base URL (for example https://api.tax.example/creditd or, with the
// development simulator, http://127.0.0.1:8091/TAX). Requests and answers are JSON (UTF-8,
// Content-Type application/json). Every request carries
//
//	Authorization: Bearer <shared secret of that provider>   (omitted when no secret is configured)
//	X-Request-Id: <id>                                        (the same id on every retry of one call)
//
// Records of a provider_api item for one enterprise:
//
//	GET {base}/v1/items/{item}/records?uscc={USCC}
//	200 {"records":[{"sourceId":"…","occurredOn":"YYYY-MM-DD","endsOn":null,"data":{…}}]}
//
// The list is empty when the provider holds nothing for the enterprise. endsOn is null or a
// date; data is a JSON object.
//
// Verification of a claim against the provider's latest record (by occurredOn) of the item:
//
//	POST {base}/v1/items/{item}/verify
//	     {"uscc":"…","field":"area_m2","op":"GE","value":"120"}
//	200 {"result":"MATCH"}            MATCH | NO_MATCH | UNAVAILABLE
//
// op is GE or LE (numeric comparison: latest value >= or <= the claimed value) or EQ
// (equality). The provider answers UNAVAILABLE when it has no record for the enterprise or when
// GE/LE is asked of a field whose value is not a number. The platform sends nothing but the
// claim: the enterprise's code, the field, the operator and the threshold.
//
// Errors are answered with a status and {"error":"<short reason>"}: 400 for a malformed request
// (bad USCC, operator, value or field), 401 for a missing or wrong secret, 404
// {"error":"unknown item"} for an item the provider does not serve, 429 or 5xx when it is
// overloaded or down.
//
// # Failure handling
//
// Each attempt has its own timeout. Network errors, timeouts, 429 and 5xx answers are retried
// with exponential backoff and jitter; other 4xx answers and malformed answers are not. A circuit
// breaker per provider opens after consecutive failed attempts (network errors, timeouts, 429,
// 5xx, malformed answers; not 4xx, which show the provider is up) and lets a trial request
// through after a cool-down. Answers are size-limited and decoded strictly (unknown fields,
// trailing data, bad dates or a non-object data are refused). Every error returned by the client
// is a *Error that matches ErrUnavailable, so a caller can answer UNAVAILABLE without looking
// further; its Reason tells operators what went wrong.
package connector

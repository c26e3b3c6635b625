package ingest

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
)

func penalty(sourceID, code, occurred, data string) Row {
	return Row{SourceID: sourceID, USCC: code, OccurredOn: occurred, Data: json.RawMessage(data)}
}

func TestSubmit(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	ctx := context.Background()
	a, b, c := code(t, 101), code(t, 102), code(t, 103)
	register(t, l, a, b, c)

	t.Run("new rows are accepted, the same rows again are duplicates", func(t *testing.T) {
		rows := []Row{
			penalty("NEW-1", a, "2025-01-10", `{"severity":"minor","amount":500,"authority":"杭州市市场监督管理局"}`),
			penalty("NEW-2", b, "2025-02-10", `{"severity":"serious","amount":20000}`),
			penalty("NEW-3", strings.ToLower(c), "2025-03-10", `{"severity":"ordinary"}`),
		}
		before := countRecords(t, pool, "admin.penalty")
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", rows)
		if err != nil {
			t.Fatal(err)
		}
		if res.Accepted != 3 || res.Updated != 0 || res.Duplicates != 0 || len(res.Rejected) != 0 {
			t.Fatalf("first submit: %+v", res)
		}
		if got := countRecords(t, pool, "admin.penalty"); got != before+3 {
			t.Fatalf("records = %d, want %d", got, before+3)
		}
		r := mustRecord(t, pool, "NDRC", "admin.penalty", "NEW-3")
		if r.uscc != c || r.version != 1 || r.occurredOn != "2025-03-10" || r.endsOn != nil {
			t.Fatalf("stored NEW-3 = %+v", r)
		}
		if r.data["severity"] != "ordinary" {
			t.Fatalf("stored data = %v", r.data)
		}

		// Same content, different spelling: key order, spacing and number forms.
		rows[0].Data = json.RawMessage(`{ "authority":"杭州市市场监督管理局", "amount":5e2, "severity":"minor" }`)
		res, err = l.Submit(ctx, "NDRC", "admin.penalty", rows)
		if err != nil {
			t.Fatal(err)
		}
		if res.Duplicates != 3 || res.Accepted != 0 || res.Updated != 0 || len(res.Rejected) != 0 {
			t.Fatalf("second submit: %+v", res)
		}
		if got := countRecords(t, pool, "admin.penalty"); got != before+3 {
			t.Fatalf("records after the repeat = %d, want %d", got, before+3)
		}
	})

	t.Run("a changed row is a correction with history", func(t *testing.T) {
		first := penalty("COR-1", a, "2025-04-01", `{"severity":"minor","amount":100}`)
		if res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{first}); err != nil || res.Accepted != 1 {
			t.Fatalf("submit: %+v, %v", res, err)
		}
		changed := first
		changed.Data = json.RawMessage(`{"severity":"ordinary","amount":100}`)
		changed.EndsOn = "2025-10-01"
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{changed})
		if err != nil {
			t.Fatal(err)
		}
		if res.Updated != 1 || res.Accepted != 0 || res.Duplicates != 0 {
			t.Fatalf("correction: %+v", res)
		}
		r := mustRecord(t, pool, "NDRC", "admin.penalty", "COR-1")
		if r.version != 2 || r.data["severity"] != "ordinary" || r.endsOn == nil || *r.endsOn != "2025-10-01" {
			t.Fatalf("corrected record = %+v", r)
		}
		var version int
		var occurred, old string
		var ends *string
		err = pool.QueryRow(ctx, `
			SELECT v.version, v.occurred_on::text, v.ends_on::text, v.data->>'severity'
			FROM record_versions v JOIN records r ON r.uscc = v.uscc AND r.id = v.record_id
			WHERE r.source_id = 'COR-1'`).Scan(&version, &occurred, &ends, &old)
		if err != nil {
			t.Fatal(err)
		}
		if version != 1 || occurred != "2025-04-01" || ends != nil || old != "minor" {
			t.Fatalf("kept version = %d %s %v %s", version, occurred, ends, old)
		}

		// A correction of only the date is a correction too; sending it again is a duplicate.
		changed.OccurredOn = "2025-04-02"
		for i, want := range []Result{{Updated: 1}, {Duplicates: 1}} {
			res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{changed})
			if err != nil {
				t.Fatal(err)
			}
			if res.Updated != want.Updated || res.Duplicates != want.Duplicates || res.Accepted != 0 {
				t.Fatalf("date correction #%d: %+v", i+1, res)
			}
		}
		if r := mustRecord(t, pool, "NDRC", "admin.penalty", "COR-1"); r.version != 3 {
			t.Fatalf("version after the date correction = %d, want 3", r.version)
		}
	})

	t.Run("a sourceId cannot move to another enterprise", func(t *testing.T) {
		if res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{penalty("MOVE-1", a, "2025-01-01", `{"severity":"minor"}`)}); err != nil || res.Accepted != 1 {
			t.Fatalf("submit: %+v, %v", res, err)
		}
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{penalty("MOVE-1", b, "2025-01-01", `{"severity":"minor"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) != 1 || res.Rejected[0].SourceID != "MOVE-1" || !strings.Contains(res.Rejected[0].Reason, "already used for another enterprise") {
			t.Fatalf("move: %+v", res)
		}
		if r := mustRecord(t, pool, "NDRC", "admin.penalty", "MOVE-1"); r.uscc != a || r.version != 1 {
			t.Fatalf("moved record = %+v", r)
		}
	})

	t.Run("records of unknown enterprises are rejected", func(t *testing.T) {
		stranger := code(t, 999)
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{penalty("UNK-1", stranger, "2025-01-01", `{"severity":"minor"}`)})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) != 1 || !strings.Contains(res.Rejected[0].Reason, "unknown enterprise") {
			t.Fatalf("unknown enterprise: %+v", res)
		}
		if _, ok := record(t, pool, "NDRC", "admin.penalty", "UNK-1"); ok {
			t.Fatal("the record of an unknown enterprise was stored")
		}
	})

	t.Run("one bad row rejects only itself", func(t *testing.T) {
		rows := []Row{
			penalty("MIX-1", a, "2025-05-01", `{"severity":"minor"}`),
			penalty("MIX-2", badCheck(b), "2025-05-01", `{"severity":"minor"}`),
			penalty("MIX-3", b, "2025-05-01", `{"amount":1}`),
			penalty("MIX-4", c, "2025-05-01", `{"severity":"serious"}`),
		}
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", rows)
		if err != nil {
			t.Fatal(err)
		}
		checkSum(t, res, len(rows))
		if res.Accepted != 2 || len(res.Rejected) != 2 {
			t.Fatalf("mixed: %+v", res)
		}
		if r := res.Rejected[0]; r.Line != 2 || r.SourceID != "MIX-2" || !strings.Contains(r.Reason, "uscc: invalid unified social credit code: wrong check character") {
			t.Fatalf("rejection 1 = %+v", r)
		}
		if r := res.Rejected[1]; r.Line != 3 || r.SourceID != "MIX-3" || !strings.Contains(r.Reason, "data.severity") {
			t.Fatalf("rejection 2 = %+v", r)
		}
		for _, id := range []string{"MIX-1", "MIX-4"} {
			mustRecord(t, pool, "NDRC", "admin.penalty", id)
		}
	})

	t.Run("rejections keep the caller's line numbers", func(t *testing.T) {
		rows := []Row{
			{Line: 40, SourceID: "LN-1", USCC: a, OccurredOn: "2025-13-01", Data: json.RawMessage(`{"severity":"minor"}`)},
			{Line: 41, SourceID: "LN-2", USCC: a, OccurredOn: "2025-01-01", Data: json.RawMessage(`{"severity":"minor"}`)},
		}
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", rows)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Rejected) != 1 || res.Rejected[0].Line != 40 || !strings.Contains(res.Rejected[0].Reason, "occurredOn") {
			t.Fatalf("%+v", res)
		}
	})

	t.Run("a sourceId repeated in one call applies in order", func(t *testing.T) {
		rows := []Row{
			penalty("REP-1", a, "2025-06-01", `{"severity":"minor"}`),
			penalty("REP-2", a, "2025-06-01", `{"severity":"minor"}`),
			penalty("REP-1", a, "2025-06-01", `{"severity":"serious"}`),
			penalty("REP-1", a, "2025-06-01", `{"severity":"serious"}`),
			penalty("REP-2", b, "2025-06-01", `{"severity":"minor"}`),
		}
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", rows)
		if err != nil {
			t.Fatal(err)
		}
		checkSum(t, res, len(rows))
		if res.Accepted != 2 || res.Updated != 1 || res.Duplicates != 1 || len(res.Rejected) != 1 || res.Rejected[0].Line != 5 {
			t.Fatalf("repeats: %+v", res)
		}
		if r := mustRecord(t, pool, "NDRC", "admin.penalty", "REP-1"); r.version != 2 || r.data["severity"] != "serious" {
			t.Fatalf("REP-1 = %+v", r)
		}
	})

	t.Run("registration creates and updates the enterprise", func(t *testing.T) {
		d := code(t, 104)
		reg := Row{SourceID: "REG-X", USCC: d, OccurredOn: "2018-01-01",
			Data: json.RawMessage(`{"name":"杭州新设科技有限公司","region_code":"330106","industry_code":"I6510","size":"micro","subject_type":"enterprise"}`)}
		if res, err := l.Submit(ctx, "SAMR", Registration, []Row{reg}); err != nil || res.Accepted != 1 {
			t.Fatalf("register: %+v, %v", res, err)
		}
		var name, region, industry, size, subject string
		read := func() {
			t.Helper()
			if err := pool.QueryRow(ctx, `SELECT name, region_code, industry_code, size, subject_type FROM enterprises WHERE uscc = $1`, d).
				Scan(&name, &region, &industry, &size, &subject); err != nil {
				t.Fatal(err)
			}
		}
		read()
		if name != "杭州新设科技有限公司" || region != "330106" || industry != "I6510" || size != "micro" || subject != "enterprise" {
			t.Fatalf("enterprise = %s %s %s %s %s", name, region, industry, size, subject)
		}
		reg.Data = json.RawMessage(`{"name":"杭州更名科技有限公司","region_code":330108,"industry_code":"I6510","size":"small","subject_type":"enterprise"}`)
		if res, err := l.Submit(ctx, "SAMR", Registration, []Row{reg}); err != nil || res.Updated != 1 {
			t.Fatalf("re-register: %+v, %v", res, err)
		}
		read()
		if name != "杭州更名科技有限公司" || region != "330108" || size != "small" {
			t.Fatalf("updated enterprise = %s %s %s", name, region, size)
		}
		// Of several registration records, the latest by occurredOn describes the enterprise,
		// whatever the order they arrive in.
		rows := []Row{
			{SourceID: "REG-X2", USCC: d, OccurredOn: "2024-01-01", Data: json.RawMessage(`{"name":"杭州二次变更有限公司","size":"medium"}`)},
			{SourceID: "REG-X1", USCC: d, OccurredOn: "2020-01-01", Data: json.RawMessage(`{"name":"杭州一次变更有限公司"}`)},
		}
		if res, err := l.Submit(ctx, "SAMR", Registration, rows); err != nil || res.Accepted != 2 {
			t.Fatalf("more registrations: %+v, %v", res, err)
		}
		var regionPtr *string
		if err := pool.QueryRow(ctx, `SELECT name, region_code, size FROM enterprises WHERE uscc = $1`, d).Scan(&name, &regionPtr, &size); err != nil {
			t.Fatal(err)
		}
		if name != "杭州二次变更有限公司" || regionPtr != nil || size != "medium" {
			t.Fatalf("enterprise after more registrations = %s %v %s", name, regionPtr, size)
		}
		// Records of the new enterprise are now accepted.
		if res, err := l.Submit(ctx, "NDRC", "admin.penalty", []Row{penalty("AFTER-REG", d, "2025-01-01", `{"severity":"minor"}`)}); err != nil || res.Accepted != 1 {
			t.Fatalf("penalty after registration: %+v, %v", res, err)
		}
	})

	t.Run("whole-call rules", func(t *testing.T) {
		row := []Row{penalty("W-1", a, "2025-01-01", `{"severity":"minor"}`)}
		tests := []struct {
			provider, item string
			want           []string
		}{
			{"NDRC", "no.such.item", []string{`"no.such.item"`, "not in the catalog"}},
			{"SAMR", "admin.penalty", []string{"admin.penalty", "supplied by provider NDRC, not SAMR"}},
			{"TAX", "tax.payment", []string{"tax.payment", "mode provider_api", "only collected"}},
			{"NRA", "real_estate.ownership", []string{"real_estate.ownership", "mode provider_verify"}},
			{"SELF", "self.reported", []string{"self.reported", "self-reported"}},
			{"NDRC", "self.reported", []string{"self.reported", "self-reported"}},
		}
		for _, tc := range tests {
			_, err := l.Submit(ctx, tc.provider, tc.item, row)
			wantBadInput(t, err, tc.want...)
		}
		if _, ok := record(t, pool, "NDRC", "admin.penalty", "W-1"); ok {
			t.Fatal("a refused call stored a record")
		}
	})

	t.Run("more than 1000 rows are refused", func(t *testing.T) {
		rows := make([]Row, MaxSubmitRows+1)
		for i := range rows {
			rows[i] = penalty(fmt.Sprintf("BIG-%d", i), a, "2025-01-01", `{"severity":"minor"}`)
		}
		_, err := l.Submit(ctx, "NDRC", "admin.penalty", rows)
		wantBadInput(t, err, "at most 1000 rows", "1001")
		if _, ok := record(t, pool, "NDRC", "admin.penalty", "BIG-0"); ok {
			t.Fatal("a refused call stored a record")
		}
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", rows[:MaxSubmitRows])
		if err != nil || res.Accepted != MaxSubmitRows {
			t.Fatalf("1000 rows: %+v, %v", len(res.Rejected), err)
		}
	})

	t.Run("an empty call does nothing", func(t *testing.T) {
		res, err := l.Submit(ctx, "NDRC", "admin.penalty", nil)
		if err != nil || res.Accepted+res.Updated+res.Duplicates != 0 || res.Rejected == nil || len(res.Rejected) != 0 {
			t.Fatalf("%+v, %v", res, err)
		}
	})
}

// TestSubmitConcurrentMoves races loads that put one sourceId on different enterprises:
// exactly one wins, whatever the interleaving.
func TestSubmitConcurrentMoves(t *testing.T) {
	l, pool := newTestLoader(t, 0)
	ctx := context.Background()
	codes := make([]string, 6)
	for i := range codes {
		codes[i] = code(t, 200+i)
	}
	register(t, l, codes...)
	for round := 0; round < 5; round++ {
		sourceID := fmt.Sprintf("RACE-%d", round)
		var wg sync.WaitGroup
		results := make([]Result, len(codes))
		errs := make([]error, len(codes))
		for i, c := range codes {
			wg.Go(func() {
				results[i], errs[i] = l.Submit(ctx, "NDRC", "admin.penalty", []Row{penalty(sourceID, c, "2025-01-01", `{"severity":"minor"}`)})
			})
		}
		wg.Wait()
		accepted, rejected := 0, 0
		for i := range codes {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			accepted += results[i].Accepted
			rejected += len(results[i].Rejected)
		}
		if accepted != 1 || rejected != len(codes)-1 {
			t.Fatalf("round %d: accepted %d, rejected %d", round, accepted, rejected)
		}
		var n int
		if err := pool.QueryRow(ctx, `SELECT count(*) FROM records WHERE source_id = $1`, sourceID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Fatalf("round %d: %d records for one sourceId", round, n)
		}
	}
}
